import Foundation
import PostgresNIO
import ShennongCommands
import ShennongCore

/// Device commands' tables, as on SQLite (`commands`, `command_transitions`): an event reads the
/// command, asks ``CommandLifecycle`` and writes its decision with its transition in one
/// transaction (under the store's writer lock, so two events on one command never interleave).
extension PostgresStore: CommandStore {
    static let commandSchema: [String] = [
        """
        CREATE TABLE commands (
            id text PRIMARY KEY, device text NOT NULL, name text NOT NULL, args text NOT NULL, state text NOT NULL,
            issued_by text NOT NULL, rule text, alert_id bigint, trigger text, issued_at bigint NOT NULL,
            expires_at bigint NOT NULL, not_before bigint, reply_within bigint NOT NULL, confirm_metric text,
            confirm_value double precision, confirm_within bigint NOT NULL, sending_at bigint, sent_at bigint,
            replied_at bigint, confirmed_at bigint, finished_at bigint, detail text, updated_at bigint NOT NULL,
            seq bigserial NOT NULL)
        """,
        "CREATE INDEX commands_device ON commands (device, issued_at)",
        "CREATE INDEX commands_unfinished ON commands (state) WHERE state IN ('queued', 'sending', 'sent', 'acknowledged')",
        "CREATE INDEX commands_alert ON commands (alert_id) WHERE alert_id IS NOT NULL",
        """
        CREATE TABLE command_transitions (
            id bigserial PRIMARY KEY, command_id text NOT NULL REFERENCES commands (id) ON DELETE CASCADE,
            from_state text, to_state text NOT NULL, at bigint NOT NULL, by text NOT NULL, note text)
        """,
        "CREATE INDEX command_transitions_command ON command_transitions (command_id, id)",
    ]

    static let commandColumns = """
        id, device, name, args, state, issued_by, rule, alert_id, trigger, issued_at, expires_at, not_before, reply_within,
        confirm_metric, confirm_value, confirm_within, sending_at, sent_at, replied_at, confirmed_at, finished_at, detail,
        updated_at
        """

    private static let argsEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func commandValues(_ c: CommandRecord) throws -> PostgresBindings {
        let args = String(decoding: try argsEncoder.encode(c.args), as: UTF8.self)
        return try bindings(
            list: [
                c.id, c.device, c.name, args, c.state.rawValue, c.issuedBy, c.origin.rule, c.origin.alert, c.origin.trigger,
                c.issuedAt, c.expiresAt, c.notBefore, c.replyWithin, c.confirm?.metric, c.confirm?.value, c.confirmWithin,
                c.sendingAt, c.sentAt, c.repliedAt, c.confirmedAt, c.finishedAt, c.detail, c.updatedAt,
            ])
    }

    static func decodeCommand(_ row: PostgresRow) throws -> CommandRecord {
        let r = row.makeRandomAccess()
        let id = try r[0].decode(String.self)
        let stateText = try r[4].decode(String.self)
        guard let state = CommandState(rawValue: stateText) else {
            throw StoreError(.corrupt, "command \(id) has an unknown state \(stateText)")
        }
        let argsText = try r[3].decode(String.self)
        guard let args = try? JSONDecoder().decode([String: CommandValue].self, from: Data(argsText.utf8)) else {
            throw StoreError(.corrupt, "command \(id) has arguments that are not a JSON object: \(argsText)")
        }
        let metric = try r[13].decode(String?.self)
        let value = try r[14].decode(Double?.self)
        return CommandRecord(
            id: id, device: try r[1].decode(String.self), name: try r[2].decode(String.self), args: args, state: state,
            issuedBy: try r[5].decode(String.self),
            origin: CommandOrigin(rule: try r[6].decode(String?.self), alert: try r[7].decode(Int64?.self), trigger: try r[8].decode(String?.self)),
            issuedAt: try r[9].decode(Int64.self), expiresAt: try r[10].decode(Int64.self), notBefore: try r[11].decode(Int64?.self),
            replyWithin: try r[12].decode(Int64.self),
            confirm: metric.flatMap { m in value.map { CommandStateSpec(metric: m, value: $0) } },
            confirmWithin: try r[15].decode(Int64.self), sendingAt: try r[16].decode(Int64?.self), sentAt: try r[17].decode(Int64?.self),
            repliedAt: try r[18].decode(Int64?.self), confirmedAt: try r[19].decode(Int64?.self),
            finishedAt: try r[20].decode(Int64?.self), detail: try r[21].decode(String?.self), updatedAt: try r[22].decode(Int64.self))
    }

    /// Writes the decision's transition; returns the decision with the transition's id.
    private static func record(_ decision: CommandDecision, in s: PostgresSession) throws -> CommandDecision {
        let t = decision.transition
        var out = decision
        out.transition.id = try s.query(
            """
            INSERT INTO command_transitions (command_id, from_state, to_state, at, by, note)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """, bindings(t.commandID, t.from?.rawValue, t.to.rawValue, t.at, t.by, t.note)
        ).first!.decode(Int64.self)
        return out
    }

