import Foundation
import ShennongAlerts
import ShennongCore
import Testing

@testable import ShennongRules

/// A level's `for:` counted under sample-and-hold: time in the condition adds up across short
/// excursions out of it, each reading holding at most `max_gap`; `min_readings` keeps one
/// stray reading from raising a level; `continuous: true` is the old "without a break".
struct DurationTests {
    static func preset(_ file: String, _ id: String) throws -> Rule {
        let path = RuleFileTests.repository.appendingPathComponent("Config/rules/\(file)").path
        let parsed = RuleParser.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        return try #require(parsed.rules.first { $0.id == id })
    }

    /// A pond probe reporting every minute: an evening at 5 mg/L (m0…m59), a night hovering
    /// around 3 mg/L (m60…m539: `below` at even minutes, `above` at odd ones), a morning at 5.
    static func night(below: Double, above: Double) -> [(Int64, Double)] {
        (Int64(0)..<600).map { (m: Int64) -> (Int64, Double) in
            if m < 60 || m >= 540 { return (m, 5.0) }
            return (m, m % 2 == 0 ? below : above)
        }
    }

    @Test("oscillating around 3 mg/L all night, half the reports below: pond-do-low raises orange once, at the 5th minute below, and never flaps")
    func oscillationRaisesOnce() throws {
        let r = try Self.preset("pond.yaml", "pond-do-low")  // orange < 3 for 5m, red < 2, clear_margin 0.3, clear_after 30m
        let pond = device("pond-1", profile: "pond-oxygen-probe")
        // 2.9 at m60, m62, …: each holds a minute; the 5th minute below is complete at m69, so
        // the reading below at m70 raises orange. 3.1 is inside the clear margin: it stays.
        let inBand = try changes([r], device: pond, metric: "dissolved_oxygen", Self.night(below: 2.9, above: 3.1))
        #expect(steps(inBand) == [Step(70, nil, .orange), Step(570, .orange, nil)])
        #expect(inBand.first?.value == 2.9)
        // Swinging past the clear margin (3.4 ≥ 3.3) does not clear it either: every clear
        // stretch lasts a minute, not the 30-minute clear delay (the last one, from m539's
        // 3.4 into the morning, clears it at m569).
        let wide = try changes([r], device: pond, metric: "dissolved_oxygen", Self.night(below: 2.8, above: 3.4))
        #expect(steps(wide) == [Step(70, nil, .orange), Step(569, .orange, nil)])
        // Control: counted without a break (the semantics before), the night raises nothing.
        var strict = r
        strict.continuous = true
        #expect(try changes([strict], device: pond, metric: "dissolved_oxygen", Self.night(below: 2.9, above: 3.1)).isEmpty)
    }

