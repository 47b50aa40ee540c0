import Foundation
import ShennongAlerts
import ShennongCore
import Testing

@testable import ShennongRules

/// The river-stage preset (Config/rules/river-stage.yaml) reads each gauge's stages from its
/// own attributes (STANDARDS.md "Flood and mountain torrents"): blue near the warning stage
/// (0.5 m below it), yellow at it, orange at the guaranteed stage, red at the historical maximum.
struct RiverStagePresetTests {
    static func preset() throws -> Rule {
        let path = RuleFileTests.repository.appendingPathComponent("Config/rules/river-stage.yaml").path
        let parsed = RuleParser.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        return try #require(parsed.rules.first { $0.id == "river-stage" })
    }

    static func gauge(_ attributes: [String: Double], id: String = "gauge-1") -> Device {
        Device(
            id: id, profile: "water-level-gauge", domain: .flood, site: "reach-a", createdAt: t0 - 86_400_000,
            attributes: attributes)
    }

    static let stages = ["warning_stage": 12.5, "guaranteed_stage": 13.8, "historical_max_stage": 15.2]

    /// A river rising a step every 20 minutes, one reading a minute: below every stage, then
    /// 0.4 m below the warning stage, above it, above the guaranteed stage, above the maximum.
    static let rising: [(Int64, Double)] =
        (0..<10).map { ($0, 11.0) } + (10..<30).map { ($0, 12.1) } + (30..<50).map { ($0, 12.6) }
        + (50..<70).map { ($0, 13.9) } + (70..<90).map { ($0, 15.3) }

    @Test("the preset's levels are the gauge's own attributes: warning_stage − 0.5, warning_stage, guaranteed_stage, historical_max_stage")
    func presetLevels() throws {
        let r = try Self.preset()
        #expect(r.overrides.isEmpty, "no example gauge: every gauge with its stages")
        #expect(r.levels[.blue]?.attribute == AttributeThreshold(attribute: "warning_stage", offset: -0.5))
        #expect(r.levels[.yellow]?.attribute == AttributeThreshold(attribute: "warning_stage"))
        #expect(r.levels[.orange]?.attribute == AttributeThreshold(attribute: "guaranteed_stage"))
        #expect(r.levels[.red]?.attribute == AttributeThreshold(attribute: "historical_max_stage"))
        #expect(r.levels.values.allSatisfy { $0.comparison == .atLeast })
        let resolved = r.levels(for: Self.gauge(Self.stages))
        #expect(resolved.mapValues(\.threshold) == [.blue: 12.0, .yellow: 12.5, .orange: 13.8, .red: 15.2])
    }

    @Test("a gauge registered with its stages, rising through them, gets blue, yellow, orange, red, each after 10 minutes")
    func gaugeWithStages() throws {
        let result = try changes([try Self.preset()], device: Self.gauge(Self.stages), metric: "water_level", Self.rising)
        #expect(
            steps(result) == [Step(20, nil, .blue), Step(40, .blue, .yellow), Step(60, .yellow, .orange), Step(80, .orange, .red)])
        #expect(result.map(\.threshold) == [12.0, 12.5, 13.8, 15.2])
        #expect(result[1].message.contains("≥ 12.5"), "\(result[1].message)")
        // Another gauge's stages give it its own levels from the same rule.
        let low = try changes(
            [try Self.preset()], device: Self.gauge(["warning_stage": 4.5, "guaranteed_stage": 6.2, "historical_max_stage": 7.0], id: "gauge-2"),
            metric: "water_level", [(0, 4.0), (1, 4.1), (11, 4.2), (12, 4.6), (22, 4.6)])
        #expect(steps(low) == [Step(11, nil, .blue), Step(22, .blue, .yellow)])
    }

    @Test("a gauge without the stage attributes is skipped by the rule: no alert, no error")
    func gaugeWithoutStages() throws {
        let r = try Self.preset()
        let bare = Self.gauge([:])
        #expect(!r.applies(to: bare))
        #expect(try changes([r], device: bare, metric: "water_level", Self.rising).isEmpty)
        // Other attributes are not stages.
        #expect(try changes([r], device: Self.gauge(["depth_cm": 30]), metric: "water_level", Self.rising).isEmpty)
    }

    @Test("a gauge with only its warning stage gets the levels that stage gives (blue, yellow) and no others")
    func gaugeWithWarningStageOnly() throws {
        let r = try Self.preset()
        let gauge = Self.gauge(["warning_stage": 12.5])
        #expect(r.applies(to: gauge))
        #expect(steps(try changes([r], device: gauge, metric: "water_level", Self.rising)) == [Step(20, nil, .blue), Step(40, .blue, .yellow)])
    }

    @Test("attribute thresholds: parsed with their offset, shown by name, refused where malformed")
    func attributeThresholdsParse() throws {
        let r = try rule("""
            - id: stage
              metric: water_level
              condition: { kind: threshold }
              levels:
                yellow: { above: { attribute: warning_stage, offset: 0.25 } }
                orange: { at_least: 13 }
            """)
        #expect(r.levels[.yellow] == LevelSpec(comparison: .above, threshold: 0.25, attribute: AttributeThreshold(attribute: "warning_stage", offset: 0.25)))
        #expect(r.levels[.yellow]?.thresholdText == "> warning_stage + 0.25")
        #expect(r.levels[.orange]?.thresholdText == "≥ 13")
        // Attribute-less: the numeric level only.
        #expect(r.levels(for: Self.gauge([:])).keys.sorted() == [.orange])
        #expect(r.levels(for: Self.gauge(["warning_stage": 12])).mapValues(\.threshold) == [.yellow: 12.25, .orange: 13])

        let bad = """
            rules:
              - id: a
                metric: water_level
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: { offset: 1 } }
              - id: b
                metric: water_level
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: { attribute: warning_stage, offset: high } }
              - id: c
                metric: water_level
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: { attribute: warning_stage, scale: 2 } }
              - id: d
                metric: dissolved_oxygen
                condition: { kind: fraction, good: { above: { attribute: do_min } } }
                levels:
                  yellow: { below: 16 }
            """
        let (rules, errors) = RuleParser.parse(yaml: bad, file: "bad.yaml")
        #expect(rules.isEmpty, "\(rules.map(\.id))")
        let lines = errors.map(\.line)
        #expect(errors.contains { $0.message.contains("needs `attribute:`") && $0.line == 6 }, "\(errors)")
        #expect(errors.contains { $0.message.contains("offset must be a number") && $0.line == 11 }, "\(errors)")
        #expect(errors.contains { $0.message.contains("unknown key `scale`") && $0.line == 16 }, "\(errors)")
        #expect(errors.contains { $0.message.contains("must be a number, not a mapping") && $0.line == 19 }, "\(errors)")
        #expect(lines.allSatisfy { $0 > 0 })
    }

    @Test("levels on different attributes are not ordered by their offsets; on the same attribute they are")
    func orderingChecks() {
        let ok = """
            rules:
              - id: stage
                metric: water_level
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: { attribute: warning_stage, offset: 1 } }
                  orange: { at_least: { attribute: guaranteed_stage } }
            """
        #expect(RuleParser.parse(yaml: ok, file: "ok.yaml").errors.isEmpty)
        let wrong = ok.replacingOccurrences(of: "guaranteed_stage", with: "warning_stage")
        let errors = RuleParser.parse(yaml: wrong, file: "wrong.yaml").errors
        #expect(errors.contains { $0.message.contains("less severe") }, "\(errors)")
    }
}
