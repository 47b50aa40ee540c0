import Foundation
import ShennongAlerts
import ShennongCore
import ShennongStore
import Testing

@testable import ShennongRules

/// The engine as the pipelined ingest drives it: burst N+1 is evaluated on top of burst N
/// before N is written; a runtime recreated meanwhile (a rule reload) starts from the states
/// evaluated and not yet written; abandoned evaluations are forgotten in order; the silence
/// check leaves alone the devices whose evaluation is not yet written.
struct PipelinedEvaluationTests {
    static let stageRule = """
        - id: stage-10m
          metric: water_level
          condition: { kind: threshold }
          levels:
            yellow: { at_least: 3 }
          for: 10m
        """

    static let twoLevels = """
        - id: stage-two
          metric: water_level
          condition: { kind: threshold }
          levels:
            yellow: { at_least: 3 }
            orange: { at_least: 5 }
        """

    static let silenceRule = """
        - id: silent
          condition: { kind: silence, interval: 5m }
          levels:
            blue: { at_least: 3 }
        """

    static func level(_ m: Int64, _ value: Double, device: String = "gauge-1") -> Reading {
        Reading(device: device, metric: "water_level", timestamp: t0 + m * minute, value: value)
    }

    static func evaluate(_ engine: AlertEngine, _ readings: [Reading]) throws -> EvaluationOutput {
        try engine.evaluate(
            readings: readings, now: (readings.map(\.timestamp).max() ?? t0) + 1000, history: { $0.map { _ in [] } })
    }

    @Test("a runtime recreated by a reload while burst N is unwritten starts from N's state: the 10-minute timer carries on")
    func reloadKeepsUnwrittenState() throws {
        let r = try rule(Self.stageRule)
        let gauge = device("gauge-1", domain: .flood)
        let engine = AlertEngine(rules: [r])
        engine.setDevices([(gauge, nil)])

        // Burst N: above the threshold at t0; the level is pending (a state, no change). Not written.
        let n = try Self.evaluate(engine, [Self.level(0, 3.5)])
        #expect(n.changes.isEmpty)
        #expect(n.states.count == 1)
        #expect(n.states.first?.state.contains("\"p\":\(t0)") == true, "pending since t0: \(n.states)")

        // SIGHUP with the same rules: the runtimes are dropped and recreated on the next touch.
        engine.reload(rules: [r])
        let next = try Self.evaluate(engine, [Self.level(11, 3.6)])
        #expect(steps(next.changes) == [Step(11, nil, .yellow)], "the timer of burst N (unwritten) must carry on")

        // Control: had burst N been discarded, the recreated runtime would start the timer at m11.
        let control = AlertEngine(rules: [r])
        control.setDevices([(gauge, nil)])
        control.discard(try Self.evaluate(control, [Self.level(0, 3.5)]))
        control.reload(rules: [r])
        #expect(try Self.evaluate(control, [Self.level(11, 3.6)]).changes.isEmpty)
    }

    @Test("N written while N+1 is unwritten: a runtime recreated afterwards starts from N+1's state, not N's")
    func committedKeepsLaterUnwrittenState() throws {
        let r = try rule(Self.stageRule)
        let gauge = device("gauge-1", domain: .flood)
        let engine = AlertEngine(rules: [r])
        engine.setDevices([(gauge, nil)])
        let n = try Self.evaluate(engine, [Self.level(0, 3.5)])
        let n1 = try Self.evaluate(engine, [Self.level(11, 3.6)])
        #expect(steps(n1.changes) == [Step(11, nil, .yellow)])
        // N's write lands (N+1 still unwritten), then a reload.
        engine.committed(n)
        engine.reload(rules: [r])
        // The runtime starts from N+1's raised state: no second raise (N's pending state would raise again).
        let n2 = try Self.evaluate(engine, [Self.level(12, 3.7)])
        #expect(n2.changes.isEmpty, "raised again: \(steps(n2.changes))")
        #expect(engine.status(rule: r.id, device: gauge.id)?.level == AlertLevel.yellow.rawValue)
    }

