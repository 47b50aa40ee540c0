import Foundation
import ShennongAlerts
import ShennongCore
import Testing

@testable import ShennongRules

/// The fire-danger preset (Config/rules/fire.yaml) as Guangdong issues the forest-fire danger
/// warning signals: LY/T 1172 level 3 → yellow, 4 → orange, 5 → red; levels 1–2 raise nothing
/// and are kept as the index and its level name.
struct FireDangerPresetTests {
    static func preset() throws -> Rule {
        let path = RuleFileTests.repository.appendingPathComponent("Config/rules/fire.yaml").path
        let parsed = RuleParser.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        return try #require(parsed.rules.first { $0.id == "fire-danger" })
    }

    /// One hour's weather of a station: the day's maximum temperature, relative humidity, wind and rain.
    struct Weather {
        var temp: Double
        var humidity: Double
        var wind: Double
        var rain: Double = 0
    }

    /// Plays hourly reports of `aws-1` (wind, rain, temperature, humidity at each hour, in that
    /// order) through the preset; returns every level change and the engine.
    static func play(hours: Int64, _ weather: (Int64) -> Weather) throws -> ([AlertLevelChange], AlertEngine) {
        let engine = AlertEngine(rules: [try preset()], options: EngineOptions(lateAfter: nil))
        engine.setDevices([(device("aws-1", domain: .weather, profile: "weather-station", site: "forest-a"), nil)])
        var all: [AlertLevelChange] = []
        for h in 0..<hours {
            let w = weather(h)
            let ts = t0 + h * hour
            let readings = [("wind_speed", w.wind), ("rainfall", w.rain), ("air_temp", w.temp), ("relative_humidity", w.humidity)]
                .map { Reading(device: "aws-1", metric: $0.0, timestamp: ts, value: $0.1) }
            let out = try engine.evaluate(readings: readings, now: ts, history: { $0.map { _ in [] } })
            engine.committed(out)
            all += out.changes
        }
        return (all, engine)
    }

    /// A humid day (`make demo` at night): A 20 (28 °C) + B 0 (93 %) + E 10 (3 m/s, Beaufort 2)
    /// + C 5 per dry day counting today.
    static let humid = Weather(temp: 28, humidity: 93, wind: 3)

