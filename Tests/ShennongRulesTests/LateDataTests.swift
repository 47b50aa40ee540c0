import Foundation
import Logging
import ShennongAlerts
import ShennongCore
import ShennongStore
import Testing

@testable import ShennongRules

/// Late data: a reading older than a rule's watermark on its series is not evaluated (rules
/// evaluate each series forward); it is counted per rule, unless it was stored before (a
/// redelivery, already evaluated). Explicit sequences, minute by minute from t0.
struct LateDataTests {
    static let rules = [
        try! rule("""
            - id: do-low
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels:
                orange: { below: 3 }
            """),
        try! rule("""
            - id: do-watch
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels:
                blue: { below: 4.5 }
            """),
    ]

    /// A store as the engine's `history` sees it: what the bursts before committed.
    final class Stored: @unchecked Sendable {
        // Invariant: used from one test's thread only.
        var readings: [Reading] = []
        var calls = 0
        var failing = false

        func history(_ requests: [HistoryRequest]) throws -> [[Reading]] {
            calls += 1
            if failing { throw RuleTestError(description: "disk on fire") }
            return requests.map { q in
                readings.filter { $0.device == q.device && $0.metric == q.metric && $0.timestamp >= q.from && $0.timestamp < q.to }
            }
        }
    }

    static func reading(_ m: Int64, _ value: Double) -> Reading {
        Reading(device: "dev-1", metric: "dissolved_oxygen", timestamp: t0 + m * minute, value: value)
    }

    /// One burst, evaluated and then committed (its readings stored, its states written).
    static func burst(_ engine: AlertEngine, _ stored: Stored, _ readings: [Reading]) throws -> EvaluationOutput {
        let out = try engine.evaluate(readings: readings, now: (readings.map(\.timestamp).max() ?? t0) + 1000, history: stored.history)
        engine.committed(out)
        for r in readings where !stored.readings.contains(where: { $0.timestamp == r.timestamp && $0.metric == r.metric }) {
            stored.readings.append(r)
        }
        return out
    }

    @Test("a late reading is skipped and counted per rule; its redelivery and the last reading again are not; evaluation goes on forward")
    func lateReadingsCounted() throws {
        let engine = AlertEngine(rules: Self.rules, options: EngineOptions(lateAfter: hour))
        engine.setDevices([(device(), nil)])
        let stored = Stored()
        // Every other minute m0…m10 at 5.0, one burst each: nothing raised, nothing late.
        for m in stride(from: Int64(0), through: 10, by: 2) {
            let out = try Self.burst(engine, stored, [Self.reading(m, 5.0)])
            #expect(out.changes.isEmpty && out.lateSkipped.isEmpty)
        }
        let callsBefore = stored.calls

        // m5 at 2.0 arrives late (behind the watermark m10, never stored): not evaluated (it
        // would raise orange and blue), counted once for each rule on the series.
        let late = try Self.burst(engine, stored, [Self.reading(5, 2.0)])
        #expect(late.changes.isEmpty)
        #expect(late.lateSkipped == ["do-low": 1, "do-watch": 1])
        #expect(stored.calls == callsBefore + 1, "one history read, for the readings behind the watermark")

        // The same burst redelivered (stored now), with m10 again (at the watermark): a
        // redelivery, not late data.
        let again = try Self.burst(engine, stored, [Self.reading(5, 2.0), Self.reading(10, 5.0)])
        #expect(again.changes.isEmpty && again.lateSkipped.isEmpty)
        let calls = stored.calls
        #expect(try Self.burst(engine, stored, [Self.reading(10, 5.0)]).lateSkipped.isEmpty)
        #expect(stored.calls == calls, "a reading at the watermark needs no history read")

        // A backfill burst: m3 twice (one reading), m7, m4 (stored: a redelivery) and the new
        // m11 at 2.5: the new one is evaluated (orange and blue at m11), the two late ones counted.
        let mixed = try Self.burst(
            engine, stored, [Self.reading(3, 1.0), Self.reading(7, 1.0), Self.reading(3, 1.0), Self.reading(4, 5.0), Self.reading(11, 2.5)])
        #expect(steps(mixed.changes).sorted { ($0.to?.rawValue ?? 0) < ($1.to?.rawValue ?? 0) } == [Step(11, nil, .blue), Step(11, nil, .orange)])
        #expect(mixed.lateSkipped == ["do-low": 2, "do-watch": 2])
    }

