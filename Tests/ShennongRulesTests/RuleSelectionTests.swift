import ShennongAlerts
import ShennongCore
import Testing

@testable import ShennongRules

/// One engine over many devices decides per device which rules apply, whatever it remembers
/// of devices alike (a county's 5,000 sensors share a profile, domain and site): a device
/// named by a rule, or with other attributes, gets its own rules, not its neighbour's.
struct RuleSelectionTests {
    static func gauge(_ id: String, _ attributes: [String: Double] = [:], site: String = "reach-a") -> Device {
        Device(
            id: id, profile: "water-level-gauge", domain: .flood, site: site, createdAt: t0 - 86_400_000,
            attributes: attributes)
    }

    @Test("alike devices share the rules that apply; a named device, other attributes or another site do not")
    func selectionPerDevice() throws {
        let named = try rule("""
            - id: named-gauge
              metric: water_level
              condition: { kind: threshold }
              select: { devices: [gauge-named] }
              levels:
                red: { at_least: 10 }
            """)
        let stage = try rule("""
            - id: stage
              metric: water_level
              condition: { kind: threshold }
              levels:
                yellow: { at_least: { attribute: warning_stage } }
            """)
        let own = try rule("""
            - id: own-numbers
              metric: water_level
              condition: { kind: threshold }
              select: { sites: [reach-b] }
              levels:
                orange: { at_least: 100 }
              devices:
                gauge-own: { blue: { at_least: 10 } }
            """)
        let stages = ["warning_stage": 10.0]
        let devices = [
            Self.gauge("gauge-plain"),
            Self.gauge("gauge-named"),
            Self.gauge("gauge-staged", stages),
            Self.gauge("gauge-staged-2", stages),
            Self.gauge("gauge-other-stage", ["warning_stage": 50]),
            Self.gauge("gauge-own"),
            Self.gauge("gauge-b", site: "reach-b"),
        ]
        let engine = AlertEngine(rules: [named, stage, own], options: EngineOptions(lateAfter: hour))
        engine.setDevices(devices.map { ($0, nil) })
        // Every gauge at 20 m, one reading each, in one burst.
        let readings = devices.map { Reading(device: $0.id, metric: "water_level", timestamp: t0, value: 20) }
        let result = try engine.evaluate(readings: readings, now: t0 + 1000, history: { $0.map { _ in [] } })
        let raised = Dictionary(grouping: result.changes, by: \.device).mapValues { Set($0.map(\.rule)) }
        #expect(raised["gauge-plain"] == nil, "\(raised)")
        #expect(raised["gauge-named"] == ["named-gauge"], "\(raised)")
        #expect(raised["gauge-staged"] == ["stage"], "\(raised)")
        #expect(raised["gauge-staged-2"] == ["stage"], "\(raised)")
        #expect(raised["gauge-other-stage"] == nil, "20 m is below this gauge's own warning stage: \(raised)")
        #expect(raised["gauge-own"] == ["own-numbers"], "\(raised)")
        #expect(raised["gauge-b"] == nil, "20 m is below the rule's 100 for reach-b: \(raised)")
        #expect(result.changes.first { $0.device == "gauge-own" }?.to == .blue)
    }
}
