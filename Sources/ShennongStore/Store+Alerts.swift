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
        migrator.registerMigration(
            "alerts-v1: rule state, alerts, transitions",
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

extension Store: AlertStore {
    // MARK: Rule state

    public func ruleStates() throws -> [RuleStateRecord] {
        try pool.read { db in try RuleStateRow.fetchAll(db).map(\.record) }
    }

    public func history(_ requests: [HistoryRequest]) throws -> [[Reading]] {
        guard !requests.isEmpty else { return [] }
        return try pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
            // The buckets of every request at once: a county's first burst asks for thousands
            // of windows over the same day or two.
            let from = requests.lazy.map(\.from).min()!
            let to = requests.lazy.map(\.to).max()!
            let buckets = from < to ? try Self.buckets(overlapping: from, to, in: db) : []
            // Series ingest has committed are known in memory (a query each otherwise: thousands).
            let known = seriesIDSnapshot()
            return try requests.map { request in
                guard request.from < request.to,
                    let series = try known[request.device]?[request.metric]
                        ?? Int64.fetchOne(statement, arguments: [request.device, request.metric])
                else { return [] }
                return try Self.points(series: series, from: request.from, to: request.to, buckets: buckets, in: db).map {
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
                // Written after every burst that changed them: one cached statement.
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
                let live = try AlertRow.filter(
                    Column("rule") == change.rule && Column("device") == change.device
                        && [AlertStatus.open.rawValue, AlertStatus.acknowledged.rawValue].contains(Column("status"))
                ).fetchOne(db)?.alert
                if let decision = AlertLifecycle.apply(change, to: live, now: now) {
                    notices.append(try Self.write(decision, in: db))
                }
            }
            return notices
        }
    }

    /// Writes what the lifecycle decided: the alert (inserted when new, else updated) and its
    /// transition; returns both with the ids the database gave them.
    private static func write(_ decision: AlertDecision, in db: Database) throws -> AlertNotice {
        var row = AlertRow(decision.alert)
        if decision.isNew {
            row.id = nil
            try row.insert(db)
        } else {
            try row.update(db)
        }
        var alert = decision.alert
        alert.id = row.id ?? 0
        var transition = decision.transition
        transition.alertID = alert.id
        var transitionRow = AlertTransitionRow(transition)
        transitionRow.id = nil
        transitionRow.alertSnapshot = alert.snapshot
        try transitionRow.insert(db)
        transition.id = transitionRow.id ?? 0
        return AlertNotice(alert: alert, transition: transition)
    }

    // MARK: People's actions

    public func act(_ action: PersonAction, id: Int64, by: String, note: String?, now: Int64?) throws -> AlertNotice {
        let now = now ?? nowMillis()
        return try pool.write { db in
            let alert = try AlertRow.fetchOne(db, key: id)?.alert
            let decision = try AlertLifecycle.act(action, onStored: alert, id: id, by: by, note: note, now: now)
            return try Self.write(decision, in: db)
        }
    }

    // MARK: Escalation to contacts

    public func alertsAwaitingAcknowledgement(minLevel: AlertLevel, notifiedBefore: Int64, maxTier: Int) throws
        -> [AlertRecord]
    {
        try pool.read { db in
            try AlertRow.filter(
                Column("status") == AlertStatus.open.rawValue && Column("level") >= minLevel.rawValue
                    && Column("notified_at") < notifiedBefore && Column("contact_tier") < maxTier
            ).order(Column("id")).fetchAll(db).map(\.alert)
        }
    }

    public func recordContactEscalation(id: Int64, tier: Int, note: String, now: Int64?) throws -> AlertNotice? {
        let now = now ?? nowMillis()
        return try pool.write { db in
            guard let alert = try AlertRow.fetchOne(db, key: id)?.alert,
                let decision = AlertLifecycle.escalateContacts(alert, to: tier, note: note, now: now)
            else { return nil }
            return try Self.write(decision, in: db)
        }
    }

    // MARK: Queries

    public func alerts(_ query: AlertQuery) throws -> [AlertRecord] {
        try pool.read { db in
            var request = AlertRow.all()
            if let statuses = query.statuses, !statuses.isEmpty {
                request = request.filter(statuses.map(\.rawValue).contains(Column("status")))
            }
            if let level = query.level { request = request.filter(Column("level") == level.rawValue) }
            if let domain = query.domain { request = request.filter(Column("domain") == domain) }
            if let device = query.device { request = request.filter(Column("device") == device) }
            if let rule = query.rule { request = request.filter(Column("rule") == rule) }
            return try request.order(Column("id").desc).limit(max(1, query.limit)).fetchAll(db).map(\.alert)
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
        try pool.read { db in try AlertRow.fetchOne(db, key: id)?.alert }
    }

    public func alertTransitions(id: Int64) throws -> [AlertTransition] {
        try pool.read { db in
            try AlertTransitionRow.filter(Column("alert_id") == id).order(Column("id")).fetchAll(db).map(\.transition)
        }
    }
}
