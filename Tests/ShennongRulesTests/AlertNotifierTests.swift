import Foundation
import Logging
import ShennongAlerts
import ShennongCore
import ShennongStore
import Synchronization
import Testing

@testable import ShennongRules

/// The notifier following the outbox on a real SQLite store: per notifier in transition order,
/// late ones and unwanted ones left out, a new notifier starting at the newest transition, the
/// cursor passing a message only once it was settled, and a restart resuming from the cursor.
@Suite struct AlertNotifierTests {
    /// A notifier that records what it is handed and settles it (or, `holding`, never does).
    final class Recorder: Notifier {
        let name: String
        let holding: Bool
        let kinds: Set<AlertTransitionKind>?
        let received = Mutex<[AlertMessage]>([])

        init(_ name: String, holding: Bool = false, kinds: Set<AlertTransitionKind>? = nil) {
            self.name = name
            self.holding = holding
            self.kinds = kinds
        }

        func wants(_ notice: AlertNotice) -> Bool { kinds.map { $0.contains(notice.transition.kind) } ?? true }

        func run(_ messages: AsyncStream<AlertMessage>, settled: @escaping @Sendable (AlertMessage) -> Void) async throws {
            for await message in messages {
                received.withLock { $0.append(message) }
                if !holding { settled(message) }
            }
        }

        var deliveries: [String] { received.withLock { $0.map(\.delivery) } }
    }

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func change(_ from: AlertLevel?, _ to: AlertLevel?, device: String = "g1", late: Bool = false) -> AlertLevelChange {
        AlertLevelChange(
            rule: "stage", device: device, domain: "flood", metric: "water_level", from: from, to: to, value: 3,
            threshold: 3, at: 1_763_683_200_000, late: late, title: "t", message: "m")
    }

    /// An AlertNotifier following `store`'s outbox with `notifiers`, polling every 100 ms.
    static func notifier(_ store: Store, _ notifiers: [any Notifier]) throws -> AlertNotifier {
        try AlertNotifier(
            outbox: store, notifiers: notifiers, catalog: RuleCatalog(rules: []), offsetMinutes: 480, poll: .milliseconds(100),
            logger: logger)
    }

    static func start(_ notifier: AlertNotifier) -> Task<Void, Never> {
        Task { try? await notifier.run() }
    }

    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test("each notifier in transition order, without late or unwanted transitions; a new one starts at the newest")
    func followsTheOutbox() async throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Committed before the notifiers exist: history, not sent.
        _ = try store.applyRuleEvaluation(states: [], changes: [Self.change(nil, .blue, device: "old")])
        let every = Recorder("every")
        let raises = Recorder("raises", kinds: [.raised])
        let notifier = try Self.notifier(store, [every, raises])
        let task = Self.start(notifier)
        defer { task.cancel() }
        var notices = try store.applyRuleEvaluation(states: [], changes: [Self.change(nil, .yellow)])
        notices += try store.applyRuleEvaluation(states: [], changes: [Self.change(nil, .red, device: "late", late: true)])
        notices.append(try store.acknowledgeAlert(id: notices[0].alert.id, by: "王五", note: nil))
        notices += try store.applyRuleEvaluation(states: [], changes: [Self.change(.yellow, .orange)])
        // Woken for the first only: the rest are found by polling.
        notifier.enqueue(Array(notices.prefix(1)))
        let expected = [notices[0], notices[2], notices[3]].map(AlertMessage.delivery)
        #expect(await Self.eventually { every.deliveries == expected }, "\(every.deliveries)")
        #expect(raises.deliveries == [AlertMessage.delivery(notices[0])])
        // The alert as it was at each transition, and the delivery id in the body.
        let bodies = every.received.withLock { $0 }.map { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.body)) }
        #expect(bodies.map { $0?["status"] } == [.string("open"), .string("acknowledged"), .string("open")])
        #expect(bodies.map { $0?["delivery"] } == expected.map(JSONValue.string))
        let newest = try store.newestAlertTransition()
        #expect(await Self.eventually { (try? store.notificationCursor("every")) == newest })
        #expect(await Self.eventually { (try? store.notificationCursor("raises")) == newest }, "passes what it does not want")
    }

    @Test("the cursor passes only what was settled: after a restart the unsettled message comes again, the settled ones do not")
    func resumesFromTheCursor() async throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let holding = Recorder("hook", holding: true)
        let first = try Self.notifier(store, [holding])
        let start = try #require(try store.notificationCursor("hook"))
        let task = Self.start(first)
        let raised = try store.applyRuleEvaluation(states: [], changes: [Self.change(nil, .yellow)])
        let escalated = try store.applyRuleEvaluation(states: [], changes: [Self.change(.yellow, .red)])
        first.enqueue(raised + escalated)
        #expect(await Self.eventually { holding.deliveries == raised.map(AlertMessage.delivery) }, "one at a time: the next waits")
        try await Task.sleep(for: .milliseconds(300))
        #expect(holding.deliveries.count == 1)
        #expect(try store.notificationCursor("hook") == start, "not settled: the cursor stays")
        task.cancel()
        _ = await task.value

        // "Restarted": the same name resumes from the cursor and gets both, in order.
        let settling = Recorder("hook")
        let second = try Self.notifier(store, [settling])
        let again = Self.start(second)
        let both = (raised + escalated).map(AlertMessage.delivery)
        #expect(await Self.eventually { settling.deliveries == both }, "\(settling.deliveries)")
        #expect(await Self.eventually { (try? store.notificationCursor("hook")) == escalated.last?.transition.id })
        again.cancel()
        _ = await again.value

        // And once more: nothing comes again.
        let after = Recorder("hook")
        let third = try Self.notifier(store, [after])
        let last = Self.start(third)
        try await Task.sleep(for: .milliseconds(400))
        #expect(after.deliveries.isEmpty)
        last.cancel()
        _ = await last.value
    }
}
