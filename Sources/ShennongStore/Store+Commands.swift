import Foundation
import GRDB
import ShennongCommands
import ShennongCore

/// Tables of device commands (ShennongCommands): one row per command, one per transition.
///
/// - `commands`: the command as ``CommandLifecycle`` last decided it; a partial index finds
///   the unfinished ones (queued, sending, sent, acknowledged) that the sender and the timers
///   work on.
/// - `command_transitions`: every change with who, when and a note.
extension Store {
    static func registerCommandMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration(
            "commands-v1: commands, transitions",
            sql: """
                CREATE TABLE commands (
                    id TEXT PRIMARY KEY NOT NULL,
                    device TEXT NOT NULL,
                    name TEXT NOT NULL,
                    args TEXT NOT NULL,
                    state TEXT NOT NULL,
                    issued_by TEXT NOT NULL,
                    rule TEXT,
                    alert_id INTEGER,
                    trigger TEXT,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    not_before INTEGER,
                    reply_within INTEGER NOT NULL,
                    confirm_metric TEXT,
                    confirm_value REAL,
                    confirm_within INTEGER NOT NULL,
                    sending_at INTEGER,
                    sent_at INTEGER,
                    replied_at INTEGER,
                    confirmed_at INTEGER,
                    finished_at INTEGER,
                    detail TEXT,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX commands_device ON commands(device, issued_at);
                CREATE INDEX commands_unfinished ON commands(state)
                    WHERE state IN ('queued', 'sending', 'sent', 'acknowledged');
                CREATE INDEX commands_alert ON commands(alert_id) WHERE alert_id IS NOT NULL;
                CREATE TABLE command_transitions (
                    id INTEGER PRIMARY KEY,
                    command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
                    from_state TEXT,
                    to_state TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    by TEXT NOT NULL,
                    note TEXT
                );
                CREATE INDEX command_transitions_command ON command_transitions(command_id, id);
                """)
    }
}

extension Store: CommandStore {
    public func insertCommand(_ decision: CommandDecision) throws -> CommandDecision {
        try pool.write { db in
            if try CommandRow.exists(db, key: decision.command.id) {
                throw StoreError(.conflict, "command id \(decision.command.id) is already used")
            }
            try CommandRow(decision.command).insert(db)
            return try Self.record(decision, in: db)
        }
    }

    public func applyCommandEvent(id: String, event: CommandEvent, by: String, now: Int64) throws -> CommandDecision? {
        try pool.write { db in
            let command = try CommandRow.fetchOne(db, key: id)?.command()
            guard let decision = try CommandLifecycle.apply(event, toStored: command, id: id, by: by, now: now) else {
                return nil
            }
            try CommandRow(decision.command).update(db)
            return try Self.record(decision, in: db)
        }
    }

    /// Writes the decision's transition; returns the decision with the transition's id.
    private static func record(_ decision: CommandDecision, in db: Database) throws -> CommandDecision {
        var row = CommandTransitionRow(decision.transition)
        row.id = nil
        try row.insert(db)
        var out = decision
        out.transition.id = row.id ?? 0
        return out
    }

    public func command(id: String) throws -> CommandRecord? {
        try pool.read { db in try CommandRow.fetchOne(db, key: id)?.command() }
    }

    public func commands(_ query: CommandQuery) throws -> [CommandRecord] {
        try pool.read { db in
            var request = CommandRow.all()
            if let device = query.device { request = request.filter(Column("device") == device) }
            if let states = query.states, !states.isEmpty {
                request = request.filter(states.map(\.rawValue).contains(Column("state")))
            }
            if let rule = query.rule { request = request.filter(Column("rule") == rule) }
            if let alert = query.alert { request = request.filter(Column("alert_id") == alert) }
            if let automatic = query.automatic {
                request = request.filter(automatic ? Column("rule") != nil : Column("rule") == nil)
            }
            if let since = query.issuedSince { request = request.filter(Column("issued_at") >= since) }
            return try request.order(Column("issued_at").desc, Column("rowid").desc).limit(max(1, query.limit))
                .fetchAll(db).map { try $0.command() }
        }
    }

    public func commandTransitions(id: String) throws -> [CommandTransition] {
        try pool.read { db in
            try CommandTransitionRow.filter(Column("command_id") == id).order(Column("id")).fetchAll(db).map(\.transition)
        }
    }
}
