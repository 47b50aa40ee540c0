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
