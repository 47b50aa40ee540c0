import Foundation
import ShennongCore

/// A scripted episode the simulator plays instead of its steady model: every reading's
/// timestamp is fixed by the script, so hours of weather are published in seconds and the
/// rules evaluate them at their own times. Deterministic for a seed.
public enum Scenario: String, Sendable, CaseIterable {
    /// A rain gauge (`sim-rain-001`) under a rainstorm: drizzle, then 12 mm/h, 24 mm/h and
    /// 60 mm/h, reporting every 5 minutes. Its sums cross the CMA rainstorm signals in order:
    /// yellow (50 mm in 6 h), orange (50 mm in 3 h), red (100 mm in 3 h), and the torrent
    /// critical rainfall on the way.
    case rainstorm
    /// A pond (`sim-pond-001`) whose dissolved oxygen sinks from 5.5 to 1.5 mg/L at night,
    /// reporting every minute: below 3 mg/L (orange) and below 2 mg/L (red).
    case doCrash = "do-crash"
    /// A soil probe (`sim-drought-001`) through four weeks without rain, one report every
    /// 3 h: relative soil moisture falls from about 78 % to about 25 % of field capacity,
    /// crossing the GB/T 32136 drought grades light (≤ 60), moderate (≤ 50), severe (≤ 40)
    /// and extreme (≤ 30) in order, each held far longer than the preset's 6 h.
    case drought
    /// Fire weather building over six days on a weather station (`sim-aws-fire`, hourly):
    /// afternoon maxima 26 → 35 °C, minimum humidity 65 → 18 %, wind rising, no rain. A
    /// fire-watch node nearby (`sim-firewatch-001`, hourly, then every minute in the last
    /// half hour) sees the IR maximum climb, then smoke, CO and the flame sensor trip.
    case fire
    /// A pond probe (`sim-silent-001`) reports every minute for an hour, then falls silent:
    /// its last message is the retained `offline` on `agri/sim-silent-001/status` that its
    /// MQTT last will carries.
    case silent
    /// A DTU gateway (`sim-dtu-001`, dtu-gateway profile) with two ponds behind it
    /// (`sim-dtu-pond-01`, `-02`) loses its uplink for 6 hours, buffering a frame every
    /// 5 minutes; pond 02's oxygen crashes below 2 mg/L during the outage. When the link
    /// returns it flushes the buffer as arrays of 12 frames (oldest first, each with its own
    /// past `ts`), then sends one live frame.
    case backfill
    /// A storm over a torrent-prone catchment of the 连江 at 阳山县黎埠镇, then the river below
    /// it, 12 h of 5-minute reports: the rain gauge (`sim-flood-rain-001`) sums 146 mm, 52 mm
    /// in its wettest hour, crossing the torrent critical rainfall (1 h yellow, 3 h orange,
    /// 6 h orange, 24 h yellow) and the rainstorm signals; the creek gauge beside it
    /// (`sim-flood-creek-001`) rises about 1.5 m in an hour; hours later the river gauge
    /// downstream (`sim-flood-river-001`, registered with its stages: warning 12.5 m,
    /// guaranteed 13.8 m, highest 15.2 m) passes 12.0, 12.5 and 13.8 m, still rising at the end.
    case flood
    /// Two ponds with aerator controllers (`sim-aerator-pond-01`, `-02`, pond-oxygen-probe
    /// profile): an hour of history in which dissolved oxygen sags at night with the aerators
    /// off, then live, in real time: each pond obeys the commands on its command topic (DO
    /// rises while its aerator runs, sags otherwise) and reports `aerator_on`; pond 02's
    /// aerator ignores every command (no reply, no change). See Scenario+Aerator.swift.
    case aerator

    /// One message of the script.
    public struct Message: Sendable, Hashable {
        /// Where the message goes.
        public enum Topic: Sendable, Hashable {
            /// `{prefix}/{device}/telemetry`
            case telemetry
            /// `{prefix}/{device}/status` (retained), the payload is `presence`.
            case status
        }

        /// The publishing device's id.
        public var device: String
        /// The message's time (the newest reading it carries).
        public var ts: Int64
        /// Canonical values (payload form 1); empty when `payload` is given.
        public var values: [String: Double]
        /// Telemetry or presence.
        public var topic: Topic = .telemetry
        /// The exact payload, when it is not form 1 of `values` (a gateway's frames, a
        /// presence message).
        public var payload: [UInt8]? = nil

        /// The bytes to publish.
        public var bytes: [UInt8] { payload ?? Simulator.payload(ts: ts, values: values) }
        /// Whether the broker should retain it (presence is retained, as birth and will are).
        public var retain: Bool { topic == .status }
    }