    @Test("oscillation with an irregular pattern for eight hours: one alert, raised once")
    func irregularOscillation() throws {
        let r = try Self.preset("pond.yaml", "pond-do-low")
        var seed: UInt64 = 20_261_206
        var series: [(Int64, Double)] = []
        var below = 0
        for m in Int64(0)..<480 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let down = (seed >> 33) % 2 == 0
            if down { below += 1 }
            series.append((m, down ? 2.95 : 3.05))
        }
        #expect(below > 200 && below < 280, "about half below: \(below)")
        let result = try changes([r], metric: "dissolved_oxygen", series)
        #expect(result.count == 1, "\(steps(result))")
        #expect(result.first?.to == .orange && result.first?.from == nil)
        #expect(result.first.map { $0.at - t0 <= 60 * minute } == true, "raised within the first hour: \(steps(result))")
    }

    @Test("a single stray reading below the threshold: no alert where min_readings asks for two; two in a row raise")
    func strayReading() throws {
        let base = """
            - id: do-low
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels:
                orange: { below: 3 }
              clear_margin: 0.3
            """
        // Reports every 5 minutes: one stray 2.4 at m30, then a real drop from m60 on.
        var series: [(Int64, Double)] = stride(from: Int64(0), to: 60, by: 5).map { ($0, $0 == 30 ? 2.4 : 5.0) }
        series += stride(from: Int64(60), through: 90, by: 5).map { ($0, 2.5) }
        // Without min_readings the stray raises and clears an alert.
        let eager = try rule(base)
        #expect(steps(try changes([eager], metric: "dissolved_oxygen", series)) == [Step(30, nil, .orange), Step(35, .orange, nil), Step(60, nil, .orange)])
        // min_readings: 2 (at the rule or at the level): the stray alone raises nothing; the drop raises at its 2nd reading.
        for yaml in [base + "\n  min_readings: 2", base.replacingOccurrences(of: "{ below: 3 }", with: "{ below: 3, min_readings: 2 }")] {
            let careful = try rule(yaml)
            #expect(careful.levels[.orange]?.minReadings ?? careful.minReadings == 2)
            #expect(steps(try changes([careful], metric: "dissolved_oxygen", series)) == [Step(65, nil, .orange)])
        }
        // With a duration, a stray reading held for 5 minutes (one report) never raises a
        // `for: 5m` level by itself: a level is raised only at a reading in the condition.
        let held = try rule(base + "\n  for: 5m")
        #expect(steps(try changes([held], metric: "dissolved_oxygen", series)) == [Step(65, nil, .orange)])
    }

    @Test("max_gap: a reading holds until the next one, at most the gap; the default is 3 × the expected interval, at least for:")
    func maxGap() throws {
        let base = """
            - id: do-low
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels:
                orange: { below: 3 }
              for: 30m
            """
        // Below at m0, then silent an hour, then below every 10 minutes.
        let series: [(Int64, Double)] = [(0, 2.5), (60, 2.5), (70, 2.5), (80, 2.5)]
        // Default gap: max(3 × 5 min, 30 min) = 30 min: the hour counts 30 min, raised at m60
        // (two readings in the condition 30 min or more apart, as without a gap).
        #expect(steps(try changes([try rule(base)], metric: "dissolved_oxygen", series)) == [Step(60, nil, .orange)])
        // max_gap: 10m: the m0 reading holds 10 minutes, the gap is not counted; 10 + 10 + 10 at m80.
        let capped = try rule(base + "\n  max_gap: 10m")
        #expect(capped.maxGap == 10 * minute)
        #expect(steps(try changes([capped], metric: "dissolved_oxygen", series)) == [Step(80, nil, .orange)])
    }

    @Test("the count starts over after a clear stretch as long as for:, not after a shorter one")
    func clearStretchEndsTheCount() throws {
        let r = try rule("""
            - id: do-low
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels:
                orange: { below: 3 }
              for: 10m
            """)
        // 6 min below (m0…m5, held to m6), 9 min clear (m6…m14), then below again from m15:
        // 6 + 4 = 10 min below at m19.
        var short = (0...5).map { (Int64($0), 2.5) } + (6...14).map { (Int64($0), 3.5) }
        short += (15...30).map { (Int64($0), 2.5) }
        #expect(steps(try changes([r], metric: "dissolved_oxygen", short)) == [Step(19, nil, .orange)])
        // 10 min clear (m6…m15): the count starts over at m16 and needs 10 more minutes: m26.
        var long = (0...5).map { (Int64($0), 2.5) } + (6...15).map { (Int64($0), 3.5) }
        long += (16...30).map { (Int64($0), 2.5) }
        #expect(steps(try changes([r], metric: "dissolved_oxygen", long)) == [Step(26, nil, .orange)])
    }

    @Test("the level timer is O(1) and does what the README's worked example says")
    func levelTimerWorkedExample() {
        // README "Warnings": below 3 mg/L `for: 10m`, `min_readings: 3`, reports every 2 minutes.
        let hold = HoldRule(duration: 10 * minute, minReadings: 3, maxGap: 15 * minute, reset: 10 * minute)
        var t = LevelTimer()
        // 2.9, 3.1, 2.8, 2.9, 3.2, 2.9, 3.1, 2.9, 2.8 at 00:00, 00:02, …, 00:16.
        let sequence: [(Int64, Bool)] = [(0, true), (2, false), (4, true), (6, true), (8, false), (10, true), (12, false), (14, true), (16, true)]
        var raisedAt: [Int64] = []
        var held: [Int64] = []
        var count: [Int] = []
        for (m, crossed) in sequence {
            held.append((t.h + (t.i && t.l != nil ? min(m * minute - t.l!, hold.maxGap) : 0)) / minute)
            count.append(t.n + (crossed ? 1 : 0))
            if t.observe(at: m * minute, crossed: crossed, hold) { raisedAt.append(m) }
        }
        // Time held below when each reading arrives (00:02 adds 00:00's 2 minutes, …), and readings below so far.
        #expect(held == [0, 2, 2, 4, 6, 6, 8, 8, 10])
        #expect(count == [1, 1, 2, 3, 3, 4, 4, 5, 6])
        #expect(raisedAt == [16])
        #expect(t.a && t.p == nil)
        // Counted without a break, the same readings raise nothing (each reading above starts over).
        var strict = LevelTimer()
        let continuous = HoldRule(duration: 10 * minute, minReadings: 3, maxGap: 15 * minute, reset: 0)
        #expect(sequence.allSatisfy { !strict.observe(at: $0.0 * minute, crossed: $0.1, continuous) })
        // The state persisted is a handful of numbers, whatever the number of readings.
        var long = LevelTimer()
        let slow = HoldRule(duration: 1_000 * hour, minReadings: 1, maxGap: hour, reset: 1_000 * hour)
        for m in Int64(0)..<10_000 { _ = long.observe(at: m * minute, crossed: m % 3 != 0, slow) }
        let json = String(decoding: try! JSONEncoder().encode(long), as: UTF8.self)
        #expect(json.count < 120, "\(json)")
        #expect(long.n == 6666 && long.p == 1 * minute)
    }
}
