import Foundation
import ShennongAlerts
import ShennongCore
import ShennongStore
import Testing

@testable import ShennongRules

/// Rule state in the store: a restart in the middle of a duration, redelivered bursts,
/// windows rebuilt from stored readings, and the alert lifecycle with who, when and notes.
struct PersistenceTests {
    static let stageRule = """
        - id: stage-10m
          metric: water_level
          condition: { kind: threshold }
          levels:
            yellow: { at_least: 3 }
          for: 10m
        """

    /// Commits readings like ingest does, then evaluates and writes like the server's stage.
    @discardableResult
    static func ingest(_ readings: [Reading], store: Store, engine: AlertEngine, device d: Device, now: Int64? = nil)
        throws -> [AlertNotice]
    {
        var batch = IngestBatch()
        batch.newDevices = [d]
        batch.readings = readings
        _ = try store.commit(batch)
        let out = try engine.evaluate(
            readings: readings, newDevices: [d], now: now ?? (readings.map(\.timestamp).max() ?? t0), history: store.history)
        let notices = try store.applyRuleEvaluation(states: out.states, changes: out.changes, now: t0)
        engine.committed(out)
        return notices
    }

    static func levels(_ minutes: ClosedRange<Int64>, _ value: Double = 3.5) -> [Reading] {
        minutes.map { Reading(device: "gauge-1", metric: "water_level", timestamp: t0 + $0 * minute, value: value) }
    }

    @Test("a restart in the middle of a 10-minute duration: the alert still fires at 10 minutes")
    func restartMidDuration() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try rule(Self.stageRule)
        let gauge = device("gauge-1", domain: .flood)
        var engine = AlertEngine(rules: [r], persisted: try store.ruleStates())
        #expect(try Self.ingest(Self.levels(0...5), store: store, engine: engine, device: gauge).isEmpty)
        #expect(try store.appliedMigrations().contains("alerts-v1: rule state, alerts, transitions"))
        let saved = try store.ruleStates()
        #expect(saved.count == 1)
        #expect(saved.first?.state.contains("\"p\":\(t0)") == true, "pending since m0 is persisted: \(saved)")

        // "Restart": a new engine from the persisted state; the broker redelivers m3…m5 with m6.
        engine = AlertEngine(rules: [r], persisted: try store.ruleStates())
        #expect(try Self.ingest(Self.levels(3...9), store: store, engine: engine, device: gauge).isEmpty)
        let notices = try Self.ingest(Self.levels(10...10), store: store, engine: engine, device: gauge)
        #expect(notices.count == 1)
        #expect(notices.first?.alert.raisedAt == t0 + 10 * minute)
        #expect(notices.first?.transition.kind == .raised)