    /// Devices the scenario needs registered before it plays (a gateway is only split into
    /// its children when registered with its gateway profile; a river gauge's stage warnings
    /// compare to its `warning_stage` and `guaranteed_stage`; unknown devices get the default
    /// profile and nothing else). `shennong serve --scenario` registers them; beside a running
    /// server, add them with `shennong devices add` or `devices import`. `createdAt` is 0:
    /// whoever registers them stamps the time.
    public var registrations: [Device] {
        switch self {
        case .backfill: [Device(id: "sim-dtu-001", profile: "dtu-gateway", domain: .water, createdAt: 0)]
        case .flood: Self.floodRegistrations
        case .aerator: AeratorPonds.registrations
        case .rainstorm, .doCrash, .drought, .fire, .silent: []
        }
    }

    /// The script, its last reading stamped `end` (ms), in publishing order.
    public func messages(seed: UInt64, end: Int64) -> [Message] {
        var rng = SplitMix(seed: seed ^ 0x5CE7_A210)
        switch self {
        case .drought: return Self.drought(&rng, end: end)
        case .fire: return Self.fire(&rng, end: end)
        case .silent: return Self.silent(&rng, end: end)
        case .backfill: return Self.backfill(&rng, end: end)
        case .flood: return Self.flood(&rng, end: end)
        case .aerator: return AeratorPonds.history(&rng, end: end)
        case .rainstorm:
            // mm per 5-minute report: 1 h of drizzle, then 50 reports at 1 mm, 14 at 2 mm,
            // 16 at 5 mm, and half an hour of nothing. A seeded ±0.1 mm on the storm
            // reports keeps the order of the crossings (the 3 h sum stays below 44 mm until
            // the 2 mm reports).
            var rain: [Double] = (0..<12).map { _ in Double(rng.next() % 3) / 10 }
            for (count, base) in [(50, 1.0), (14, 2.0), (16, 5.0)] {
                for _ in 0..<count { rain.append(base + Double(Int(rng.next() % 3) - 1) / 10) }
            }
            rain += Array(repeating: 0, count: 6)
            let step: Int64 = 300_000
            let start = end - Int64(rain.count - 1) * step
            return rain.enumerated().map { i, mm in
                Message(device: "sim-rain-001", ts: start + Int64(i) * step, values: ["rainfall": (mm * 10).rounded() / 10])
            }
        case .doCrash:
            let step: Int64 = 60_000
            let count = 90
            let start = end - Int64(count - 1) * step
            return (0..<count).map { i in
                let fall = 5.5 - 4.0 * Double(i) / Double(count - 1)
                let noise = Double(Int(rng.next() % 5) - 2) / 100
                return Message(
                    device: "sim-pond-001", ts: start + Int64(i) * step,
                    values: ["dissolved_oxygen": ((fall + noise) * 100).rounded() / 100, "water_temp": 28.5])
            }
        }
    }
}

extension Scenario {
    /// A seeded value in `-amplitude...amplitude` (steps of amplitude/100).
    static func noise(_ rng: inout SplitMix, _ amplitude: Double) -> Double {
        Double(Int(rng.next() % 201) - 100) / 100 * amplitude
    }

    static func round(_ v: Double, _ digits: Double = 10) -> Double { (v * digits).rounded() / digits }

    /// Hour of the local (UTC+8) day of `t`, 0..<24 with fractions.
    static func localHour(_ t: Int64) -> Double {
        Double((t + 8 * 3_600_000) % 86_400_000) / 3_600_000
    }

    static func drought(_ rng: inout SplitMix, end: Int64) -> [Message] {
        let step: Int64 = 3 * 3_600_000
        let count = 28 * 8
        let start = end - Int64(count - 1) * step
        let fieldCapacity = 0.36  // m³/m³ of a Guangdong paddy loam [check]
        return (0..<count).map { i in
            let t = start + Int64(i) * step
            let days = Double(i) / 8
            // Fast drying at first, slower as the soil dries; flattening near 25 %.
            let dry = 53 * (1 - exp(-days / 11)) / (1 - exp(-28.0 / 11))
            let hour = localHour(t)
            let daily = -0.4 * sin((hour - 9) / 24 * 2 * .pi)  // afternoon dip from evaporation
            let relative = round(max(20, 78 - dry + daily + noise(&rng, 0.3)))
            let soilTemp = round(24 + 3.5 * sin((hour - 10) / 24 * 2 * .pi) + days * 0.08 + noise(&rng, 0.2), 100)
            return Message(
                device: "sim-drought-001", ts: t,
                values: [
                    "soil_relative_moisture": relative, "soil_moisture": round(relative * fieldCapacity),
                    "soil_temp": soilTemp,
                ])
        }
    }

