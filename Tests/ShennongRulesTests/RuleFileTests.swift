import Foundation
import ShennongAlerts
import ShennongCore
import Testing

@testable import ShennongRules

struct RuleFileTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("rule files: every problem is reported with its line")
    func errorsHaveLineNumbers() {
        let yaml = """
            rules:
              - id: bad
                metric: rainfal
                condition: { kind: window, aggregate: total }
                levels:
                  purple: { at_least: 1 }
              - id: ok
                metric: rainfall
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: 5 }
              - id: worse
                metric: rainfall
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: 5 }
                  red: { at_least: 1 }
                colour: red
              - id: ok
                metric: rainfall
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: 5 }
            """
        let (rules, errors) = RuleParser.parse(yaml: yaml, file: "bad.yaml")
        #expect(errors.contains { $0.line == 3 && $0.message.contains("unknown metric `rainfal`") }, "\(errors)")
        #expect(errors.contains { $0.line == 4 && $0.message.contains("aggregate") }, "\(errors)")
        #expect(errors.contains { $0.line == 6 && $0.message.contains("purple") }, "\(errors)")
        #expect(errors.contains { $0.message.contains("red (1.0) is less severe than yellow (5.0)") }, "\(errors)")
        #expect(errors.contains { $0.line == 18 && $0.message.contains("unknown key `colour`") }, "\(errors)")
        #expect(errors.contains { $0.line == 19 && $0.message.contains("already used on line 7") }, "\(errors)")
        #expect(errors.allSatisfy { $0.line > 0 })
        // Only the good rule is kept.
        #expect(rules.map(\.id) == ["ok"])
        #expect(errors.first?.description.hasPrefix("bad.yaml:") == true)
    }

    @Test("a YAML syntax error is reported with its line")
    func yamlSyntaxError() {
        let (_, errors) = RuleParser.parse(yaml: "rules:\n  - id: x\n    levels: { yellow: [\n", file: "broken.yaml")
        #expect(errors.count == 1)
        #expect((errors.first?.line ?? 0) >= 3)
    }

    @Test("every preset in Config/rules parses, cites its source, and marks secondary numbers [check]")
    func presetsParse() throws {
        let directory = Self.repository.appendingPathComponent("Config/rules").path
        let (rules, errors) = RuleLoader.load(directory: directory)
        #expect(errors.isEmpty, "\(errors)")
        let ids = Set(rules.map(\.id))
        for required in [
            "pond-do-16of24", "pond-do-low", "pond-ph", "surface-do-class", "soil-drought", "rainstorm", "torrent-1h",
            "river-stage", "water-level-rise", "fire-danger", "fire-nesterov", "fire-flame", "frost", "heat", "gale",
            "device-silence", "quality-do-stuck",
        ] {
            #expect(ids.contains(required), "missing preset \(required)")
        }
        #expect(rules.allSatisfy { $0.source != nil }, "every preset rule names its source")
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".yaml") {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            #expect(text.hasPrefix("#") && text.contains("Source"), "\(name) starts with a comment citing its source")
        }
        // The rainstorm preset encodes the CMA signals.
        let rainstorm = try #require(rules.first { $0.id == "rainstorm" })
        #expect(rainstorm.levels[.yellow] == LevelSpec(comparison: .atLeast, threshold: 50, window: 6 * 3_600_000))
        #expect(rainstorm.levels[.red] == LevelSpec(comparison: .atLeast, threshold: 100, window: 3 * 3_600_000))
    }

    @Test("for:, min_readings, max_gap and continuous: parsed at the rule and the level, refused where they make no sense")
    func durationKeys() {
        let good = """
            rules:
              - id: do-low
                metric: dissolved_oxygen
                condition: { kind: threshold }
                levels:
                  orange: { below: 3 }
                  red: { below: 2, for: 1m, min_readings: 3 }
                for: 5m
                min_readings: 2
                max_gap: 3m
                continuous: true
            """
        let (rules, errors) = RuleParser.parse(yaml: good, file: "good.yaml")
        #expect(errors.isEmpty, "\(errors)")
        let r = rules.first
        #expect(r?.duration == 300_000 && r?.minReadings == 2 && r?.maxGap == 180_000 && r?.continuous == true)
        #expect(r?.levels[.red]?.minReadings == 3 && r?.levels[.red]?.duration == 60_000 && r?.levels[.orange]?.minReadings == nil)
        // Defaults: one reading, the device's gap, counting across short excursions.
        let plain = RuleParser.parse(yaml: good.replacingOccurrences(of: "\n    min_readings: 2\n    max_gap: 3m\n    continuous: true", with: ""), file: "p.yaml")
        #expect(plain.rules.first?.minReadings == 1 && plain.rules.first?.maxGap == nil && plain.rules.first?.continuous == false)

        let bad = """
            rules:
              - id: a
                metric: dissolved_oxygen
                condition: { kind: threshold }
                levels:
                  orange: { below: 3, min_readings: 0 }
              - id: b
                metric: dissolved_oxygen
                condition: { kind: threshold }
                levels:
                  orange: { below: 3 }
                min_readings: two
                max_gap: 0s
              - id: c
                condition: { kind: silence }
                levels:
                  blue: { at_least: 3 }
                min_readings: 2
            """
        let refused = RuleParser.parse(yaml: bad, file: "bad.yaml")
        #expect(refused.rules.isEmpty, "\(refused.rules.map(\.id))")
        #expect(refused.errors.contains { $0.line == 6 && $0.message.contains("min_readings must be a whole number of at least 1") }, "\(refused.errors)")
        #expect(refused.errors.contains { $0.line == 12 && $0.message.contains("min_readings") }, "\(refused.errors)")
        #expect(refused.errors.contains { $0.line == 13 && $0.message.contains("max_gap must be positive") }, "\(refused.errors)")
        #expect(refused.errors.contains { $0.line == 18 && $0.message.contains("silence rule") }, "\(refused.errors)")
    }

    @Test("durations and levels in rule files")
    func durationsAndLevels() {
        #expect(DurationText.milliseconds("10m") == 600_000)
        #expect(DurationText.milliseconds("1.5h") == 5_400_000)
        #expect(DurationText.milliseconds("0") == 0)
        #expect(DurationText.milliseconds("ten minutes") == nil)
        #expect(DurationText.format(21_600_000) == "6h")
        #expect(AlertLevel(name: "III") == .yellow)
        #expect(AlertLevel(name: "红色") == .red)
        #expect(AlertLevel.red.capSeverity == "Extreme")
        #expect(AlertLevel.blue.capSeverity == "Minor")
    }
}
