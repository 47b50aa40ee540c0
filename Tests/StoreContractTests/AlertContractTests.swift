import Foundation
import ShennongAlerts
import ShennongCore
import Testing

/// The alert persistence door on every engine: rule states, the lifecycle's decisions written
/// and read back with their levels, refusals as store errors, escalation queries, listings.
@Suite("store contract: alerts")
struct AlertContractTests {
    typealias F = Fixture
    static let minute: Int64 = 60_000

    static func change(
        _ from: AlertLevel?, _ to: AlertLevel?, at m: Int64, rule: String = "stage", device: String = "gauge-1",
        domain: String = "flood"
    ) -> AlertLevelChange {
        AlertLevelChange(
            rule: rule, device: device, domain: domain, metric: "water_level", from: from, to: to,
            value: Double(m) / 10, threshold: to.map { Double($0.rawValue) }, at: F.t0 + m * minute, late: false,
            title: "t \(to?.name ?? "none")", message: "m \(to?.name ?? "none")")
    }

    @Test("rule states: written with the evaluation, replaced on the next, read back with the level or none", arguments: StoreEngine.all)
    func ruleStates(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        #expect(try store.ruleStates().isEmpty)
        let a = RuleStateRecord(rule: "stage", device: "gauge-1", level: .orange, watermark: 5, state: "{\"w\":[5]}", updatedAt: 7)
        let b = RuleStateRecord(rule: "stage", device: "gauge-2", level: nil, watermark: 3, state: "{}", updatedAt: 7)
        #expect(try store.applyRuleEvaluation(states: [a, b], changes: [], now: F.t0).isEmpty)
        var a2 = a
        a2.level = .red
        a2.watermark = 9
        _ = try store.applyRuleEvaluation(states: [a2], changes: [], now: F.t0)
        let states = try store.ruleStates().sorted { $0.device < $1.device }
        #expect(states == [a2, b])
    }

    @Test("one evaluation with several changes of one rule and device: each sees what the one before wrote", arguments: StoreEngine.all)
    func changesInOneEvaluation(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let notices = try store.applyRuleEvaluation(
            states: [],
            changes: [
                Self.change(nil, .yellow, at: 0), Self.change(nil, .blue, at: 1, device: "gauge-2"),
                Self.change(.yellow, .red, at: 2), Self.change(.red, nil, at: 3),
                Self.change(nil, .orange, at: 4),  // raised again after it resolved: a new alert
            ], now: F.t0 + 5 * Self.minute)
        #expect(notices.map(\.transition.kind) == [.raised, .raised, .escalated, .resolved, .raised])
        let first = notices[0].alert.id
        #expect(notices[2].alert.id == first && notices[3].alert.id == first && notices[4].alert.id != first)
        #expect(notices[1].alert.device == "gauge-2" && notices[1].alert.id != first)
        let stored = try #require(try store.alert(id: first))
        #expect(stored.status == .resolved && stored.peakLevel == .red && stored == notices[3].alert)
        #expect(try store.alertTransitions(id: first).map(\.kind) == [.raised, .escalated, .resolved])
        #expect(try store.alert(id: notices[4].alert.id) == notices[4].alert)
        #expect(try store.liveAlertCounts() == [.blue: 1, .orange: 1])
        // The next evaluation finds the alert raised last as the live one.
        let next = try store.applyRuleEvaluation(states: [], changes: [Self.change(.orange, .red, at: 6)], now: F.t0 + 7 * Self.minute)
        #expect(next.map(\.alert.id) == [notices[4].alert.id] && next.first?.transition.kind == .escalated)
    }