    static func fire(_ rng: inout SplitMix, end: Int64) -> [Message] {
        let hour: Int64 = 3_600_000
        let minute: Int64 = 60_000
        let alarmMinutes = 30
        let alarmStart = end - Int64(alarmMinutes - 1) * minute
        let hours = 6 * 24
        let start = alarmStart - Int64(hours) * hour
        var messages: [Message] = []
        for i in 0..<hours {
            let t = start + Int64(i) * hour
            let progress = Double(i) / Double(hours - 1)  // 0 → 1 over six days
            let h = localHour(t)
            let diurnal = sin((h - 8) / 24 * 2 * .pi)  // peaks mid-afternoon
            let tMax = 26 + 9 * progress, tMin = 17 + 5 * progress
            let air = round((tMax + tMin) / 2 + (tMax - tMin) / 2 * diurnal + noise(&rng, 0.3), 100)
            let rhMin = 65 - 47 * progress, rhMax = 92 - 30 * progress
            let humidity = round(max(10, (rhMax + rhMin) / 2 - (rhMax - rhMin) / 2 * diurnal + noise(&rng, 1)))
            let wind = round(max(0, 2 + 7 * progress * (0.6 + 0.4 * max(0, diurnal)) + noise(&rng, 0.5)))
            messages.append(
                Message(
                    device: "sim-aws-fire", ts: t,
                    values: [
                        "air_temp": air, "relative_humidity": humidity, "wind_speed": wind, "rainfall": 0,
                        "air_pressure": round(1008 - 4 * progress + noise(&rng, 0.5)),
                    ]))
            messages.append(
                Message(
                    device: "sim-firewatch-001", ts: t + 30_000,
                    values: [
                        "smoke": round(0.04 + abs(noise(&rng, 0.02)), 100), "co": round(1.5 + abs(noise(&rng, 0.8))),
                        "flame": 0, "ir_max_temp": round(air + 6 + 8 * max(0, diurnal) + noise(&rng, 1)),
                        "battery_voltage": round(3.9 - 0.15 * progress, 100),
                    ]))
        }
        // The last half hour on the fire-watch node: heat, then smoke and CO, then flame.
        for m in 0..<alarmMinutes {
            let t = alarmStart + Int64(m) * minute
            let x = Double(m) / Double(alarmMinutes - 1)
            let smoke = x < 0.3 ? 0.05 + x : 0.35 + 18 * pow((x - 0.3) / 0.7, 1.5)
            let co = x < 0.3 ? 2 + 5 * x : 3.5 + 150 * pow((x - 0.3) / 0.7, 1.5)
            messages.append(
                Message(
                    device: "sim-firewatch-001", ts: t,
                    values: [
                        "smoke": round(smoke + abs(noise(&rng, 0.03)), 100), "co": round(co + abs(noise(&rng, 0.5))),
                        "flame": x >= 0.75 ? 1 : 0, "ir_max_temp": round(45 + 330 * x * x + noise(&rng, 2)),
                        "battery_voltage": 3.75,
                    ]))
        }
        return messages
    }

    static func silent(_ rng: inout SplitMix, end: Int64) -> [Message] {
        let step: Int64 = 60_000
        let count = 60
        let start = end - Int64(count - 1) * step
        var messages = (0..<count).map { i in
            Message(
                device: "sim-silent-001", ts: start + Int64(i) * step,
                values: ["dissolved_oxygen": round(6.2 + noise(&rng, 0.3), 100), "water_temp": round(27.4 + noise(&rng, 0.2), 100)])
        }
        messages.append(Message(device: "sim-silent-001", ts: end, values: [:], topic: .status, payload: Array("offline".utf8)))
        return messages
    }

