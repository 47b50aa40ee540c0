import PostgresNIO
import ShennongAlerts
import ShennongCore

/// The alert outbox (``AlertOutbox``) on PostgreSQL, as on SQLite (Store+Notifications.swift).
///
/// Transition ids come from a sequence, which alone would not give commit order (a lower id
/// may commit after a higher one is read). Here it does: every alert write runs in ``write(_:)``
/// or ``fencedWrite(_:)``, whose transaction takes the writer advisory lock before anything
/// else and holds it until its commit, so ids are drawn and committed one transaction at a time.
/// A rolled-back transaction leaves a gap, never a later-committing lower id.
///
/// Cursor advances are fenced like the leader's other writes: a node that lost the lease cannot
/// move a cursor the new leader owns.
extension PostgresStore: AlertOutbox {
    static let notificationSchema: [String] = [
        "ALTER TABLE alert_transitions ADD COLUMN alert_snapshot text",
        """
        CREATE TABLE notification_cursors (
            notifier text PRIMARY KEY, transition_id bigint NOT NULL, updated_at bigint NOT NULL)
        """,
    ]

    public func notices(after transition: Int64, limit: Int) throws -> [AlertNotice] {
        try read { s in
            var rows: [(AlertTransition, String?)] = []
            for row in try s.query(
                """
                SELECT \(Self.transitionColumns), alert_snapshot FROM alert_transitions WHERE id > $1 ORDER BY id LIMIT $2
                """, bindings(transition, Int64(max(0, limit))))
            {
                let snapshot = try row.makeRandomAccess()[12].decode(String?.self)
                rows.append((try Self.decodeTransition(row), snapshot))
            }
            let missing = Set(rows.filter { $0.1.flatMap(AlertRecord.init(snapshot:)) == nil }.map(\.0.alertID))
            var current: [Int64: AlertRecord] = [:]
            if !missing.isEmpty {
                for row in try s.query(
                    "SELECT \(Self.alertColumns) FROM alerts WHERE id = ANY($1)", bindings(Array(missing)))
                {
                    let alert = try Self.decodeAlert(row)
                    current[alert.id] = alert
                }
            }
            return rows.compactMap { t, snapshot in
                (snapshot.flatMap(AlertRecord.init(snapshot:)) ?? current[t.alertID]).map { AlertNotice(alert: $0, transition: t) }
            }
        }
    }

    public func notificationCursor(_ notifier: String) throws -> Int64? {
        try read { s in
            try s.query("SELECT transition_id FROM notification_cursors WHERE notifier = $1", bindings(notifier))
                .first?.decode(Int64.self)
        }
    }

    public func advanceNotificationCursor(_ notifier: String, to transition: Int64) throws {
        let now = nowMillis()
        try fencedWrite { s in
            try s.query(
                """
                INSERT INTO notification_cursors (notifier, transition_id, updated_at) VALUES ($1, $2, $3)
                ON CONFLICT (notifier) DO UPDATE SET transition_id = greatest(notification_cursors.transition_id,
                    excluded.transition_id), updated_at = excluded.updated_at
                """, bindings(notifier, transition, now))
        }
    }
}