    @Test("the lifecycle persisted: raise, acknowledge, escalate, step down, resolve by itself, close; ids and levels read back", arguments: StoreEngine.all)
    func lifecycle(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let raised = try store.applyRuleEvaluation(states: [], changes: [Self.change(nil, .yellow, at: 0)], now: F.t0 + 1)
        let id = try #require(raised.first?.alert.id)
        #expect(id > 0 && raised.first?.transition.alertID == id && (raised.first?.transition.id ?? 0) > 0)
        _ = try store.acknowledgeAlert(id: id, by: "王五", note: "已通知", now: F.t0 + 2)
        _ = try store.applyRuleEvaluation(states: [], changes: [Self.change(.yellow, .red, at: 5)], now: F.t0 + 3)
        _ = try store.applyRuleEvaluation(states: [], changes: [Self.change(.red, .orange, at: 30)], now: F.t0 + 4)
        let resolved = try store.applyRuleEvaluation(states: [], changes: [Self.change(.orange, nil, at: 90)], now: F.t0 + 5)
        let closed = try store.closeAlert(id: id, by: "李四", note: "已排查", now: F.t0 + 6)

        let alert = try #require(try store.alert(id: id))
        #expect(alert == closed.alert)
        #expect(alert.status == .closed && alert.level == .orange && alert.peakLevel == .red)
        #expect(alert.acknowledgedBy == "王五" && alert.resolvedBy == "system" && alert.closedBy == "李四")
        #expect(alert.resolvedAt == F.t0 + 90 * Self.minute && alert.closedAt == F.t0 + 6)
        let transitions = try store.alertTransitions(id: id)
        #expect(transitions.map(\.kind) == [.raised, .acknowledged, .escalated, .steppedDown, .resolved, .closed])
        #expect(transitions.map(\.fromLevel) == [nil, .level(.yellow), .level(.yellow), .level(.red), .level(.orange), .level(.orange)])
        #expect(transitions.map(\.toLevel) == [.level(.yellow), .level(.yellow), .level(.red), .level(.orange), TransitionLevel.none, .level(.orange)])
        #expect(transitions.map(\.status) == [.open, .acknowledged, .open, .open, .resolved, .closed])
        #expect(transitions[4].note == AlertLifecycle.clearedNote && transitions[5].note == "已排查")
        #expect(transitions.last == closed.transition)
        #expect(transitions[4] == resolved.first?.transition)
        #expect(transitions.allSatisfy { $0.alertID == id })
        #expect(try store.alertTransitions(id: id + 1).isEmpty)
        #expect(try store.alert(id: id + 1) == nil)
    }

    @Test("people's refusals are store errors: not_found, conflict, invalid_argument", arguments: StoreEngine.all)
    func refusals(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let id = try #require(try store.applyRuleEvaluation(states: [], changes: [Self.change(nil, .blue, at: 0)]).first?.alert.id)
        #expect((#expect(throws: StoreError.self) { try store.acknowledgeAlert(id: id + 9, by: "x", note: nil) })?.code == .notFound)
        #expect((#expect(throws: StoreError.self) { try store.closeAlert(id: id, by: "x", note: "done") })?.code == .conflict)
        #expect((#expect(throws: StoreError.self) { try store.closeAlert(id: id, by: "x", note: " ") })?.code == .invalidArgument)
        _ = try store.resolveAlert(id: id, by: "x", note: nil)
        #expect((#expect(throws: StoreError.self) { try store.acknowledgeAlert(id: id, by: "x", note: nil) })?.code == .conflict)
        #expect(try store.alertTransitions(id: id).map(\.kind) == [.raised, .resolved], "a refusal writes nothing")
    }

