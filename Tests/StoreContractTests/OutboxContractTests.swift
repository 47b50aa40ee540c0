import Foundation
import ShennongAlerts
import ShennongCore
import Synchronization
import Testing

/// The alert outbox on every engine: each committed transition read back in commit order with
/// the alert as it was right after it (not as it is now), and the notifiers' cursors.
@Suite("store contract: alert outbox")
struct OutboxContractTests {
    typealias F = Fixture
    typealias A = AlertContractTests

    @Test("each transition with the alert as it was right after it, by id; after and limit", arguments: StoreEngine.all)
    func snapshots(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        #expect(try store.newestAlertTransition() == 0)
        #expect(try store.notices(after: 0, limit: 10).isEmpty)
        var written: [AlertNotice] = []
        written += try store.applyRuleEvaluation(states: [], changes: [A.change(nil, .yellow, at: 0)], now: F.t0 + 1)
        let id = try #require(written.first?.alert.id)
        written.append(try store.acknowledgeAlert(id: id, by: "王五", note: "已通知", now: F.t0 + 2))
        written += try store.applyRuleEvaluation(states: [], changes: [A.change(.yellow, .red, at: 5)], now: F.t0 + 3)
        written.append(try #require(try store.recordContactEscalation(id: id, tier: 1, note: "up", now: F.t0 + 4)))
        written.append(try #require(try store.recordContactEscalation(id: id, tier: 2, note: "up", now: F.t0 + 5)))
        written += try store.applyRuleEvaluation(states: [], changes: [A.change(.red, nil, at: 9)], now: F.t0 + 6)
        #expect(written.count == 6)

        let notices = try store.notices(after: 0, limit: 10)
        #expect(notices == written, "every transition with the alert exactly as its write returned it")
        #expect(notices.map(\.alert.status) == [.open, .acknowledged, .open, .open, .open, .resolved])
        #expect(notices.map(\.alert.level) == [.yellow, .yellow, .red, .red, .red, .red])
        // The tier each escalation was told to, though the alert is at tier 2 now.
        #expect(notices.map(\.alert.contactTier) == [0, 0, 0, 1, 2, 2])
        #expect(try store.alert(id: id)?.contactTier == 2)
        let ids = notices.map(\.transition.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        #expect(try store.newestAlertTransition() == ids.last)
        #expect(try store.notices(after: ids[2], limit: 10) == Array(written[3...]))
        #expect(try store.notices(after: ids[0], limit: 2).map(\.transition.id) == [ids[1], ids[2]])
        #expect(try store.notices(after: ids[5], limit: 10).isEmpty)
    }

    @Test("cursors: none for a notifier never seen, one per name, never moving back", arguments: StoreEngine.all)
    func cursors(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        #expect(try store.notificationCursor("mqtt") == nil)
        try store.advanceNotificationCursor("mqtt", to: 0)
        #expect(try store.notificationCursor("mqtt") == 0)
        try store.advanceNotificationCursor("webhook:a:1", to: 7)
        try store.advanceNotificationCursor("mqtt", to: 5)
        #expect(try store.notificationCursor("mqtt") == 5)
        #expect(try store.notificationCursor("webhook:a:1") == 7)
        try store.advanceNotificationCursor("mqtt", to: 3)
        #expect(try store.notificationCursor("mqtt") == 5, "a cursor never moves back")
        try store.advanceNotificationCursor("mqtt", to: 9)
        #expect(try store.notificationCursor("mqtt") == 9)
        #expect(try store.notificationCursor("webhook:a:1") == 7)
        #expect(try store.notificationCursor("automation") == nil)
    }

    @Test("a cursor following concurrent writers sees every transition once: ids are in commit order", arguments: StoreEngine.all)
    func commitOrder(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let writers = 4
        let perWriter = 25
        let written = Shared<[Int64]>([])
        let done = Shared(0)
        for w in 0..<writers {
            Thread.detachNewThread {
                for i in 0..<perWriter {
                    let device = "gauge-\(w)-\(i)"
                    if let notices = try? store.applyRuleEvaluation(
                        states: [], changes: [A.change(nil, .blue, at: Int64(i), device: device)], now: F.t0 + Int64(i))
                    {
                        written.value.withLock { $0 += notices.map(\.transition.id) }
                    }
                }
                done.value.withLock { $0 += 1 }
            }
        }
        var cursor: Int64 = 0
        var seen: [Int64] = []
        while true {
            let finished = done.value.withLock { $0 } == writers
            let notices = try store.notices(after: cursor, limit: 7)
            seen += notices.map(\.transition.id)
            cursor = notices.last?.transition.id ?? cursor
            if finished && notices.isEmpty { break }
        }
        let all = written.value.withLock { $0 }
        #expect(all.count == writers * perWriter)
        #expect(seen.sorted() == all.sorted(), "the follower skipped none and saw none twice")
    }
}

/// A value shared with the writer threads.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