    public func insertCommand(_ decision: CommandDecision) throws -> CommandDecision {
        try write { s in
            let placeholders = (1...23).map { "$\($0)" }.joined(separator: ", ")
            let inserted = try s.query(
                "INSERT INTO commands (\(Self.commandColumns)) VALUES (\(placeholders)) ON CONFLICT (id) DO NOTHING RETURNING id",
                Self.commandValues(decision.command))
            guard inserted.first != nil else {
                throw StoreError(.conflict, "command id \(decision.command.id) is already used")
            }
            return try Self.record(decision, in: s)
        }
    }

    public func applyCommandEvent(id: String, event: CommandEvent, by: String, now: Int64) throws -> CommandDecision? {
        // The sender's and the devices' events are the leader's work (fenced); people's are not.
        try fencedWrite(if: by == CommandLifecycle.system || by.hasPrefix("device:")) { s in
            let command = try s.query("SELECT \(Self.commandColumns) FROM commands WHERE id = $1", bindings(id))
                .first.map(Self.decodeCommand)
            guard let decision = try CommandLifecycle.apply(event, toStored: command, id: id, by: by, now: now) else {
                return nil
            }
            let columns = Self.commandColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            let sets = columns.enumerated().dropFirst().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
            try s.query("UPDATE commands SET \(sets) WHERE id = $1", Self.commandValues(decision.command))
            return try Self.record(decision, in: s)
        }
    }

    public func command(id: String) throws -> CommandRecord? {
        try read { s in
            try s.query("SELECT \(Self.commandColumns) FROM commands WHERE id = $1", bindings(id)).first.map(Self.decodeCommand)
        }
    }

    public func commands(_ query: CommandQuery) throws -> [CommandRecord] {
        var clauses: [String] = []
        var values: [(any PostgresThrowingDynamicTypeEncodable)?] = []
        func add(_ clause: String, _ value: any PostgresThrowingDynamicTypeEncodable) {
            values.append(value)
            clauses.append(clause.replacingOccurrences(of: "?", with: "$\(values.count)"))
        }
        if let device = query.device { add("device = ?", device) }
        if let states = query.states, !states.isEmpty { add("state = ANY(?)", states.map(\.rawValue)) }
        if let rule = query.rule { add("rule = ?", rule) }
        if let alert = query.alert { add("alert_id = ?", alert) }
        if let automatic = query.automatic { clauses.append(automatic ? "rule IS NOT NULL" : "rule IS NULL") }
        if let since = query.issuedSince { add("issued_at >= ?", since) }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        values.append(Int64(max(1, query.limit)))
        return try read { s in
            try s.query(
                "SELECT \(Self.commandColumns) FROM commands \(filter) ORDER BY issued_at DESC, seq DESC LIMIT $\(values.count)",
                bindings(list: values)
            ).map(Self.decodeCommand)
        }
    }

    public func commandTransitions(id: String) throws -> [CommandTransition] {
        try read { s in
            try s.query(
                "SELECT id, command_id, from_state, to_state, at, by, note FROM command_transitions WHERE command_id = $1 ORDER BY id",
                bindings(id)
            ).map { row in
                let (id, command, from, to, at, by, note) = try row.decode((Int64, String, String?, String, Int64, String, String?).self)
                return CommandTransition(
                    id: id, commandID: command, from: from.flatMap(CommandState.init(rawValue:)),
                    to: CommandState(rawValue: to) ?? .queued, at: at, by: by, note: note)
            }
        }
    }
}

extension PostgresStore {
    /// `db copy`: commands with their transitions as the source stored them (ids kept), oldest first.
    package func importCommands(_ commands: [(command: CommandRecord, transitions: [CommandTransition])]) throws {
        guard !commands.isEmpty else { return }
        try write { s in
            let placeholders = (1...23).map { "$\($0)" }.joined(separator: ", ")
            for (command, transitions) in commands {
                try s.query(
                    "INSERT INTO commands (\(Self.commandColumns)) VALUES (\(placeholders)) ON CONFLICT (id) DO NOTHING",
                    Self.commandValues(command))
                for t in transitions {
                    try s.query(
                        """
                        INSERT INTO command_transitions (id, command_id, from_state, to_state, at, by, note)
                        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING
                        """, bindings(t.id, t.commandID, t.from?.rawValue, t.to.rawValue, t.at, t.by, t.note))
                }
            }
            try s.execute(
                "SELECT setval(pg_get_serial_sequence('command_transitions', 'id'), greatest((SELECT max(id) FROM command_transitions), 1))")
        }
    }
}
