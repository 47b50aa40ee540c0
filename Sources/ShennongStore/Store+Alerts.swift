import Foundation
import GRDB
import ShennongAlerts
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

extension Store: AlertStore {
    // MARK: Rule state

    public func ruleStates() throws -> [RuleStateRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT rule, device, level, watermark, state, updated_at FROM rule_state").map {
                RuleStateRecord(
                    rule: $0[0], device: $0[1], level: AlertLevel(stored: $0[2] as Int), watermark: $0[3], state: $0[4],
                    updatedAt: $0[5])
            }
        }
    }

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

    public func applyRuleEvaluation(states: [RuleStateRecord], changes: [AlertLevelChange], now: Int64?) throws
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
                    try upsert.execute(arguments: [s.rule, s.device, s.level?.rawValue ?? 0, s.watermark, s.state, s.updatedAt])
                }
            }
            var notices: [AlertNotice] = []
            for change in changes {
                let live = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT * FROM alerts WHERE rule = ? AND device = ? AND status IN ('open', 'acknowledged')"),
                    arguments: [change.rule, change.device]
                ).map(Self.alert(from:))
                if let decision = AlertLifecycle.apply(change, to: live, now: now) {
                    notices.append(try Self.write(decision, in: db))
                }
            }
            return notices
        }
    }

    /// Writes what the lifecycle decided: the alert (inserted when new, else every column that
    /// can change) and its transition; returns both with the ids the database gave them.
    private static func write(_ decision: AlertDecision, in db: Database) throws -> AlertNotice {
        var alert = decision.alert
        let a = alert
        if decision.isNew {
            try db.execute(
                sql: """
                    INSERT INTO alerts (rule, device, domain, metric, level, peak_level, status, value, threshold,
                        raised_at, updated_at, late, title, message, acknowledged_by, acknowledged_at, resolved_by,
                        resolved_at, closed_by, closed_at, contact_tier, notified_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    a.rule, a.device, a.domain, a.metric, a.level.rawValue, a.peakLevel.rawValue, a.status.rawValue,
                    a.value, a.threshold, a.raisedAt, a.updatedAt, a.late, a.title, a.message, a.acknowledgedBy,
                    a.acknowledgedAt, a.resolvedBy, a.resolvedAt, a.closedBy, a.closedAt, a.contactTier, a.notifiedAt,
                ])
            alert.id = db.lastInsertedRowID
        } else {
            try db.cachedStatement(
                sql: """
                    UPDATE alerts SET level = ?, peak_level = ?, status = ?, value = ?, threshold = ?, updated_at = ?,
                        title = ?, message = ?, acknowledged_by = ?, acknowledged_at = ?, resolved_by = ?, resolved_at = ?,
                        closed_by = ?, closed_at = ?, contact_tier = ?, notified_at = ? WHERE id = ?
                    """
            ).execute(arguments: [
                a.level.rawValue, a.peakLevel.rawValue, a.status.rawValue, a.value, a.threshold, a.updatedAt, a.title,
                a.message, a.acknowledgedBy, a.acknowledgedAt, a.resolvedBy, a.resolvedAt, a.closedBy, a.closedAt,
                a.contactTier, a.notifiedAt, a.id,
            ])
        }
        var t = decision.transition
        t.alertID = alert.id
        try db.cachedStatement(
            sql: """
                INSERT INTO alert_transitions (alert_id, kind, from_level, to_level, status, value, at, recorded_at, by, note, late)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            t.alertID, t.kind.rawValue, t.fromLevel.map(Self.stored), t.toLevel.map(Self.stored), t.status.rawValue,
            t.value, t.at, t.recordedAt, t.by, t.note, t.late,
        ])
        t.id = db.lastInsertedRowID
        return AlertNotice(alert: alert, transition: t)
    }

    // MARK: People's actions

    public func act(_ action: PersonAction, id: Int64, by: String, note: String?, now: Int64?) throws -> AlertNotice {
        let now = now ?? nowMillis()
        return try pool.write { db in
            let alert = try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert(from:))
            let decision: AlertDecision
            do {
                decision = try AlertLifecycle.act(action, on: alert, id: id, by: by, note: note, now: now)
            } catch let refusal as AlertRefusal {
                throw StoreError(refusal)
            }
            return try Self.write(decision, in: db)
        }
    }

    // MARK: Escalation to contacts

    public func alertsAwaitingAcknowledgement(minLevel: AlertLevel, notifiedBefore: Int64, maxTier: Int) throws
        -> [AlertRecord]
    {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alerts WHERE status = 'open' AND level >= ? AND notified_at < ? AND contact_tier < ?
                    ORDER BY id
                    """,
                arguments: [minLevel.rawValue, notifiedBefore, maxTier]
            ).map(Self.alert(from:))
        }
    }

    public func recordContactEscalation(id: Int64, tier: Int, note: String, now: Int64?) throws -> AlertNotice? {
        let now = now ?? nowMillis()
        return try pool.write { db in
            guard let alert = try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert(from:)),
                let decision = AlertLifecycle.escalateContacts(alert, to: tier, note: note, now: now)
            else { return nil }
            return try Self.write(decision, in: db)
        }
    }

    // MARK: Queries

    public func alerts(_ query: AlertQuery) throws -> [AlertRecord] {
        try pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let statuses = query.statuses, !statuses.isEmpty {
                conditions.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ",")))")
                for s in statuses { arguments += [s.rawValue] }
            }
            if let level = query.level {
                conditions.append("level = ?")
                arguments += [level.rawValue]
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

    public func liveAlertCounts() throws -> [AlertLevel: Int] {
        try pool.read { db in
            var counts: [AlertLevel: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT level, COUNT(*) AS n FROM alerts WHERE status IN (?, ?) GROUP BY level",
                arguments: [AlertStatus.open.rawValue, AlertStatus.acknowledged.rawValue])
            {
                guard let level = AlertLevel(stored: row["level"] as Int) else { continue }
                counts[level, default: 0] += row["n"] as Int
            }
            return counts
        }
    }

    public func alert(id: Int64) throws -> AlertRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert(from:))
        }
    }

    public func alertTransitions(id: Int64) throws -> [AlertTransition] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert_transitions WHERE alert_id = ? ORDER BY id", arguments: [id]).map {
                row in
                let kind: String = row["kind"]
                let status: String = row["status"]
                return AlertTransition(
                    id: row["id"], alertID: row["alert_id"], kind: AlertTransitionKind(rawValue: kind) ?? .raised,
                    fromLevel: (row["from_level"] as Int?).map(Self.transitionLevel),
                    toLevel: (row["to_level"] as Int?).map(Self.transitionLevel), status: AlertStatus(rawValue: status) ?? .open,
                    value: row["value"], at: row["at"], recordedAt: row["recorded_at"], by: row["by"], note: row["note"],
                    late: row["late"])
            }
        }
    }

    // MARK: Levels at the edge: integer columns, 1 blue … 4 red, 0 none

    /// A transition level as its column stores it (0: none).
    static func stored(_ level: TransitionLevel) -> Int {
        level.alertLevel?.rawValue ?? 0
    }

    /// A transition level column's value (0 and unknown values: none).
    static func transitionLevel(_ stored: Int) -> TransitionLevel {
        TransitionLevel(AlertLevel(stored: stored))
    }

    /// An alert row. A level column outside 1…4 (never written by Shennong) reads as blue.
    static func alert(from row: Row) -> AlertRecord {
        let status: String = row["status"]
        let level = AlertLevel(stored: row["level"] as Int) ?? .blue
        return AlertRecord(
            id: row["id"], rule: row["rule"], device: row["device"], domain: row["domain"], metric: row["metric"],
            level: level, peakLevel: AlertLevel(stored: row["peak_level"] as Int) ?? level,
            status: AlertStatus(rawValue: status) ?? .open, value: row["value"], threshold: row["threshold"],
            raisedAt: row["raised_at"], updatedAt: row["updated_at"], late: row["late"], title: row["title"],
            message: row["message"], acknowledgedBy: row["acknowledged_by"], acknowledgedAt: row["acknowledged_at"],
            resolvedBy: row["resolved_by"], resolvedAt: row["resolved_at"], closedBy: row["closed_by"],
            closedAt: row["closed_at"], contactTier: row["contact_tier"], notifiedAt: row["notified_at"])
    }
}
