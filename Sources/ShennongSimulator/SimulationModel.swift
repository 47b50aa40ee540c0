import Foundation
import ShennongCore

/// A simulated field device: its id, domain, and where it stands (``DemoCounty``).
public struct SimulatedDevice: Sendable, Hashable {
    /// The device id (`sim-pond-001`, …).
    public var id: String
    /// The domain whose metrics it reports.
    public var domain: Domain
    /// The site it belongs to (`清新区太和镇渔场`, a pond farm; `连江阳山河段`, a river reach).
    public var site: String
    /// Index within its domain, to vary the readings between devices of one kind.
    public var index: Int
    /// Its name, in Chinese (`太和渔场1号塘水质仪`).
    public var name: String
    public var latitude: Double
    public var longitude: Double
    /// GB/T 2260 code of its county or district.
    public var areaCode: String
    /// A river gauge's `warning_stage`, `guaranteed_stage` and `historical_max_stage` (m).
    public var attributes: [String: Double]

    /// The device as `serve --simulate` registers it: the generic profile (it publishes
    /// canonical names), its domain, site, name and place. `createdAt` is 0: whoever
    /// registers it stamps the time.
    public var registration: Device {
        Device(
            id: id, profile: "generic", domain: domain, site: site, name: name, latitude: latitude, longitude: longitude,
            areaCode: areaCode, createdAt: 0, attributes: attributes)
    }
}

/// Realistic, deterministic readings for simulated devices of the five domains.
///
/// Everything is a pure function of (seed, device, time): the same seed gives the same
/// readings, so runs can be compared and tests can know what to expect. Time of day is
/// Guangdong local time (UTC+8). Weather drives the rest: rain events raise soil moisture
/// and river levels, and soil dries between rains; water temperature and dissolved oxygen
/// follow the sun, with oxygen sagging at dawn.
public struct SimulationModel: Sendable {
    /// The seed every value is a function of.
    public let seed: UInt64

    /// The model for `seed`.
    public init(seed: UInt64) { self.seed = seed }

    /// `count` devices spread round-robin over the five domains, each placed at a site of
    /// ``DemoCounty`` (a pond farm, a vegetable plot, a forest station, a river reach).
    public static func devices(count: Int) -> [SimulatedDevice] {
        let kinds: [(Domain, String)] = [(.water, "pond"), (.soil, "soil"), (.weather, "aws"), (.fire, "fire"), (.flood, "gauge")]
        return (0..<max(0, count)).map { i in
            let (domain, prefix) = kinds[i % kinds.count]
            let index = i / kinds.count + 1
            let place = DemoCounty.place(domain, index: index)
            return SimulatedDevice(
                id: String(format: "sim-%@-%03d", prefix, index), domain: domain, site: place.site.site, index: index,
                name: place.name, latitude: place.latitude, longitude: place.longitude, areaCode: place.site.areaCode,
                attributes: place.site.attributes)
        }
    }