        // Without the persisted state the same readings after the restart would not have fired.
        let forgetful = AlertEngine(rules: [r])
        forgetful.setDevices([(gauge, nil)])
        let out = try forgetful.evaluate(readings: Self.levels(6...10), now: t0 + 10 * minute, history: { $0.map { _ in [] } })
        #expect(out.changes.isEmpty)
    }

    @Test("a rule state written before durations counted hold time (only `p`, pending since) loads and carries on; so does an empty one")
    func olderStateLoads() throws {
        let r = try rule(Self.stageRule)
        let gauge = device("gauge-1", domain: .flood)
        // As the previous version wrote it after m0…m5 at or above the stage (yellow is the second timer).
        let old = RuleStateRecord(
            rule: r.id, device: gauge.id, level: nil, watermark: t0 + 5 * minute,
            state: #"{"levels":[{"a":false},{"p":\#(t0),"a":false},{"a":false},{"a":false}],"w":[\#(t0 + 5 * minute)]}"#, updatedAt: t0)
        let engine = AlertEngine(rules: [r], persisted: [old])
        engine.setDevices([(gauge, nil)])
        #expect(engine.status(rule: r.id, device: gauge.id)?.pending.map(\.since) == [t0])
        let early = try engine.evaluate(readings: Self.levels(3...9), now: t0 + 9 * minute, history: { $0.map { _ in [] } })
        #expect(early.changes.isEmpty)
        engine.committed(early)
        let due = try engine.evaluate(readings: Self.levels(10...10), now: t0 + 10 * minute, history: { $0.map { _ in [] } })
        #expect(steps(due.changes) == [Step(10, nil, .yellow)])

        // A state with none of its fields: a fresh start.
        let empty = RuleStateRecord(rule: r.id, device: gauge.id, level: nil, watermark: 0, state: "{}", updatedAt: t0)
        let fresh = AlertEngine(rules: [r], persisted: [empty])
        fresh.setDevices([(gauge, nil)])
        let out = try fresh.evaluate(readings: Self.levels(0...10), now: t0 + 10 * minute, history: { $0.map { _ in [] } })
        #expect(steps(out.changes) == [Step(10, nil, .yellow)])
        // What is written now round-trips, hold time and all.
        let written = try #require(early.states.first)
        let decoded = try JSONDecoder().decode(PersistedRuleState.self, from: Data(written.state.utf8))
        #expect(decoded.levels[1].p == t0 && decoded.levels[1].h == 9 * minute && decoded.levels[1].l == t0 + 9 * minute)
        #expect(written.state.contains("\"p\":\(t0)"))
    }

    @Test("a failed write is discarded: the redelivered burst is evaluated again and raises the alert once")
    func failedWriteIsDiscarded() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try rule(Self.stageRule)
        let gauge = device("gauge-1", domain: .flood)
        let engine = AlertEngine(rules: [r])
        try Self.ingest(Self.levels(0...5), store: store, engine: engine, device: gauge)
        // Evaluate m6…m10 but "fail" the write: the change is not persisted and memory is dropped.
        let lost = try engine.evaluate(readings: Self.levels(6...10), now: t0 + 10 * minute, history: store.history)
        #expect(lost.changes.count == 1)
        engine.discard(lost)
        // Redelivery: the same burst again.
        let again = try engine.evaluate(readings: Self.levels(6...10), now: t0 + 10 * minute, history: store.history)
        #expect(steps(again.changes) == [Step(10, nil, .yellow)])
        // And a third copy (redelivered after a crash following the write) changes nothing.
        engine.committed(again)
        let third = try engine.evaluate(readings: Self.levels(6...10), now: t0 + 10 * minute, history: store.history)
        #expect(third.changes.isEmpty && third.states.isEmpty)
    }

    @Test("windows are rebuilt from stored readings on first touch after a start")
    func windowRebuiltFromHistory() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try rule("""
            - id: rain-6h
              metric: rainfall
              condition: { kind: window, aggregate: sum, window: 6h }
              levels:
                yellow: { at_least: 50 }
            """)
        let gauge = device("rain-1", domain: .flood)
        let rain = stride(from: Int64(5), through: 245, by: 5).map {
            Reading(device: "rain-1", metric: "rainfall", timestamp: t0 + $0 * minute, value: 1.0)
        }
        var batch = IngestBatch()
        batch.newDevices = [gauge]
        batch.readings = rain  // 49 mm stored before the "restart", never seen by this engine
        _ = try store.commit(batch)
        let next = [Reading(device: "rain-1", metric: "rainfall", timestamp: t0 + 250 * minute, value: 1.0)]
        let engine = AlertEngine(rules: [r])
        let notices = try Self.ingest(next, store: store, engine: engine, device: gauge)
        #expect(notices.map(\.alert.value) == [50])
        // Control: without the stored history the sum is 1 mm.
        let blind = AlertEngine(rules: [r])
        blind.setDevices([(gauge, nil)])
        #expect(try blind.evaluate(readings: next, now: t0, history: { $0.map { _ in [] } }).changes.isEmpty)
    }

    @Test("lifecycle: raised, acknowledged, escalated (open again), stepped down, resolved by itself, closed with a note")
    func lifecycle() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        func change(_ from: Int, _ to: Int, at m: Int64) -> AlertLevelChange {
            AlertLevelChange(
                rule: "rainstorm", device: "rain-1", domain: "flood", metric: "rainfall", from: AlertLevel(stored: from),
                to: AlertLevel(stored: to), value: Double(to * 30),
                threshold: 50, at: t0 + m * minute, late: false, title: "t\(to)", message: "m\(to)")
        }
        let raised = try store.applyRuleEvaluation(states: [], changes: [change(0, 2, at: 0)], now: t0)
        let id = try #require(raised.first?.alert.id)
        _ = try store.acknowledgeAlert(id: id, by: "王五", note: "已通知村干部", now: t0 + minute)
        let escalated = try store.applyRuleEvaluation(states: [], changes: [change(2, 3, at: 5)], now: t0 + 5 * minute)
        #expect(escalated.first?.alert.status == .open)
        _ = try store.applyRuleEvaluation(states: [], changes: [change(3, 2, at: 30)])
        // A person cannot close an alert that is still live.
        #expect(throws: StoreError.self) { try store.closeAlert(id: id, by: "李四", note: "x") }
        let resolved = try store.applyRuleEvaluation(states: [], changes: [change(2, 0, at: 90)])
        #expect(resolved.first?.alert.status == .resolved)
        #expect(resolved.first?.alert.resolvedBy == "system")
        #expect(throws: StoreError.self) { try store.acknowledgeAlert(id: id, by: "王五", note: nil) }
        #expect(throws: StoreError.self) { try store.closeAlert(id: id, by: "李四", note: "  ") }
        _ = try store.closeAlert(id: id, by: "李四", note: "已排查，转移群众 12 人", now: t0 + 2 * hour)

        let alert = try #require(try store.alert(id: id))
        #expect(alert.status == .closed)
        #expect(alert.peakLevel == .orange)
        #expect(alert.level == .yellow)
        #expect(alert.closedBy == "李四")
        let transitions = try store.alertTransitions(id: id)
        #expect(transitions.map(\.kind) == [.raised, .acknowledged, .escalated, .steppedDown, .resolved, .closed])
        #expect(transitions.map(\.by) == ["system", "王五", "system", "system", "system", "李四"])
        #expect(transitions.map(\.status) == [.open, .acknowledged, .open, .open, .resolved, .closed])
        #expect(transitions[1].note == "已通知村干部")
        #expect(transitions[5].note == "已排查，转移群众 12 人")
        #expect(transitions[2].fromLevel == .level(.yellow) && transitions[2].toLevel == .level(.orange))

        // The next crossing raises a new alert; a step down after a person resolved it does not.
        let second = try store.applyRuleEvaluation(states: [], changes: [change(0, 1, at: 200)])
        #expect(second.first?.alert.id != id)
        let secondID = try #require(second.first?.alert.id)
        _ = try store.resolveAlert(id: secondID, by: "王五", note: "现场处置完毕")
        #expect(try store.applyRuleEvaluation(states: [], changes: [change(2, 1, at: 210)]).isEmpty)
        #expect(try store.alerts(AlertQuery(statuses: [.open, .acknowledged])).isEmpty)
    }

    @Test("contact escalation: an unacknowledged orange alert moves up one tier at a time, once per tier")
    func contactEscalation() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let change = AlertLevelChange(
            rule: "stage", device: "g", domain: "flood", metric: "water_level", from: nil, to: .orange, value: 14, threshold: 13.8,
            at: t0, late: false, title: "t", message: "m")
        let id = try #require(try store.applyRuleEvaluation(states: [], changes: [change], now: t0).first?.alert.id)
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: t0, maxTier: 2).isEmpty)
        let due = try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: t0 + 30 * minute, maxTier: 2)
        #expect(due.map(\.id) == [id])
        #expect(try store.recordContactEscalation(id: id, tier: 1, note: "town", now: t0 + 31 * minute)?.alert.contactTier == 1)
        #expect(try store.recordContactEscalation(id: id, tier: 1, note: "town", now: t0 + 31 * minute) == nil)
        _ = try store.acknowledgeAlert(id: id, by: "镇值班", note: nil)
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: t0 + 90 * minute, maxTier: 2).isEmpty)
    }
}
