import Logging
import Metrics
import ServiceLifecycle
import ShennongAlerts
import Synchronization

/// Pushes alert transitions out through its ``Notifier``s (MQTT, webhooks, contacts'
/// gateways, rule automation), durably: a transactional outbox.
///
/// Every transition is committed with the alert as it was right after it (``AlertOutbox``);
/// each notifier follows the committed transitions with a cursor of its own, kept in the
/// database under its ``Notifier/name``. A notifier gets the messages it ``Notifier/wants(_:)``
/// in transition order, one at a time (a retry holds back its later ones, not the other
/// notifiers'); its cursor advances once it delivered (or gave up on) a message. A process
/// killed between a commit and a delivery, or a receiver down across a restart, therefore
/// delays a notification, never loses it: the next run (or the next leader) resumes from the
/// cursor. The price is at least once: a message delivered just before a crash is sent again,
/// with the same ``AlertMessage/delivery`` id, for receivers to drop duplicates.
///
/// A notifier seen for the first time starts at the newest transition (no replay of history).
/// Alerts marked late (raised from backfilled readings) are recorded but not pushed.
/// ``enqueue(_:)`` never blocks and never fails (ingest calls it): it only wakes the followers,
/// which otherwise look for transitions committed elsewhere (other nodes' pages) every second.
/// `shennong_alert_notifications_behind{notifier}` is how many transitions were committed past
/// a notifier's cursor (0 when it has caught up).
public final class AlertNotifier: Service, Sendable {
    private let outbox: any AlertOutbox
    private let notifiers: [any Notifier]
    /// Each notifier's cursor name (its ``Notifier/name``, made unique).
    private let names: [String]
    private let wakeups: [Wakeup]
    private let catalog: RuleCatalog
    private let offsetMinutes: Int
    private let poll: Duration
    private let logger: Logger

    /// Transitions read per turn.
    static let batch = 200

    /// Starts the cursor of each notifier seen for the first time at the newest transition.
    /// - Parameters:
    ///   - offsetMinutes: the local time offset of the JSON's times (CAP's `offset`).
    ///   - poll: how often followers look for transitions they were not woken for.
    public init(
        outbox: any AlertOutbox, notifiers: [any Notifier], catalog: RuleCatalog, offsetMinutes: Int,
        poll: Duration = .seconds(1), logger: Logger
    ) throws {
        self.outbox = outbox
        self.notifiers = notifiers
        var seen: [String: Int] = [:]
        names = notifiers.map { notifier in
            let count = seen[notifier.name, default: 0] + 1
            seen[notifier.name] = count
            return count == 1 ? notifier.name : "\(notifier.name)~\(count)"
        }
        wakeups = notifiers.map { _ in Wakeup() }
        self.catalog = catalog
        self.offsetMinutes = offsetMinutes
        self.poll = poll
        self.logger = logger
        if !names.isEmpty {
            let newest = try outbox.newestAlertTransition()
            for name in names {
                guard try outbox.notificationCursor(name) == nil else { continue }
                try outbox.advanceNotificationCursor(name, to: newest)
                logger.info("new alert notifier starts at the newest transition", metadata: ["notifier": "\(name)", "transition": "\(newest)"])
            }
        }
    }

    /// Wakes the followers for transitions just committed (late ones are not pushed).
    public func enqueue(_ notices: [AlertNotice]) {
        guard notices.contains(where: { !$0.transition.late }) else { return }
        for wakeup in wakeups { wakeup.signal() }
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in notifiers.indices {
                group.addTask { [self] in try await follow(index) }
            }
            // The first to end is a follower at graceful shutdown, or a notifier that could
            // not start: its error ends the service.
            try await group.next()
            group.cancelAll()
        }
    }

    /// One notifier: its run, fed from the outbox after its cursor, one message at a time.
    private func follow(_ index: Int) async throws {
        let notifier = notifiers[index]
        let (messages, input) = AsyncStream.makeStream(of: AlertMessage.self)
        let (settles, settle) = AsyncStream.makeStream(of: Int64.self)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await notifier.run(messages, settled: { settle.yield($0.notice.transition.id) }) }
                group.addTask { [self] in await pump(index, into: input, settles: settles) }
                try await group.next()
                input.finish()
                settle.finish()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            input.finish()
            settle.finish()
            self.wakeups[index].signal()
        }
    }

    /// Reads the outbox after the notifier's cursor and hands it each message it wants, waiting
    /// for each to be settled before the cursor passes it.
    private func pump(_ index: Int, into input: AsyncStream<AlertMessage>.Continuation, settles: AsyncStream<Int64>) async {
        let notifier = notifiers[index]
        let name = names[index]
        let wakeup = wakeups[index]
        let behind = Gauge(label: "shennong_alert_notifications_behind", dimensions: [("notifier", name)])
        var settled = settles.makeAsyncIterator()
        var cursor: Int64?
        var stored: Int64 = .min
        var failing = false
        func problem(_ what: String, _ error: any Error) {
            if !failing { logger.error("alert outbox: \(what); retrying", metadata: ["notifier": "\(name)", "error": "\(error)"]) }
            failing = true
        }
        /// Persists the cursor at `id`; a failure is retried with the next advance (a restart
        /// before then sends those messages again).
        func advance(to id: Int64) {
            cursor = id
            do {
                try outbox.advanceNotificationCursor(name, to: id)
                stored = id
            } catch {
                problem("cannot store the cursor", error)
            }
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let notices: [AlertNotice]
            let at: Int64
            do {
                if cursor == nil { cursor = try outbox.notificationCursor(name) ?? outbox.newestAlertTransition() }
                at = cursor ?? 0
                notices = try outbox.notices(after: at, limit: Self.batch)
                behind.record(max(0, try outbox.newestAlertTransition() - at))
                failing = false
            } catch {
                problem("cannot read", error)
                await wakeup.wait(timeout: poll)
                continue
            }
            guard let last = notices.last else {
                if stored < at { advance(to: at) }
                await wakeup.wait(timeout: poll)
                continue
            }
            for notice in notices {
                guard !notice.transition.late, notifier.wants(notice) else { continue }
                input.yield(message(notice))
                // One in flight: the cursor passes a message only once the notifier settled it.
                guard await settled.next() != nil else { return }
                advance(to: notice.transition.id)
            }
            if (cursor ?? 0) < last.transition.id { cursor = last.transition.id }
            if notices.count < Self.batch, let cursor, stored < cursor { advance(to: cursor) }
        }
    }

    /// The message of `notice`: the alert as JSON with what just happened and its delivery id.
    func message(_ notice: AlertNotice) -> AlertMessage {
        var json = AlertJSON(
            notice.alert, rule: catalog.rule(id: notice.alert.rule), transition: notice.transition,
            offsetMinutes: offsetMinutes)
        json.delivery = AlertMessage.delivery(notice)
        return AlertMessage(notice: notice, body: json.encoded())
    }
}

/// A follower's wake-up: ``signal()`` (also one given before the wait) or a timeout ends ``wait(timeout:)``.
private final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { state -> UInt64? in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.generation += 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else { return continuation.resume() }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                expire(generation)
            }
        }
    }

    private func expire(_ generation: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
