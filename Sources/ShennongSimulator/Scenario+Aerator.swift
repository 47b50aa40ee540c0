import Foundation
import ShennongCore

/// The `aerator` scenario's ponds as a value: dissolved oxygen that sags with the aerator off
/// and rises with it on, and how each pond answers a command. No I/O: ``Simulator`` publishes
/// what this decides (Simulator+Aerator.swift).
public struct AeratorPonds: Sendable {
    /// One pond and its aerator.
    public struct Pond: Sendable, Hashable {
        public var id: String
        /// Whether its aerator obeys commands (pond 02's does not: no reply, no change).
        public var obeys: Bool
        public var oxygen: Double
        public var aerator: Bool
        public var temp: Double
    }

    public static let obeying = "sim-aerator-pond-01"
    public static let ignoring = "sim-aerator-pond-02"
    /// DO change per report (mg/L): down with the aerator off, up with it on.
    public static let sag = 0.08
    public static let rise = 0.15

    public static let registrations: [Device] = [
        Device(
            id: obeying, profile: "pond-oxygen-probe", domain: .water, site: "清新区太平镇鱼塘", name: "太平镇 1 号鱼塘（增氧机）",
            latitude: 23.733, longitude: 112.986, areaCode: "441803", createdAt: 0),
        Device(
            id: ignoring, profile: "pond-oxygen-probe", domain: .water, site: "清新区太平镇鱼塘", name: "太平镇 2 号鱼塘（增氧机故障）",
            latitude: 23.734, longitude: 112.988, areaCode: "441803", createdAt: 0),
    ]

    public var ponds: [Pond]
    private var rng: SplitMix

    /// The ponds as the history leaves them: DO about 3.6 mg/L, aerators off.
    public init(seed: UInt64) {
        rng = SplitMix(seed: seed ^ 0xAE7A_70E5)
        ponds = [
            Pond(id: Self.obeying, obeys: true, oxygen: 3.6, aerator: false, temp: 28.0),
            Pond(id: Self.ignoring, obeys: false, oxygen: 3.5, aerator: false, temp: 28.4),
        ]
    }

    /// One report of pond `i`: its DO moves one step (with a little noise), bounded to 1–8 mg/L.
    public mutating func step(_ i: Int) -> Pond {
        let noise = Scenario.noise(&rng, 0.02)
        let delta = ponds[i].aerator ? Self.rise : -Self.sag
        ponds[i].oxygen = Scenario.round(min(8, max(1, ponds[i].oxygen + delta + noise)), 100)
        return ponds[i]
    }

    /// What pond `device` does with a command payload (`{"id","name",…}`): the reply to publish
    /// on its reply topic, or `nil` (the ignoring pond, or a payload that is not a command).
    /// `aerator_on` / `aerator_off` switch an obeying pond's aerator; `set_do_limits` is acknowledged.
    public mutating func command(device: String, payload: [UInt8]) -> [UInt8]? {
        guard let i = ponds.firstIndex(where: { $0.id == device }), ponds[i].obeys,
            case .object(let o)? = try? JSONParser.parse(payload), case .string(let id)? = o["id"],
            case .string(let name)? = o["name"]
        else { return nil }
        let status: String
        let detail: String
        switch name {
        case "aerator_on":
            ponds[i].aerator = true
            (status, detail) = ("ok", "增氧机已开启")
        case "aerator_off":
            ponds[i].aerator = false
            (status, detail) = ("ok", "增氧机已关闭")
        case "set_do_limits": (status, detail) = ("ok", "已设置")
        default: (status, detail) = ("failed", "unknown command \(name)")
        }
        return Array(#"{"id":\#(JSONValue.string(id).description),"status":"\#(status)","detail":"\#(detail)"}"#.utf8)
    }

    /// The vendor payload of a pond report (`do`, `temp`, `aerator`: the pond-oxygen-probe profile).
    public static func telemetry(_ pond: Pond, ts: Int64) -> [UInt8] {
        Array(#"{"ts":\#(ts),"do":\#(pond.oxygen),"temp":\#(pond.temp),"aerator":\#(pond.aerator)}"#.utf8)
    }

    /// The hour before the live part, one report a minute per pond: presence online, then DO
    /// sagging from about 5.5 to about 3.6 mg/L with the aerators off (canonical form 1).
    static func history(_ rng: inout SplitMix, end: Int64) -> [Scenario.Message] {
        var messages: [Scenario.Message] = registrations.map {
            Scenario.Message(device: $0.id, ts: end - 3_600_000, values: [:], topic: .status, payload: Array("online".utf8))
        }
        let step: Int64 = 60_000
        for k in 0...60 {
            let ts = end - Int64(60 - k) * step
            for (i, pond) in registrations.enumerated() {
                let fall = 5.5 - 1.9 * Double(k) / 60 - 0.1 * Double(i)
                messages.append(
                    Scenario.Message(
                        device: pond.id, ts: ts,
                        values: [
                            "dissolved_oxygen": Scenario.round(fall + Scenario.noise(&rng, 0.03), 100), "water_temp": 28.0 + 0.4 * Double(i),
                            "aerator_on": 0,
                        ]))
            }
        }
        return messages
    }
}