    @Test("when the stored readings cannot be read, every reading behind the watermark counts (none was evaluated either way)")
    func historyFailureCountsAll() throws {
        let engine = AlertEngine(rules: [Self.rules[0]], options: EngineOptions(lateAfter: hour))
        engine.setDevices([(device(), nil)])
        let stored = Stored()
        _ = try Self.burst(engine, stored, [Self.reading(0, 5.0), Self.reading(10, 5.0)])
        stored.failing = true
        // m0 is a redelivery, m4 is late: neither is evaluated, both count.
        let out = try Self.burst(engine, stored, [Self.reading(0, 5.0), Self.reading(4, 2.0)])
        #expect(out.lateSkipped == ["do-low": 2] && out.changes.isEmpty)
    }

    @Test("RulesStage: the skips of committed bursts are kept per rule (what `rules list` shows); a redelivered burst adds none")
    func stageKeepsCounts() throws {
        let (store, dir) = try temporaryStore()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: dir)
        }
        try store.addDevice(device())
        let stage = try RulesStage(
            store: store, rules: Self.rules, options: EngineOptions(lateAfter: hour), profiles: [:],
            notifier: AlertNotifier(outbox: store, notifiers: [], catalog: RuleCatalog(rules: Self.rules), offsetMinutes: 480, logger: .init(label: "t")),
            clock: WallClock { t0 + 20 * minute }, logger: .init(label: "t"))
        /// A burst through the stage as the pipeline runs it: prepare, commit, then the observation.
        func ingest(_ readings: [Reading]) throws {
            var batch = IngestBatch()
            batch.readings = readings
            let observation = stage.prepare(batch, previousStored: {})
            try store.commit(batch)
            try observation()
        }
        try ingest(stride(from: Int64(0), through: 10, by: 2).map { Self.reading($0, 5.0) })
        #expect(stage.lateSkipped().isEmpty)
        try ingest([Self.reading(5, 2.0), Self.reading(7, 2.0)])
        #expect(stage.lateSkipped() == ["do-low": 2, "do-watch": 2])
        try ingest([Self.reading(5, 2.0), Self.reading(7, 2.0), Self.reading(8, 5.0)])
        #expect(stage.lateSkipped() == ["do-low": 2, "do-watch": 2], "a redelivery is not late data")
        try ingest([Self.reading(1, 2.0), Self.reading(11, 5.0)])
        #expect(stage.lateSkipped() == ["do-low": 3, "do-watch": 3])
        #expect(try store.alerts().isEmpty, "no late reading was evaluated")
    }
}

/// `rules replay` runs silence rules as the live server does: each stored reading means the
/// device was heard at its time, and the silence check runs every `check_interval` between.
struct ReplaySilenceTests {
    static func silencePreset() throws -> Rule {
        let path = RuleFileTests.repository.appendingPathComponent("Config/rules/device-health.yaml").path
        let parsed = RuleParser.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
        return try #require(parsed.rules.first { $0.id == "device-silence" })
    }

    /// A pond probe reporting every minute from m0 to m30, silent until m50, then every minute to m60.
    static let minutes: [Int64] = Array(0...30) + Array(50...60)

