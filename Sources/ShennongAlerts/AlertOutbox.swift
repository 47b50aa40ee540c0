import Foundation

/// The door to durable alert notifications, a transactional outbox: every committed alert
/// transition, in commit order, with the alert as it was right after it (written in the
/// transition's own transaction), and per notifier a cursor of what it has delivered.
/// ``AlertNotifier`` (ShennongRules) follows it, so a notification committed is sent at least
/// once, across crashes, restarts and a change of leader.
///
/// Transition ids are assigned in commit order (every engine serializes its writers: SQLite's
/// one writer, PostgreSQL's writer advisory lock held from the id's assignment to the commit),
/// so a cursor never passes a transition that commits later with a lower id.
public protocol AlertOutbox: Sendable {
    /// Transitions with an id above `transition`, by id, at most `limit`, each with the alert as
    /// it was right after it (transitions written before the outbox existed: as it is now).
    func notices(after transition: Int64, limit: Int) throws -> [AlertNotice]
    /// The newest transition id, 0 when none.
    func newestAlertTransition() throws -> Int64
    /// The transition up to which `notifier` has delivered (or given up), `nil` for a notifier never seen.
    func notificationCursor(_ notifier: String) throws -> Int64?
    /// Records that `notifier` has delivered (or given up on) every transition up to `transition`.
    /// A cursor never moves back: a lower `transition` than the stored one changes nothing.
    func advanceNotificationCursor(_ notifier: String, to transition: Int64) throws
}

extension AlertRecord {
    /// The record as the outbox keeps it beside a transition: JSON (sorted keys).
    public var snapshot: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The record of a ``snapshot``, `nil` when it is not one.
    public init?(snapshot: String) {
        guard let record = try? JSONDecoder().decode(AlertRecord.self, from: Data(snapshot.utf8)) else { return nil }
        self = record
    }
}