    @Test("escalation: open alerts of the level, told before the time, below the top tier; one tier at a time", arguments: StoreEngine.all)
    func escalation(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let notices = try store.applyRuleEvaluation(
            states: [],
            changes: [Self.change(nil, .orange, at: 0, device: "g-1"), Self.change(nil, .yellow, at: 0, device: "g-2")], now: F.t0)
        let orange = notices[0].alert.id
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: F.t0, maxTier: 2).isEmpty)
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: F.t0 + 1, maxTier: 2).map(\.id) == [orange])
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .yellow, notifiedBefore: F.t0 + 1, maxTier: 2).count == 2)
        let up = try #require(try store.recordContactEscalation(id: orange, tier: 1, note: "town", now: F.t0 + 30 * Self.minute))
        #expect(up.alert.contactTier == 1 && up.alert.notifiedAt == F.t0 + 30 * Self.minute)
        #expect(up.transition.kind == .contactsEscalated && up.transition.note == "town")
        #expect(try store.recordContactEscalation(id: orange, tier: 1, note: "town", now: F.t0 + 31 * Self.minute) == nil)
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: F.t0 + 40 * Self.minute, maxTier: 1).isEmpty)
        _ = try store.acknowledgeAlert(id: orange, by: "镇值班", note: nil)
        #expect(try store.alertsAwaitingAcknowledgement(minLevel: .orange, notifiedBefore: F.t0 + 90 * Self.minute, maxTier: 2).isEmpty)
        #expect(try store.recordContactEscalation(id: orange + 99, tier: 1, note: "x") == nil)
    }

    @Test("listings: filters, newest first, a limit; live counts by level", arguments: StoreEngine.all)
    func listings(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let notices = try store.applyRuleEvaluation(
            states: [],
            changes: [
                Self.change(nil, .yellow, at: 0, device: "g-1"), Self.change(nil, .red, at: 0, device: "g-2"),
                Self.change(nil, .yellow, at: 0, rule: "do-low", device: "pond-1", domain: "water"),
            ])
        let ids = notices.map(\.alert.id)
        _ = try store.resolveAlert(id: ids[1], by: "x", note: nil)
        #expect(try store.alerts().map(\.id) == ids.reversed())
        #expect(try store.alerts(AlertQuery(statuses: [.open, .acknowledged])).map(\.id) == [ids[2], ids[0]])
        #expect(try store.alerts(AlertQuery(level: .red)).map(\.id) == [ids[1]])
        #expect(try store.alerts(AlertQuery(domain: "water")).map(\.id) == [ids[2]])
        #expect(try store.alerts(AlertQuery(device: "g-1")).map(\.id) == [ids[0]])
        #expect(try store.alerts(AlertQuery(rule: "do-low")).map(\.id) == [ids[2]])
        #expect(try store.alerts(AlertQuery(limit: 1)).map(\.id) == [ids[2]])
        #expect(try store.liveAlertCounts() == [.yellow: 2])
    }

    @Test("history: each request's stored readings in [from, to), ascending; none for an unknown series", arguments: StoreEngine.all)
    func history(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        _ = try store.commit(F.batch(
            [F.reading("g-1", "water_level", F.t0 + 2 * Self.minute, 2), F.reading("g-1", "water_level", F.t0, 1),
             F.reading("g-1", "water_level", F.t0 + 9 * Self.minute, 9)],
            devices: [F.device("g-1", .flood)]))
        let results = try store.history([
            HistoryRequest(device: "g-1", metric: "water_level", from: F.t0, to: F.t0 + 9 * Self.minute),
            HistoryRequest(device: "g-1", metric: "rainfall", from: F.t0, to: F.t0 + 9 * Self.minute),
            HistoryRequest(device: "g-1", metric: "water_level", from: F.t0 + 5, to: F.t0 + 5),
        ])
        #expect(results.map { $0.map(\.value) } == [[1, 2], [], []])
        #expect(try store.history([]).isEmpty)
    }

    @Test("history of many series at once, across compacted buckets and a reopened one, a request asked twice answered twice", arguments: StoreEngine.all)
    func historyAcrossBuckets(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        var readings: [Reading] = []
        for device in ["g-1", "g-2", "g-3"] {
            for i in 0..<8 {  // every 12 h over four days
                let t = F.t0 + Int64(i) * F.day / 2
                readings.append(F.reading(device, "water_level", t, Double(i) + (device == "g-2" ? 0.5 : 0)))
            }
        }
        try store.commit(F.batch(readings, devices: ["g-1", "g-2", "g-3"].map { F.device($0, .flood) }))
        try store.compact(now: F.t0 + 10 * F.day, shouldContinue: { true })
        #expect(try store.bucketStats(now: F.t0 + 10 * F.day).map(\.state) == [.compacted, .compacted, .compacted, .compacted])
        // A late reading reopens a compacted bucket's series.
        try store.commit(F.batch([F.reading("g-3", "water_level", F.t0 + 6 * 3_600_000, 0.25)]))
        let wide = HistoryRequest(device: "g-2", metric: "water_level", from: F.t0 + F.day / 2, to: F.t0 + 3 * F.day + 1)
        let results = try store.history([
            wide,
            HistoryRequest(device: "g-1", metric: "water_level", from: F.t0, to: F.t0 + 4 * F.day),
            HistoryRequest(device: "g-9", metric: "water_level", from: F.t0, to: F.t0 + 4 * F.day),
            HistoryRequest(device: "g-3", metric: "water_level", from: F.t0, to: F.t0 + F.day),
            wide,
        ])
        #expect(results[0].map(\.value) == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
        #expect(results[1].map(\.value) == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(results[1].allSatisfy { $0.device == "g-1" && $0.metric == "water_level" })
        #expect(results[2].isEmpty)
        #expect(results[3].map(\.value) == [0, 0.25, 1])
        #expect(results[4] == results[0])
    }
}