    @Test("the preset maps LY/T 1172 levels 3, 4, 5 to yellow, orange, red, has no blue, and names its sources")
    func presetLevels() throws {
        let r = try Self.preset()
        #expect(r.levels.keys.sorted() == [.yellow, .orange, .red])
        #expect(r.levels[.yellow] == LevelSpec(comparison: .atLeast, threshold: 51))
        #expect(r.levels[.orange] == LevelSpec(comparison: .atLeast, threshold: 73))
        #expect(r.levels[.red] == LevelSpec(comparison: .atLeast, threshold: 91))
        #expect([51.0, 73, 91] == Array(FireDangerScore.levelBounds.dropFirst()))
        let source = try #require(r.source)
        #expect(source.contains("LY/T 1172-95") && source.contains("STANDARDS.md") && source.contains("森林火险预警信号"))
        let text = try String(contentsOfFile: RuleFileTests.repository.appendingPathComponent("Config/rules/fire.yaml").path, encoding: .utf8)
        #expect(text.contains("Scoring table") && text.contains("yellow at level 3, orange at level 4, red at level 5"))
        // The levels people read, at the bounds.
        let grades = [0.0, 25, 26, 50, 51, 72, 73, 90, 91, 120].map { DerivedIndex.fireDanger.grade(of: $0) }
        #expect(grades.map(\.level) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(grades.map(\.title) == ["一级 低火险", "一级 低火险", "二级 较低火险", "二级 较低火险", "三级 较高火险", "三级 较高火险",
            "四级 高火险", "四级 高火险", "五级 极高火险", "五级 极高火险"])
    }

    @Test("level 2 (two humid days, index 35 then 40): no alert; staff see 40, 二级 较低火险")
    func levelTwoRaisesNothing() throws {
        let (changes, engine) = try Self.play(hours: 48) { _ in Self.humid }
        #expect(changes.isEmpty, "\(steps(changes))")
        let status = try #require(engine.indexStatus(rule: "fire-danger", device: "aws-1"))
        #expect(status.value == 40)
        #expect(status.grade == IndexGrade(level: 2, name: "较低火险"))
        #expect(status.grade.title == "二级 较低火险")
        #expect(status.warning == nil)
        // Since day 1's first complete report (00:00, once its humidity came in).
        #expect(status.at == t0 + 24 * hour)
        #expect(engine.indexStatuses().map(\.device) == ["aws-1"])
        // The same from the persisted state alone (what a reader of the store sees).
        let record = try #require(engine.persistedStates(rule: "fire-danger").first)
        let stored = try #require(IndexStatus(record: record, rule: try Self.preset()))
        #expect(stored.value == 40 && stored.grade.level == 2 && stored.warning == nil)
        // A fresh engine from that state answers before any new reading.
        let restarted = AlertEngine(rules: [try Self.preset()], persisted: [record])
        #expect(restarted.indexStatus(rule: "fire-danger", device: "aws-1")?.grade.name == "较低火险")
    }

    @Test("level 3 (humid days, then 30 % humidity on day 2: index 61): yellow, once")
    func levelThreeIsYellow() throws {
        // Days 0–1 humid (35, 40: level 2); from day 2 00:00 the humidity falls to 30 % (B 16):
        // 20 + 16 + 15 + 10 = 61 (level 3); day 3 adds a dry day (66, still level 3).
        let (changes, engine) = try Self.play(hours: 96) { h in
            h < 48 ? Self.humid : Weather(temp: 28, humidity: 30, wind: 3)
        }
        #expect(steps(changes) == [Step(2880, nil, .yellow)])
        #expect(changes.map(\.value) == [61])
        #expect(changes.map(\.threshold) == [51])
        #expect(changes.first?.message.contains("森林火险指数（LY/T 1172） 61（三级 较高火险） ≥ 51") == true, "\(changes.first?.message ?? "")")
        let status = try #require(engine.indexStatus(rule: "fire-danger", device: "aws-1"))
        #expect(status.value == 66 && status.grade.level == 3 && status.warning == .yellow)
    }

    @Test("level 5 (a drying week): yellow at level 3, orange at 4, red at 5 — never blue")
    func levelFiveIsRed() throws {
        // Days 0–1 humid (35, 40). Day 2: wind 9 m/s (E 25): 20 + 0 + 15 + 25 = 60 (level 3).
        // Day 3: humidity 20 % (B 20): 20 + 20 + 20 + 25 = 85 (level 4). Day 4: 90 (level 4).
        // Day 5: 95 (level 5).
        let (changes, engine) = try Self.play(hours: 6 * 24 + 12) { h in
            switch h {
            case ..<48: Self.humid
            case ..<72: Weather(temp: 28, humidity: 93, wind: 9)
            default: Weather(temp: 28, humidity: 20, wind: 9)
            }
        }
        #expect(steps(changes) == [Step(2880, nil, .yellow), Step(4320, .yellow, .orange), Step(7200, .orange, .red)])
        #expect(changes.map(\.value) == [60, 85, 95])
        #expect(changes.map(\.threshold) == [51, 73, 91])
        let status = try #require(engine.indexStatus(rule: "fire-danger", device: "aws-1"))
        #expect(status.value == 100 && status.grade.title == "五级 极高火险" && status.warning == .red)
    }

    static func nesterovPreset() throws -> Rule {
        let path = RuleFileTests.repository.appendingPathComponent("Config/rules/fire.yaml").path
        let parsed = RuleParser.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
        return try #require(parsed.rules.first { $0.id == "fire-nesterov" })
    }

    @Test("fire-nesterov signals as the fire-danger signals do: no blue; class 2 (NI 300–1000) raises nothing and is kept with its class name; class 3 is yellow")
    func nesterovClassTwoRaisesNothing() throws {
        let r = try Self.nesterovPreset()
        #expect(r.levels.keys.sorted() == [.yellow, .orange, .red])
        #expect(r.levels[.yellow] == LevelSpec(comparison: .atLeast, threshold: 1000))
        #expect(r.source?.contains("森林火险预警信号") == true)
        // Dry days at 28 °C and 50 % humidity: each day adds T·(T − Td) ≈ 316, so NI passes
        // 300 (class 2) on day 0 and 1000 (class 3) on day 3, at 00:00 when its first
        // complete report (temperature and humidity) comes in.
        let term = Nesterov.term(tmax: 28, rhMin: 50)
        #expect(term > 300 && 3 * term < 1000 && 4 * term > 1000, "\(term)")
        let engine = AlertEngine(rules: [r], options: EngineOptions(lateAfter: nil))
        engine.setDevices([(device("aws-1", domain: .weather, profile: "weather-station", site: "forest-a"), nil)])
        var changes: [AlertLevelChange] = []
        var classTwo: IndexStatus?
        for h in Int64(0)..<(4 * 24 + 2) {
            let ts = t0 + h * hour
            let readings = [("rainfall", 0.0), ("air_temp", 28), ("relative_humidity", 50)]
                .map { Reading(device: "aws-1", metric: $0.0, timestamp: ts, value: $0.1) }
            let out = try engine.evaluate(readings: readings, now: ts, history: { $0.map { _ in [] } })
            engine.committed(out)
            changes += out.changes
            if h == 2 * 24 + 12 { classTwo = engine.indexStatus(rule: "fire-nesterov", device: "aws-1") }
        }
        // Days 0–2 (NI 316, 632, 948: class 2): nothing; day 3 (1264, class 3): yellow once.
        #expect(steps(changes) == [Step(3 * 24 * 60, nil, .yellow)])
        #expect(changes.map { ($0.value ?? 0).rounded() } == [(4 * term).rounded()])
        let two = try #require(classTwo)
        #expect(abs(two.value - 3 * term) < 1e-6 && two.grade == IndexGrade(level: 2, name: "低火险") && two.warning == nil)
        let three = try #require(engine.indexStatus(rule: "fire-nesterov", device: "aws-1"))
        #expect(three.grade.level == 3 && three.grade.name == "中等火险" && three.warning == .yellow)
    }
}