    /// Canonical metric values of `device` at `time` (ms), for a report covering the
    /// `interval` ms before it (rainfall is the increment over that interval).
    public func values(for device: SimulatedDevice, at time: Int64, interval: Int64) -> [String: Double] {
        let hour = localHour(time)
        let n = { (k: UInt64) in self.noise(device, time, k) }
        let air = 24 + 5 * sin(2 * .pi * (hour - 9) / 24) + 0.4 * n(1)
        switch device.domain {
        case .water:
            let waterTemp = 27 + 2 * sin(2 * .pi * (hour - 10) / 24) + 0.1 * n(2)
            // Photosynthesis by day, respiration by night: lowest just before dawn.
            let oxygen = 6.2 + 2.6 * sin(2 * .pi * (hour - 11) / 24) + 0.15 * n(3) - 0.2 * Double(device.index % 3)
            return [
                "water_temp": round(waterTemp, 2), "dissolved_oxygen": round(max(0.5, oxygen), 2),
                "ph": round(7.4 + 0.4 * sin(2 * .pi * (hour - 13) / 24) + 0.05 * n(4), 2),
                "turbidity": round(18 + 3 * n(5) + 2 * rainOver(time, hours: 6), 1),
                "conductivity": round(420 + 15 * n(6), 1),
                "ammonia_nitrogen": round(0.35 + 0.05 * n(7), 3),
                "battery_voltage": round(12.6 + 0.1 * n(8), 2),
            ]
        case .soil:
            let moisture = min(45, 18 + 1.2 * soilWetness(time) + 0.3 * n(2))
            return [
                "soil_moisture": round(moisture, 1),
                "soil_relative_moisture": round(moisture / 40 * 100, 1),
                "soil_temp": round(23 + 3 * sin(2 * .pi * (hour - 11) / 24) + 0.1 * n(3), 2),
                "soil_ec": round(0.45 + 0.03 * n(4), 3),
                "battery_voltage": round(3.6 + 0.05 * n(5), 2),
            ]
        case .weather:
            let sun = max(0, sin(.pi * (hour - 6) / 12))
            return [
                "air_temp": round(air, 2),
                "relative_humidity": round(min(100, max(20, 78 - 15 * sin(2 * .pi * (hour - 9) / 24) + 3 * n(2) + 10 * (rainRate(time) > 0 ? 1 : 0))), 1),
                "rainfall": round(rainRate(time) * Double(interval) / 3_600_000, 1),
                "wind_speed": round(max(0, 2.5 + 1.5 * n(3) + 0.3 * rainRate(time)), 1),
                "wind_direction": round((135 + 40 * n(4)).truncatingRemainder(dividingBy: 360), 0),
                "air_pressure": round(1008 + 2 * sin(2 * .pi * hour / 12) + 0.3 * n(5), 1),
                "solar_radiation": round(max(0, 850 * sun * (rainRate(time) > 0 ? 0.3 : 1) + 20 * n(6)), 0),
            ]
        case .fire:
            return [
                "smoke": round(max(0, 0.05 + 0.03 * n(2)), 2),
                "co": round(max(0, 1.5 + 0.5 * n(3)), 1),
                "flame": 0,
                "ir_max_temp": round(air + 4 + 1.5 * n(4), 1),
                "battery_voltage": round(12.2 + 0.1 * n(5), 2),
            ]
        case .flood, .health:
            let level = 2.1 + 0.08 * rainOver(time, hours: 12) + 0.01 * n(2) + 0.3 * Double(device.index % 2)
            return [
                "water_level": round(level, 3),
                "flow": round(max(0, 35 * pow(max(0, level - 1.2), 1.6) + 0.5 * n(3)), 2),
                "battery_voltage": round(12.4 + 0.1 * n(4), 2),
            ]
        }
    }

    /// Rain rate (mm/h) at `time`: about one hour in twelve has rain, of 1–20 mm/h.
    public func rainRate(_ time: Int64) -> Double {
        let hourIndex = UInt64(max(0, time) / 3_600_000)
        let h = mix(seed &+ 0x5261_696E, hourIndex)
        guard h % 100 < 8 else { return 0 }
        return 1 + Double((h >> 8) % 190) / 10
    }

    /// Rain (mm) over the `hours` before `time`.
    func rainOver(_ time: Int64, hours: Int) -> Double {
        (0..<hours).reduce(0) { $0 + rainRate(time - Int64($1) * 3_600_000) }
    }

    /// Antecedent wetness: rain of the last three days, older rain counting less.
    func soilWetness(_ time: Int64) -> Double {
        (0..<72).reduce(0) { sum, age in sum + rainRate(time - Int64(age) * 3_600_000) * exp(-Double(age) / 30) }
    }

    func localHour(_ time: Int64) -> Double {
        let ms = (time + 8 * 3_600_000) % 86_400_000
        return Double(ms) / 3_600_000
    }

    /// Deterministic noise in [-1, 1] for (device, time to the second, channel).
    func noise(_ device: SimulatedDevice, _ time: Int64, _ channel: UInt64) -> Double {
        var h = mix(seed, UInt64(truncatingIfNeeded: device.id.hashValueStable))
        h = mix(h, UInt64(max(0, time) / 1000))
        h = mix(h, channel)
        return Double(h >> 11) / Double(1 << 53) * 2 - 1
    }

    func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &+ b &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func round(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across runs (unlike `hashValue`).
    var hashValueStable: UInt64 {
        utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
