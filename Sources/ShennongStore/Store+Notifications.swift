import Foundation
import GRDB
import ShennongAlerts
import ShennongCore

/// The alert outbox (``AlertOutbox``) on SQLite.
///
/// - `alert_transitions.alert_snapshot`: the alert as it was right after the transition (JSON,
///   ``AlertRecord/snapshot``), written with the transition (Store+Alerts.swift); NULL for
///   transitions written before this migration.
/// - `notification_cursors`: per notifier (`mqtt`, `webhook:…`, `automation`) the transition up
///   to which it has delivered.
///
/// One writer at a time: transition ids are assigned in commit order.
extension Store: AlertOutbox {
    static func registerNotificationMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration(
            "notifications-v1: alert snapshots per transition, notifier cursors",
            sql: """
                ALTER TABLE alert_transitions ADD COLUMN alert_snapshot TEXT;
                CREATE TABLE notification_cursors (
                    notifier TEXT PRIMARY KEY NOT NULL,
                    transition_id INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
    }

    public func notices(after transition: Int64, limit: Int) throws -> [AlertNotice] {
        try pool.read { db in
            let rows = try AlertTransitionRow.filter(Column("id") > transition).order(Column("id"))
                .limit(max(0, limit)).fetchAll(db)
            var current: [Int64: AlertRecord] = [:]
            return try rows.compactMap { row in
                let t = row.transition
                if let snapshot = row.alertSnapshot.flatMap(AlertRecord.init(snapshot:)) {
                    return AlertNotice(alert: snapshot, transition: t)
                }
                if current[t.alertID] == nil { current[t.alertID] = try AlertRow.fetchOne(db, key: t.alertID)?.alert }
                return current[t.alertID].map { AlertNotice(alert: $0, transition: t) }
            }
        }
    }

    public func notificationCursor(_ notifier: String) throws -> Int64? {
        try pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT transition_id FROM notification_cursors WHERE notifier = ?", arguments: [notifier])
        }
    }

    public func advanceNotificationCursor(_ notifier: String, to transition: Int64) throws {
        let now = nowMillis()
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notification_cursors (notifier, transition_id, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(notifier) DO UPDATE SET transition_id = max(transition_id, excluded.transition_id),
                        updated_at = excluded.updated_at
                    """,
                arguments: [notifier, transition, now])
        }
    }
}