    @Test("two stacked evaluations discarded (N then N+1): N's readings raise the same change again, once")
    func discardTwoStacked() throws {
        let r = try rule(Self.twoLevels)
        let gauge = device("gauge-1", domain: .flood)
        let engine = AlertEngine(rules: [r])
        engine.setDevices([(gauge, nil)])
        let burstN = [Self.level(1, 3.5)]
        let burstN1 = [Self.level(2, 5.5)]
        let n = try Self.evaluate(engine, burstN)
        #expect(steps(n.changes) == [Step(1, nil, .yellow)])
        let n1 = try Self.evaluate(engine, burstN1)
        #expect(steps(n1.changes) == [Step(2, .yellow, .orange)])
        // The commit of N failed: the pipeline abandons both, oldest first.
        engine.discard(n)
        engine.discard(n1)
        // Redelivery of N: the same change, exactly once.
        let again = try Self.evaluate(engine, burstN)
        #expect(steps(again.changes) == [Step(1, nil, .yellow)])
        #expect(again.changes.first?.to == n.changes.first?.to && again.changes.first?.value == n.changes.first?.value)
        // And N+1 after it, as before.
        #expect(steps(try Self.evaluate(engine, burstN1).changes) == [Step(2, .yellow, .orange)])
    }

    @Test("N written, N+1 discarded: the redelivery gives N+1's change again and N's change does not repeat")
    func commitThenDiscard() throws {
        let r = try rule(Self.twoLevels)
        let gauge = device("gauge-1", domain: .flood)
        let engine = AlertEngine(rules: [r])
        engine.setDevices([(gauge, nil)])
        let burstN = [Self.level(1, 3.5)]
        let burstN1 = [Self.level(2, 5.5)]
        let n = try Self.evaluate(engine, burstN)
        let n1 = try Self.evaluate(engine, burstN1)
        engine.committed(n)
        engine.discard(n1)
        // Redelivered N+1, with N's reading again (a duplicate of a written burst).
        let again = try Self.evaluate(engine, burstN + burstN1)
        #expect(steps(again.changes) == [Step(2, .yellow, .orange)])
        engine.committed(again)
        // A third copy changes nothing.
        let third = try Self.evaluate(engine, burstN + burstN1)
        #expect(third.changes.isEmpty && third.states.isEmpty)
    }

    @Test("the silence check skips the devices given: only the other silent device gets a change")
    func silenceSkipping() throws {
        let r = try rule(Self.silenceRule)
        let a = device("logger-a", domain: .water)
        let b = device("logger-b", domain: .water)
        let engine = AlertEngine(rules: [r])
        engine.setDevices([(a, t0), (b, t0)])
        // Both silent for 15 minutes (3 intervals); logger-a has an evaluation not yet written.
        let out = engine.checkSilence(now: t0 + 15 * minute, skipping: [a.id])
        #expect(out.changes.map(\.device) == [b.id])
        #expect(steps(out.changes) == [Step(15, nil, .blue)])
        #expect(out.states.map(\.device) == [b.id])
        #expect(out.devices == [b.id])
        engine.committed(out)
        // Not skipped any more: logger-a's turn (logger-b already raised).
        let later = engine.checkSilence(now: t0 + 16 * minute)
        #expect(later.changes.map(\.device) == [a.id])
    }

    @Test("a discarded evaluation puts back when its devices were last heard and forgets the devices it made known")
    func discardRestoresHeardAndDevices() throws {
        let r = try rule(Self.silenceRule)
        let a = device("logger-a", domain: .water)
        let fresh = device("logger-new", domain: .water)
        let engine = AlertEngine(rules: [r])
        engine.setDevices([(a, t0)])
        // Burst N: logger-a heard at +14 min, logger-new registered and heard; never written.
        let n = try engine.evaluate(
            readings: [], newDevices: [fresh], seen: [a.id: t0 + 14 * minute, fresh.id: t0 + 14 * minute],
            now: t0 + 14 * minute, history: { $0.map { _ in [] } })
        engine.discard(n)
        // At +15 min logger-a has been silent since t0 (3 intervals): the dropped message does
        // not count. logger-new was never stored: the silence check does not know it.
        let out = engine.checkSilence(now: t0 + 15 * minute)
        #expect(out.changes.map(\.device) == [a.id])
        #expect(steps(out.changes) == [Step(15, nil, .blue)])
        #expect(!out.devices.contains(fresh.id) && !out.states.contains { $0.device == fresh.id })
        // Written instead, the same burst keeps logger-a heard at +14 min.
        let kept = AlertEngine(rules: [r])
        kept.setDevices([(a, t0)])
        let written = try kept.evaluate(
            readings: [], newDevices: [fresh], seen: [a.id: t0 + 14 * minute, fresh.id: t0 + 14 * minute], now: t0 + 14 * minute,
            history: { $0.map { _ in [] } })
        kept.committed(written)
        #expect(kept.checkSilence(now: t0 + 15 * minute).changes.isEmpty)
    }
}