    static func withStore(_ body: (Store) throws -> Void) throws {
        let (store, dir) = try temporaryStore()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: dir)
        }
        try store.addDevice(device())
        var batch = IngestBatch()
        batch.readings = minutes.map { Reading(device: "dev-1", metric: "dissolved_oxygen", timestamp: t0 + $0 * minute, value: 6) }
        try store.commit(batch)
        try body(store)
    }

    /// The live server's way over the same readings: one burst per report (heard at its time),
    /// the periodic silence check every 30 s in between.
    static func live(_ rules: [Rule], until end: Int64) throws -> [AlertLevelChange] {
        let engine = AlertEngine(rules: rules, options: EngineOptions(lateAfter: nil), expectedInterval: { _ in minute })
        let d = device()
        engine.setDevices([(d, t0 - 1)])
        var all: [AlertLevelChange] = []
        var next = t0 - 1
        for m in minutes.map({ t0 + $0 * minute }) + [end] {
            while next < m {
                if next >= t0 {
                    let out = engine.checkSilence(now: next)
                    engine.committed(out)
                    all += out.changes
                }
                next = (next / 30_000 + 1) * 30_000
            }
            guard m < end else { break }
            let out = try engine.evaluate(
                readings: [Reading(device: d.id, metric: "dissolved_oxygen", timestamp: m, value: 6)], seen: [d.id: m], now: m,
                history: { $0.map { _ in [] } })
            engine.committed(out)
            all += out.changes
        }
        return all
    }

    @Test("a 20-minute gap of a 1-minute probe: blue at 3 intervals (m33), yellow at 12 (m42), cleared by the next report (m50) — as live")
    func gapRaisesAndClears() throws {
        let preset = try Self.silencePreset()
        try Self.withStore { store in
            let replayed = try RuleReplay.run(
                rules: [preset], store: store, device: "dev-1", from: t0, to: t0 + 61 * minute, expectedInterval: { _ in minute },
                checkInterval: 30_000)
            #expect(steps(replayed) == [Step(33, nil, .blue), Step(42, .blue, .yellow), Step(50, .yellow, nil)])
            let live = try Self.live([preset], until: t0 + 61 * minute)
            #expect(steps(replayed) == steps(live))
            #expect(replayed.map(\.message) == live.map(\.message))
            // Without silence rules nothing changes, and the check interval does not matter to the others.
            #expect(try RuleReplay.run(rules: [], store: store, device: "dev-1", from: t0, to: t0 + 61 * minute).isEmpty)
        }
    }

    @Test(
        "from=0: silence is checked from the device's registration, not every 30 s since 1970 (the registration gap, then the same steps as from t0)",
        .timeLimit(.minutes(1)))
    func fromZeroStartsAtRegistration() throws {
        let preset = try Self.silencePreset()
        try Self.withStore { store in
            let replayed = try RuleReplay.run(
                rules: [preset], store: store, device: "dev-1", from: 0, to: t0 + 61 * minute, expectedInterval: { _ in minute })
            // Registered a day before t0 and silent until m0: blue 3 minutes after registration,
            // yellow after 12, cleared by the first report.
            #expect(steps(replayed) == [
                Step(-1440 + 3, nil, .blue), Step(-1440 + 12, .blue, .yellow), Step(0, .yellow, nil),
                Step(33, nil, .blue), Step(42, .blue, .yellow), Step(50, .yellow, nil),
            ])
        }
    }

    @Test("from inside the gap: when the device was last heard comes from the readings before `from`")
    func fromInsideTheGap() throws {
        let preset = try Self.silencePreset()
        try Self.withStore { store in
            let replayed = try RuleReplay.run(
                rules: [preset], store: store, device: "dev-1", from: t0 + 35 * minute, to: t0 + 61 * minute,
                expectedInterval: { _ in minute })
            #expect(steps(replayed) == [Step(35, nil, .blue), Step(42, .blue, .yellow), Step(50, .yellow, nil)])
        }
    }

    @Test("a range past now: silence is checked up to now only (m63 blue; yellow would be m72)")
    func stopsAtNow() throws {
        let preset = try Self.silencePreset()
        try Self.withStore { store in
            let replayed = try RuleReplay.run(
                rules: [preset], store: store, device: "dev-1", from: t0, to: t0 + 3 * hour, expectedInterval: { _ in minute },
                now: t0 + 70 * minute)
            #expect(steps(replayed) == [Step(33, nil, .blue), Step(42, .blue, .yellow), Step(50, .yellow, nil), Step(63, nil, .blue)])
        }
    }
}