    static func backfill(_ rng: inout SplitMix, end: Int64) -> [Message] {
        let step: Int64 = 300_000
        let buffered = 72  // 6 h of frames, every 5 minutes
        let start = end - Int64(buffered) * step
        let ponds = ["sim-dtu-pond-01", "sim-dtu-pond-02"]
        struct Child {
            var oxygen: Double
            var temp: Double
            var aerator: Bool
        }
        func frame(_ t: Int64, seq: Int, _ children: [Child]) -> String {
            var text = "{\"ts\":\(t),\"seq\":\(seq),\"devices\":{"
            for (i, child) in children.enumerated() {
                if i > 0 { text += "," }
                text += "\"\(ponds[i])\":{\"do\":\(child.oxygen),\"temp\":\(child.temp),\"aerator\":\(child.aerator)}"
            }
            return text + "}}"
        }
        var frames: [(ts: Int64, text: String)] = []
        for i in 0...buffered {
            let t = start + Int64(i) * step
            let x = Double(i) / Double(buffered)
            // Pond 02 sinks to about 1.6 mg/L at x ≈ 0.45 (its aerator failed), recovers once it is restarted.
            let sag = x < 0.45 ? 5.6 - 4.0 * x / 0.45 : min(5.2, 1.6 + 8 * (x - 0.45))
            let children = [
                Child(oxygen: round(6.4 - 0.6 * x + noise(&rng, 0.1), 100), temp: round(27.0 + noise(&rng, 0.2), 100), aerator: false),
                Child(oxygen: round(sag + noise(&rng, 0.05), 100), temp: round(28.2 + noise(&rng, 0.2), 100), aerator: x >= 0.5),
            ]
            frames.append((t, frame(t, seq: 1000 + i, children)))
        }
        // The buffer goes up in arrays of 12 frames, oldest first; the last frame is live.
        var messages: [Message] = []
        let live = frames.removeLast()
        for chunk in stride(from: 0, to: frames.count, by: 12) {
            let part = frames[chunk..<min(chunk + 12, frames.count)]
            messages.append(
                Message(
                    device: "sim-dtu-001", ts: part.last!.ts, values: [:],
                    payload: Array(("[" + part.map(\.text).joined(separator: ",") + "]").utf8)))
        }
        messages.append(Message(device: "sim-dtu-001", ts: live.ts, values: [:], payload: Array(live.text.utf8)))
        return messages
    }
}

extension Scenario {
    /// The flood scenario's rain gauge and creek gauge in one torrent-prone catchment, and
    /// the river gauge below it with its stages (m above its datum).
    static let floodRegistrations: [Device] = [
        Device(
            id: "sim-flood-rain-001", profile: "generic", domain: .flood, site: "阳山县黎埠镇山洪沟", name: "黎埠山洪沟雨量站",
            latitude: 24.553, longitude: 112.472, areaCode: "441823", createdAt: 0),
        Device(
            id: "sim-flood-creek-001", profile: "generic", domain: .flood, site: "阳山县黎埠镇山洪沟", name: "黎埠山洪沟水位站",
            latitude: 24.556, longitude: 112.468, areaCode: "441823", createdAt: 0),
        Device(
            id: "sim-flood-river-001", profile: "generic", domain: .flood, site: "连江青莲河段", name: "连江青莲水位站",
            latitude: 24.335, longitude: 112.795, areaCode: "441823", createdAt: 0,
            attributes: ["warning_stage": 12.5, "guaranteed_stage": 13.8, "historical_max_stage": 15.2]),
    ]

    static func flood(_ rng: inout SplitMix, end: Int64) -> [Message] {
        let step: Int64 = 300_000
        let count = 12 * 12 + 1  // 12 h of 5-minute reports
        let start = end - Int64(count - 1) * step
        // mm/h in each hour of the storm, 146 mm in all; the wettest hour is the sixth.
        let hourly: [Double] = [1, 2, 4, 10, 26, 52, 34, 12, 4, 1]
        let rain: [Double] = (0..<count).map { i in
            let base = i / 12 < hourly.count ? hourly[i / 12] / 12 : 0
            return base > 0 ? max(0, round(base + noise(&rng, 0.1))) : 0
        }
        // The creek answers the last hour's rain within 20 minutes, steeply once it is heavy.
        func lastHour(_ i: Int) -> Double { i < 0 ? 0 : rain[max(0, i - 11)...i].reduce(0, +) }
        // The river answers the catchment's rain an hour later, spread over hours: a cascade
        // of two linear reservoirs (5 h each) under the 1 h travel time.
        func river(_ i: Int) -> Double {
            let k = 5.0
            return (0...i).reduce(10.6) { stage, j in
                let hours = Double(i - j) / 12 - 1
                return hours > 0 ? stage + 0.34 * rain[j] * hours / (k * k) * exp(-hours / k) : stage
            }
        }
        var messages: [Message] = []
        for i in 0..<count {
            let t = start + Int64(i) * step
            messages.append(Message(device: "sim-flood-rain-001", ts: t, values: ["rainfall": rain[i]]))
            let creek = 0.45 + 0.0065 * pow(lastHour(i - 4), 1.5)
            messages.append(Message(device: "sim-flood-creek-001", ts: t, values: ["water_level": round(creek + noise(&rng, 0.01), 100)]))
            messages.append(Message(device: "sim-flood-river-001", ts: t, values: ["water_level": round(river(i) + noise(&rng, 0.01), 100)]))
        }
        return messages
    }
}

/// SplitMix64: a small deterministic generator for scenarios.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
