import Foundation
import GRDB
import ShennongCore

/// Tables of the warnings stage (ShennongRules): rule state, alerts and their transitions.
///
/// - `rule_state`: per (rule, device) the evaluator's persisted state (level timers, derived
///   accumulators) as JSON, its level and the newest reading time that changed it. Written
///   only when it changed, in the same transaction as the alert transitions it caused.
/// - `alerts`: one row per alert; a partial unique index keeps at most one open or
///   acknowledged alert per (rule, device).
/// - `alert_transitions`: every change of an alert (raised, escalated, stepped down,
///   acknowledged, resolved, closed, contacts escalated) with who, when and a note.
extension Store {
    static func registerAlertMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration("alerts-v1: rule state, alerts, transitions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rule_state (
                        rule TEXT NOT NULL,
                        device TEXT NOT NULL,
                        level INTEGER NOT NULL,
                        watermark INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (rule, device)
                    ) WITHOUT ROWID;
                    CREATE TABLE alerts (
                        id INTEGER PRIMARY KEY,
                        rule TEXT NOT NULL,
                        device TEXT NOT NULL,
                        domain TEXT NOT NULL,
                        metric TEXT,
                        level INTEGER NOT NULL,
                        peak_level INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        value REAL,
                        threshold REAL,
                        raised_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        late INTEGER NOT NULL DEFAULT 0,
                        title TEXT NOT NULL,
                        message TEXT NOT NULL,
                        acknowledged_by TEXT,
                        acknowledged_at INTEGER,
                        resolved_by TEXT,
                        resolved_at INTEGER,
                        closed_by TEXT,
                        closed_at INTEGER,
                        contact_tier INTEGER NOT NULL DEFAULT 0,
                        notified_at INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX alerts_one_open ON alerts(rule, device) WHERE status IN ('open', 'acknowledged');
                    CREATE INDEX alerts_status ON alerts(status, level);
                    CREATE INDEX alerts_device ON alerts(device, id);
                    CREATE TABLE alert_transitions (
                        id INTEGER PRIMARY KEY,
                        alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        from_level INTEGER,
                        to_level INTEGER,
                        status TEXT NOT NULL,
                        value REAL,
                        at INTEGER NOT NULL,
                        recorded_at INTEGER NOT NULL,
                        by TEXT NOT NULL,
                        note TEXT,
                        late INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id, id);
                    """)
        }
    }
}

/// Where an alert is in its closed loop (闭环): open → acknowledged → resolved → closed.
public enum AlertStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Raised (or escalated) and not yet acknowledged by a person.
    case open
    /// A person has seen it and is handling it.
    case acknowledged
    /// The condition cleared (by itself, after the clear delay) or a person marked it handled.
    case resolved
    /// A person closed it with a note. Final.
    case closed

    /// Open or acknowledged: the (rule, device) pair has a live alert.
    public var isLive: Bool { self == .open || self == .acknowledged }
}

/// What happened to an alert in one transition.
public enum AlertTransitionKind: String, Sendable, Codable, CaseIterable, Hashable {
    case raised
    case escalated
    case steppedDown = "stepped_down"
    case acknowledged
    case resolved
    case closed
    /// Left unacknowledged past the configured time: the next tier of contacts was notified.
    case contactsEscalated = "contacts_escalated"
}

/// One alert as stored. Levels are 1 blue, 2 yellow, 3 orange, 4 red.
public struct AlertRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var rule: String
    public var device: String
    public var domain: String
    public var metric: String?
    /// The current level (the last level while live; the level when it was resolved after).
    public var level: Int
    /// The highest level it reached.
    public var peakLevel: Int
    public var status: AlertStatus
    /// The value (reading, window aggregate or index) at the latest level change.
    public var value: Double?
    /// The threshold of the current level.
    public var threshold: Double?
    /// Time of the reading that raised it (ms).
    public var raisedAt: Int64
    /// Time of the reading (or check) behind the latest level change (ms).
    public var updatedAt: Int64
    /// Raised from readings older than `rules.late_after` (backfill): recorded, not pushed.
    public var late: Bool
    public var title: String
    public var message: String
    public var acknowledgedBy: String?
    public var acknowledgedAt: Int64?
    public var resolvedBy: String?
    public var resolvedAt: Int64?
    public var closedBy: String?
    public var closedAt: Int64?
    /// Index of the contact tier notified last (0: the first tier, at raise).
    public var contactTier: Int
    /// Wall-clock time (ms) the current tier was notified: the escalation timer starts here.
    public var notifiedAt: Int64

    public init(
        id: Int64, rule: String, device: String, domain: String, metric: String?, level: Int, peakLevel: Int,
        status: AlertStatus, value: Double?, threshold: Double?, raisedAt: Int64, updatedAt: Int64, late: Bool,
        title: String, message: String, acknowledgedBy: String? = nil, acknowledgedAt: Int64? = nil,
        resolvedBy: String? = nil, resolvedAt: Int64? = nil, closedBy: String? = nil, closedAt: Int64? = nil,
        contactTier: Int, notifiedAt: Int64
    ) {
        self.id = id
        self.rule = rule
        self.device = device
        self.domain = domain
        self.metric = metric
        self.level = level
        self.peakLevel = peakLevel
        self.status = status
        self.value = value
        self.threshold = threshold
        self.raisedAt = raisedAt
        self.updatedAt = updatedAt
        self.late = late
        self.title = title
        self.message = message
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
        self.closedBy = closedBy
        self.closedAt = closedAt
        self.contactTier = contactTier
        self.notifiedAt = notifiedAt
    }
}

/// One change of an alert: who, when, what, and a note.
public struct AlertTransition: Sendable, Hashable, Codable {
    public var id: Int64
    public var alertID: Int64
    public var kind: AlertTransitionKind
    public var fromLevel: Int?
    public var toLevel: Int?
    /// The alert's status after the transition.
    public var status: AlertStatus
    public var value: Double?
    /// When it happened: the reading's time for evaluated changes, else the wall clock (ms).
    public var at: Int64
    /// When it was written (wall clock, ms).
    public var recordedAt: Int64
    /// `system` for automatic transitions, else the person (or token) who made it.
    public var by: String
    public var note: String?
    public var late: Bool

    public init(
        id: Int64, alertID: Int64, kind: AlertTransitionKind, fromLevel: Int?, toLevel: Int?, status: AlertStatus,
        value: Double?, at: Int64, recordedAt: Int64, by: String, note: String?, late: Bool
    ) {
        self.id = id
        self.alertID = alertID
        self.kind = kind
        self.fromLevel = fromLevel
        self.toLevel = toLevel
        self.status = status
        self.value = value
        self.at = at
        self.recordedAt = recordedAt
        self.by = by
        self.note = note
        self.late = late
    }
}

/// The persisted evaluator state of one (rule, device).
public struct RuleStateRecord: Sendable, Hashable, Codable {
    public var rule: String
    public var device: String
    /// The level in force (0: none).
    public var level: Int
    /// The newest reading time that changed this state (redelivered readings up to it are skipped).
    public var watermark: Int64
    /// The evaluator's own state, JSON.
    public var state: String
    public var updatedAt: Int64

    public init(rule: String, device: String, level: Int, watermark: Int64, state: String, updatedAt: Int64) {
        self.rule = rule
        self.device = device
        self.level = level
        self.watermark = watermark
        self.state = state
        self.updatedAt = updatedAt
    }
}

/// A change of the level in force of one (rule, device), as the evaluator decided it.
public struct AlertLevelChange: Sendable, Hashable {
    public var rule: String
    public var device: String
    public var domain: String
    public var metric: String?
    /// Level before (0: none) and after (0: cleared).
    public var from: Int
    public var to: Int
    public var value: Double?
    public var threshold: Double?
    /// The reading's time (or the check's, for silence).
    public var at: Int64
    public var late: Bool
    public var title: String
    public var message: String

    public init(
        rule: String, device: String, domain: String, metric: String?, from: Int, to: Int, value: Double?,
        threshold: Double?, at: Int64, late: Bool, title: String, message: String
    ) {
        self.rule = rule
        self.device = device
        self.domain = domain
        self.metric = metric
        self.from = from
        self.to = to
        self.value = value
        self.threshold = threshold
        self.at = at
        self.late = late
        self.title = title
        self.message = message
    }
}

/// An alert after a transition, to hand to notifiers.
public struct AlertNotice: Sendable, Hashable {
    public var alert: AlertRecord
    public var transition: AlertTransition

    public init(alert: AlertRecord, transition: AlertTransition) {
        self.alert = alert
        self.transition = transition
    }
}

/// Stored readings of one series in `[from, to)`, for rebuilding an evaluator's windows.
public struct HistoryRequest: Sendable, Hashable {
    public var device: String
    public var metric: String
    public var from: Int64
    public var to: Int64

    public init(device: String, metric: String, from: Int64, to: Int64) {
        self.device = device
        self.metric = metric
        self.from = from
        self.to = to
    }
}

/// Filters of ``Store/alerts(_:)``.
public struct AlertQuery: Sendable, Hashable {
    public var statuses: [AlertStatus]?
    public var level: Int?
    public var domain: String?
    public var device: String?
    public var rule: String?
    public var limit = 1000

    public init(
        statuses: [AlertStatus]? = nil, level: Int? = nil, domain: String? = nil, device: String? = nil,
        rule: String? = nil, limit: Int = 1000
    ) {
        self.statuses = statuses
        self.level = level
        self.domain = domain
        self.device = device
        self.rule = rule
        self.limit = limit
    }
}

extension Store {
    // MARK: Rule state

    /// Every persisted rule state (read once when the evaluator starts).
    public func ruleStates() throws -> [RuleStateRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT rule, device, level, watermark, state, updated_at FROM rule_state").map {
                RuleStateRecord(rule: $0[0], device: $0[1], level: $0[2], watermark: $0[3], state: $0[4], updatedAt: $0[5])
            }
        }
    }

    /// Stored readings for each request, ascending by time (one read transaction for all).
    public func history(_ requests: [HistoryRequest]) throws -> [[Reading]] {
        guard !requests.isEmpty else { return [] }
        return try pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
            return try requests.map { request in
                guard request.from < request.to,
                    let series = try Int64.fetchOne(statement, arguments: [request.device, request.metric])
                else { return [] }
                return try Self.points(series: series, from: request.from, to: request.to, in: db).map {
                    Reading(device: request.device, metric: request.metric, timestamp: $0.ts, value: $0.value)
                }
            }
        }
    }

    /// Writes the changed rule states and applies the level changes to alerts, in one
    /// transaction; returns the alerts after each transition (for the notifiers).
    ///
    /// A rise from no level raises a new alert (or updates the live one); a rise or fall
    /// between levels escalates or steps down the live alert (a rise re-opens an
    /// acknowledged alert: the higher level needs acknowledging again); a fall to no level
    /// resolves it (`by: system`). When a person already resolved the alert, a fall changes
    /// nothing and a rise raises a new alert.
    public func applyRuleEvaluation(states: [RuleStateRecord], changes: [AlertLevelChange], now: Int64? = nil) throws
        -> [AlertNotice]
    {
        guard !states.isEmpty || !changes.isEmpty else { return [] }
        let now = now ?? nowMillis()
        return try pool.write { db in
            if !states.isEmpty {
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT INTO rule_state (rule, device, level, watermark, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT(rule, device) DO UPDATE SET level = excluded.level, watermark = excluded.watermark,
                            state = excluded.state, updated_at = excluded.updated_at
                        """)
                for s in states {
                    try upsert.execute(arguments: [s.rule, s.device, s.level, s.watermark, s.state, s.updatedAt])
                }
            }
            var notices: [AlertNotice] = []
            for change in changes {
                if let notice = try Self.apply(change, now: now, in: db) { notices.append(notice) }
            }
            return notices
        }
    }

    private static func apply(_ change: AlertLevelChange, now: Int64, in db: Database) throws -> AlertNotice? {
        let live = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM alerts WHERE rule = ? AND device = ? AND status IN ('open', 'acknowledged')"),
            arguments: [change.rule, change.device]
        ).map(alert(from:))
        if change.to == 0 {
            guard var alert = live else { return nil }
            alert.status = .resolved
            alert.resolvedBy = "system"
            alert.resolvedAt = change.at
            alert.updatedAt = change.at
            try db.execute(
                sql: "UPDATE alerts SET status = 'resolved', resolved_by = 'system', resolved_at = ?, updated_at = ? WHERE id = ?",
                arguments: [change.at, change.at, alert.id])
            let t = try insertTransition(
                alert: alert, kind: .resolved, from: alert.level, to: 0, value: change.value, at: change.at, now: now,
                by: "system", note: "condition cleared for the clear delay (自动解除)", late: change.late, in: db)
            return AlertNotice(alert: alert, transition: t)
        }
        guard var alert = live else {
            // Nothing live: raise, unless this is a step down of an alert a person resolved.
            guard change.from == 0 || change.to > change.from else { return nil }
            try db.execute(
                sql: """
                    INSERT INTO alerts (rule, device, domain, metric, level, peak_level, status, value, threshold,
                        raised_at, updated_at, late, title, message, contact_tier, notified_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, 0, ?)
                    """,
                arguments: [
                    change.rule, change.device, change.domain, change.metric, change.to, change.to, change.value,
                    change.threshold, change.at, change.at, change.late, change.title, change.message, now,
                ])
            let alert = AlertRecord(
                id: db.lastInsertedRowID, rule: change.rule, device: change.device, domain: change.domain,
                metric: change.metric, level: change.to, peakLevel: change.to, status: .open, value: change.value,
                threshold: change.threshold, raisedAt: change.at, updatedAt: change.at, late: change.late,
                title: change.title, message: change.message, contactTier: 0, notifiedAt: now)
            let t = try insertTransition(
                alert: alert, kind: .raised, from: nil, to: change.to, value: change.value, at: change.at, now: now,
                by: "system", note: nil, late: change.late, in: db)
            return AlertNotice(alert: alert, transition: t)
        }
        guard change.to != alert.level else { return nil }
        let from = alert.level
        let rising = change.to > from
        alert.level = change.to
        alert.peakLevel = max(alert.peakLevel, change.to)
        alert.value = change.value
        alert.threshold = change.threshold
        alert.updatedAt = change.at
        alert.title = change.title
        alert.message = change.message
        if rising {
            alert.status = .open
            alert.contactTier = 0
            alert.notifiedAt = now
        }
        try db.execute(
            sql: """
                UPDATE alerts SET level = ?, peak_level = ?, value = ?, threshold = ?, updated_at = ?, title = ?, message = ?,
                    status = ?, contact_tier = ?, notified_at = ? WHERE id = ?
                """,
            arguments: [
                alert.level, alert.peakLevel, alert.value, alert.threshold, alert.updatedAt, alert.title, alert.message,
                alert.status.rawValue, alert.contactTier, alert.notifiedAt, alert.id,
            ])
        let t = try insertTransition(
            alert: alert, kind: rising ? .escalated : .steppedDown, from: from, to: change.to, value: change.value,
            at: change.at, now: now, by: "system", note: nil, late: change.late, in: db)
        return AlertNotice(alert: alert, transition: t)
    }

    private static func insertTransition(
        alert: AlertRecord, kind: AlertTransitionKind, from: Int?, to: Int?, value: Double?, at: Int64, now: Int64,
        by: String, note: String?, late: Bool, in db: Database
    ) throws -> AlertTransition {
        try db.cachedStatement(
            sql: """
                INSERT INTO alert_transitions (alert_id, kind, from_level, to_level, status, value, at, recorded_at, by, note, late)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [alert.id, kind.rawValue, from, to, alert.status.rawValue, value, at, now, by, note, late])
        return AlertTransition(
            id: db.lastInsertedRowID, alertID: alert.id, kind: kind, fromLevel: from, toLevel: to, status: alert.status,
            value: value, at: at, recordedAt: now, by: by, note: note, late: late)
    }

    // MARK: People's actions

    /// Marks a live alert acknowledged by `by`. Throws `not_found`, or `conflict` unless it is open.
    public func acknowledgeAlert(id: Int64, by: String, note: String?, now: Int64? = nil) throws -> AlertNotice {
        try personalTransition(id: id, kind: .acknowledged, allowed: [.open], by: by, note: note, now: now)
    }

    /// Marks a live alert resolved (handled) by `by`. Throws `not_found`, or `conflict` unless it is open or acknowledged.
    public func resolveAlert(id: Int64, by: String, note: String?, now: Int64? = nil) throws -> AlertNotice {
        try personalTransition(id: id, kind: .resolved, allowed: [.open, .acknowledged], by: by, note: note, now: now)
    }

    /// Closes a resolved alert with a note (required). Throws `not_found`, `invalid_argument`
    /// for an empty note, or `conflict` unless it is resolved.
    public func closeAlert(id: Int64, by: String, note: String, now: Int64? = nil) throws -> AlertNotice {
        guard !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StoreError(.invalidArgument, "closing an alert needs a note (what was done)")
        }
        return try personalTransition(id: id, kind: .closed, allowed: [.resolved], by: by, note: note, now: now)
    }

    private func personalTransition(
        id: Int64, kind: AlertTransitionKind, allowed: Set<AlertStatus>, by: String, note: String?, now: Int64?
    ) throws -> AlertNotice {
        let now = now ?? nowMillis()
        let note = note.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        return try pool.write { db in
            guard var alert = try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert(from:))
            else { throw StoreError(.notFound, "no alert \(id)") }
            guard allowed.contains(alert.status) else {
                let need = allowed.map(\.rawValue).sorted().joined(separator: " or ")
                throw StoreError(.conflict, "alert \(id) is \(alert.status.rawValue); only an alert that is \(need) can be \(kind.rawValue)")
            }
            switch kind {
            case .acknowledged:
                alert.status = .acknowledged
                alert.acknowledgedBy = by
                alert.acknowledgedAt = now
                try db.execute(
                    sql: "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ? WHERE id = ?",
                    arguments: [by, now, id])
            case .resolved:
                alert.status = .resolved
                alert.resolvedBy = by
                alert.resolvedAt = now
                try db.execute(
                    sql: "UPDATE alerts SET status = 'resolved', resolved_by = ?, resolved_at = ? WHERE id = ?",
                    arguments: [by, now, id])
            case .closed:
                alert.status = .closed
                alert.closedBy = by
                alert.closedAt = now
                try db.execute(
                    sql: "UPDATE alerts SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ?", arguments: [by, now, id])
            default:
                throw StoreError(.invalidArgument, "\(kind.rawValue) is not a person's transition")
            }
            let t = try Self.insertTransition(
                alert: alert, kind: kind, from: alert.level, to: alert.level, value: nil, at: now, now: now, by: by,
                note: note, late: false, in: db)
            return AlertNotice(alert: alert, transition: t)
        }
    }

    // MARK: Escalation to contacts

    /// Open (unacknowledged) alerts of at least `minLevel` whose current contact tier was
    /// notified before `notifiedBefore` and that have a tier above theirs (`tier < maxTier`).
    public func alertsAwaitingAcknowledgement(minLevel: Int, notifiedBefore: Int64, maxTier: Int) throws -> [AlertRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alerts WHERE status = 'open' AND level >= ? AND notified_at < ? AND contact_tier < ?
                    ORDER BY id
                    """,
                arguments: [minLevel, notifiedBefore, maxTier]
            ).map(Self.alert(from:))
        }
    }

    /// Records that alert `id` was escalated to contact tier `tier` (if it is still open at
    /// the tier below); `nil` when someone acknowledged it meanwhile.
    public func recordContactEscalation(id: Int64, tier: Int, note: String, now: Int64? = nil) throws -> AlertNotice? {
        let now = now ?? nowMillis()
        return try pool.write { db in
            guard var alert = try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert(from:)),
                alert.status == .open, alert.contactTier == tier - 1
            else { return nil }
            alert.contactTier = tier
            alert.notifiedAt = now
            try db.execute(
                sql: "UPDATE alerts SET contact_tier = ?, notified_at = ? WHERE id = ?", arguments: [tier, now, id])
            let t = try Self.insertTransition(
                alert: alert, kind: .contactsEscalated, from: alert.level, to: alert.level, value: nil, at: now, now: now,
                by: "system", note: note, late: false, in: db)
            return AlertNotice(alert: alert, transition: t)
        }
    }

    // MARK: Queries

    /// Alerts matching `query`, newest first.
    public func alerts(_ query: AlertQuery = AlertQuery()) throws -> [AlertRecord] {
        try pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let statuses = query.statuses, !statuses.isEmpty {
                conditions.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ",")))")
                for s in statuses { arguments += [s.rawValue] }
            }
            if let level = query.level {
                conditions.append("level = ?")
                arguments += [level]
            }
            if let domain = query.domain {
                conditions.append("domain = ?")
                arguments += [domain]
            }
            if let device = query.device {
                conditions.append("device = ?")
                arguments += [device]
            }
            if let rule = query.rule {
                conditions.append("rule = ?")
                arguments += [rule]
            }
            arguments += [max(1, query.limit)]
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alerts \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    ORDER BY id DESC LIMIT ?
                    """,
                arguments: arguments
            ).map(Self.alert(from:))
        }
    }

    /// Live alerts (open or acknowledged) counted by stored level (1 blue … 4 red); levels
    /// with none are absent.
    public func liveAlertCounts() throws -> [Int: Int] {
        try pool.read { db in
            var counts: [Int: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT level, COUNT(*) AS n FROM alerts WHERE status IN (?, ?) GROUP BY level",
                arguments: [AlertStatus.open.rawValue, AlertStatus.acknowledged.rawValue])
            {
                counts[row["level"], default: 0] += row["n"] as Int
            }
            return counts
        }
    }

    /// The alert with `id`, or `nil`.
    public func alert(id: Int64) throws -> AlertRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert(from:))
        }
    }

    /// Every transition of alert `id`, oldest first.
    public func alertTransitions(id: Int64) throws -> [AlertTransition] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert_transitions WHERE alert_id = ? ORDER BY id", arguments: [id]).map {
                row in
                let kind: String = row["kind"]
                let status: String = row["status"]
                return AlertTransition(
                    id: row["id"], alertID: row["alert_id"], kind: AlertTransitionKind(rawValue: kind) ?? .raised,
                    fromLevel: row["from_level"], toLevel: row["to_level"], status: AlertStatus(rawValue: status) ?? .open,
                    value: row["value"], at: row["at"], recordedAt: row["recorded_at"], by: row["by"], note: row["note"],
                    late: row["late"])
            }
        }
    }

    static func alert(from row: Row) -> AlertRecord {
        let status: String = row["status"]
        return AlertRecord(
            id: row["id"], rule: row["rule"], device: row["device"], domain: row["domain"], metric: row["metric"],
            level: row["level"], peakLevel: row["peak_level"], status: AlertStatus(rawValue: status) ?? .open,
            value: row["value"], threshold: row["threshold"], raisedAt: row["raised_at"], updatedAt: row["updated_at"],
            late: row["late"], title: row["title"], message: row["message"], acknowledgedBy: row["acknowledged_by"],
            acknowledgedAt: row["acknowledged_at"], resolvedBy: row["resolved_by"], resolvedAt: row["resolved_at"],
            closedBy: row["closed_by"], closedAt: row["closed_at"], contactTier: row["contact_tier"],
            notifiedAt: row["notified_at"])
    }
}
