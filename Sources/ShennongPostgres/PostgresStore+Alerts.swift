import PostgresNIO
import ShennongAlerts
import ShennongCore

/// The warnings stage's tables (rule state, alerts, transitions), as on SQLite: each write
/// reads the alert, asks ``AlertLifecycle`` and writes its decision in one transaction.
extension PostgresStore: AlertStore {
    static let alertColumns = """
        id, rule, device, domain, metric, level, peak_level, status, value, threshold, raised_at, updated_at, late,
        title, message, acknowledged_by, acknowledged_at, resolved_by, resolved_at, closed_by, closed_at, contact_tier,
        notified_at
        """

    static func decodeAlert(_ row: PostgresRow) throws -> AlertRecord {
        let r = row.makeRandomAccess()
        let level = AlertLevel(stored: Int(try r[5].decode(Int32.self))) ?? .blue
        return AlertRecord(
            id: try r[0].decode(Int64.self), rule: try r[1].decode(String.self), device: try r[2].decode(String.self),
            domain: try r[3].decode(String.self), metric: try r[4].decode(String?.self), level: level,
            peakLevel: AlertLevel(stored: Int(try r[6].decode(Int32.self))) ?? level,
            status: AlertStatus(rawValue: try r[7].decode(String.self)) ?? .open, value: try r[8].decode(Double?.self),
            threshold: try r[9].decode(Double?.self), raisedAt: try r[10].decode(Int64.self),
            updatedAt: try r[11].decode(Int64.self), late: try r[12].decode(Bool.self), title: try r[13].decode(String.self),
            message: try r[14].decode(String.self), acknowledgedBy: try r[15].decode(String?.self),
            acknowledgedAt: try r[16].decode(Int64?.self), resolvedBy: try r[17].decode(String?.self),
            resolvedAt: try r[18].decode(Int64?.self), closedBy: try r[19].decode(String?.self),
            closedAt: try r[20].decode(Int64?.self), contactTier: Int(try r[21].decode(Int32.self)),
            notifiedAt: try r[22].decode(Int64.self))
    }

    /// The values of `a` in ``alertColumns`` order, the id first only `withID`.
    static func alertValues(_ a: AlertRecord, withID: Bool = false) throws -> PostgresBindings {
        let values: [(any PostgresThrowingDynamicTypeEncodable)?] = [
            a.rule, a.device, a.domain, a.metric, Int64(a.level.rawValue), Int64(a.peakLevel.rawValue), a.status.rawValue,
            a.value, a.threshold, a.raisedAt, a.updatedAt, a.late, a.title, a.message, a.acknowledgedBy, a.acknowledgedAt,
            a.resolvedBy, a.resolvedAt, a.closedBy, a.closedAt, Int64(a.contactTier), a.notifiedAt,
        ]
        return try bindings(list: withID ? [a.id] + values : values)
    }

    static let transitionColumns = "id, alert_id, kind, from_level, to_level, status, value, at, recorded_at, by, note, late"

    static func decodeTransition(_ row: PostgresRow) throws -> AlertTransition {
        let (id, alertID, kind, from, to, status, value, at, recordedAt, by, note, late) = try row.decode(
            (Int64, Int64, String, Int32?, Int32?, String, Double?, Int64, Int64, String, String?, Bool).self)
        return AlertTransition(
            id: id, alertID: alertID, kind: AlertTransitionKind(rawValue: kind) ?? .raised,
            fromLevel: from.map { TransitionLevel(AlertLevel(stored: Int($0))) },
            toLevel: to.map { TransitionLevel(AlertLevel(stored: Int($0))) }, status: AlertStatus(rawValue: status) ?? .open,
            value: value, at: at, recordedAt: recordedAt, by: by, note: note, late: late)
    }

    // MARK: Rule state

    public func ruleStates() throws -> [RuleStateRecord] {
        try read { s in
            try s.query("SELECT rule, device, level, watermark, state, updated_at FROM rule_state").map { row in
                let (rule, device, level, watermark, state, updatedAt) = try row.decode(
                    (String, String, Int32, Int64, String, Int64).self)
                return RuleStateRecord(
                    rule: rule, device: device, level: AlertLevel(stored: Int(level)), watermark: watermark, state: state,
                    updatedAt: updatedAt)
            }
        }
    }

    /// Every request in three queries whatever their number (the rules ask for the history of
    /// every device of a rule at once when they start): the series ids, then the compacted
    /// blocks and the raw readings of all ranges (``points(_:in:)``).
    public func history(_ requests: [HistoryRequest]) throws -> [[Reading]] {
        guard !requests.isEmpty else { return [] }
        return try read { s in
            var ids: [SeriesKey: Int64] = [:]
            var devices: [String] = []
            var metrics: [String] = []
            for request in Set(requests.map { SeriesKey(device: $0.device, metric: $0.metric) }) {
                devices.append(request.device)
                metrics.append(request.metric)
            }
            for row in try s.query(
                """
                SELECT s.id, s.device, s.metric FROM series s
                JOIN unnest($1::text[], $2::text[]) AS k(device, metric) ON s.device = k.device AND s.metric = k.metric
                """, bindings(devices, metrics))
            {
                let (id, device, metric) = try row.decode((Int64, String, String).self)
                ids[SeriesKey(device: device, metric: metric)] = id
            }
            var ranges: [(series: Int64, from: Int64, to: Int64)] = []
            var asked: [Int] = []
            for (i, request) in requests.enumerated() where request.from < request.to {
                guard let id = ids[SeriesKey(device: request.device, metric: request.metric)] else { continue }
                ranges.append((id, request.from, request.to))
                asked.append(i)
            }
            var results = [[Reading]](repeating: [], count: requests.count)
            for (k, points) in try points(ranges, in: s).enumerated() {
                let request = requests[asked[k]]
                results[asked[k]] = points.map {
                    Reading(device: request.device, metric: request.metric, timestamp: $0.ts, value: $0.value)
                }
            }
            return results
        }
    }

    public func applyRuleEvaluation(states: [RuleStateRecord], changes: [AlertLevelChange], now: Int64?) throws
        -> [AlertNotice]
    {
        guard !states.isEmpty || !changes.isEmpty else { return [] }
        let now = now ?? nowMillis()
        return try fencedWrite { s in
            if !states.isEmpty {
                // One row per (rule, device): the last given wins.
                var last: [String: RuleStateRecord] = [:]
                for state in states { last[state.rule + "\u{0}" + state.device] = state }
                let rows = Array(last.values)
                try s.query(
                    """
                    INSERT INTO rule_state (rule, device, level, watermark, state, updated_at)
                    SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int8[], $5::text[], $6::int8[])
                    ON CONFLICT (rule, device) DO UPDATE SET level = excluded.level, watermark = excluded.watermark,
                        state = excluded.state, updated_at = excluded.updated_at
                    """,
                    bindings(
                        rows.map(\.rule), rows.map(\.device), rows.map { Int32($0.level?.rawValue ?? 0) },
                        rows.map(\.watermark), rows.map(\.state), rows.map(\.updatedAt)))
            }
            // The live alert of every (rule, device) the changes name, in one query; then kept
            // up to date here as the changes are applied in order (a later change of the same
            // pair sees what the earlier one wrote, as a query would).
            var live: [String: AlertRecord] = [:]
            if !changes.isEmpty {
                var rules: [String] = []
                var devices: [String] = []
                var pairs: Set<String> = []
                for change in changes where pairs.insert(change.rule + "\u{0}" + change.device).inserted {
                    rules.append(change.rule)
                    devices.append(change.device)
                }
                for row in try s.query(
                    """
                    SELECT \(Self.alertColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
                    FROM alerts a JOIN unnest($1::text[], $2::text[]) AS k(rule, device) ON a.rule = k.rule AND a.device = k.device
                    WHERE a.status IN ('open', 'acknowledged') ORDER BY a.id
                    """, bindings(rules, devices))
                {
                    let alert = try Self.decodeAlert(row)
                    let key = alert.rule + "\u{0}" + alert.device
                    if live[key] == nil { live[key] = alert }
                }
            }
            var notices: [AlertNotice] = []
            for change in changes {
                let key = change.rule + "\u{0}" + change.device
                if let decision = AlertLifecycle.apply(change, to: live[key], now: now) {
                    let notice = try Self.write(decision, in: s)
                    live[key] = notice.alert.status == .open || notice.alert.status == .acknowledged ? notice.alert : nil
                    notices.append(notice)
                }
            }
            return notices
        }
    }

    /// Writes what the lifecycle decided: the alert (inserted when new, else updated) and its
    /// transition; returns both with the ids the database gave them.
    private static func write(_ decision: AlertDecision, in s: PostgresSession) throws -> AlertNotice {
        var alert = decision.alert
        let values = try alertValues(alert)
        let columns = alertColumns.split(separator: ",").dropFirst().map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if decision.isNew {
            let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
            alert.id = try s.query(
                "INSERT INTO alerts (\(columns.joined(separator: ", "))) VALUES (\(placeholders)) RETURNING id", values
            ).first!.decode(Int64.self)
        } else {
            var binds = values
            binds.append(alert.id)
            let sets = columns.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
            try s.query("UPDATE alerts SET \(sets) WHERE id = $\(columns.count + 1)", binds)
        }
        var transition = decision.transition
        transition.alertID = alert.id
        func stored(_ level: TransitionLevel?) -> Int32? { level.map { Int32($0.alertLevel?.rawValue ?? 0) } }
        transition.id = try s.query(
            """
            INSERT INTO alert_transitions (
                alert_id, kind, from_level, to_level, status, value, at, recorded_at, by, note, late, alert_snapshot)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id
            """,
            bindings(
                transition.alertID, transition.kind.rawValue, stored(transition.fromLevel), stored(transition.toLevel),
                transition.status.rawValue, transition.value, transition.at, transition.recordedAt, transition.by,
                transition.note, transition.late, alert.snapshot)
        ).first!.decode(Int64.self)
        return AlertNotice(alert: alert, transition: transition)
    }

    private static func alert(id: Int64, in s: PostgresSession) throws -> AlertRecord? {
        try s.query("SELECT \(alertColumns) FROM alerts WHERE id = $1", bindings(id)).first.map(decodeAlert)
    }

    // MARK: People's actions

    public func act(_ action: PersonAction, id: Int64, by: String, note: String?, now: Int64?) throws -> AlertNotice {
        let now = now ?? nowMillis()
        return try write { s in
            let alert = try Self.alert(id: id, in: s)
            let decision = try AlertLifecycle.act(action, onStored: alert, id: id, by: by, note: note, now: now)
            return try Self.write(decision, in: s)
        }
    }

    // MARK: Escalation to contacts

    public func alertsAwaitingAcknowledgement(minLevel: AlertLevel, notifiedBefore: Int64, maxTier: Int) throws
        -> [AlertRecord]
    {
        try read { s in
            try s.query(
                """
                SELECT \(Self.alertColumns) FROM alerts
                WHERE status = 'open' AND level >= $1 AND notified_at < $2 AND contact_tier < $3 ORDER BY id
                """, bindings(Int64(minLevel.rawValue), notifiedBefore, Int64(maxTier))
            ).map(Self.decodeAlert)
        }
    }

    public func recordContactEscalation(id: Int64, tier: Int, note: String, now: Int64?) throws -> AlertNotice? {
        let now = now ?? nowMillis()
        return try fencedWrite { s in
            guard let alert = try Self.alert(id: id, in: s),
                let decision = AlertLifecycle.escalateContacts(alert, to: tier, note: note, now: now)
            else { return nil }
            return try Self.write(decision, in: s)
        }
    }

    // MARK: Queries

    public func alerts(_ query: AlertQuery) throws -> [AlertRecord] {
        try read { s in
            try s.query(
                """
                SELECT \(Self.alertColumns) FROM alerts
                WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::int8 IS NULL OR level = $2)
                    AND ($3::text IS NULL OR domain = $3) AND ($4::text IS NULL OR device = $4)
                    AND ($5::text IS NULL OR rule = $5)
                ORDER BY id DESC LIMIT $6
                """,
                bindings(
                    query.statuses.flatMap { $0.isEmpty ? nil : $0.map(\.rawValue) }, query.level.map { Int64($0.rawValue) },
                    query.domain, query.device, query.rule, Int64(max(1, query.limit)))
            ).map(Self.decodeAlert)
        }
    }

    public func liveAlertCounts() throws -> [AlertLevel: Int] {
        try read { s in
            var counts: [AlertLevel: Int] = [:]
            for row in try s.query(
                "SELECT level, count(*)::int8 FROM alerts WHERE status IN ('open', 'acknowledged') GROUP BY level")
            {
                let (stored, n) = try row.decode((Int32, Int64).self)
                guard let level = AlertLevel(stored: Int(stored)) else { continue }
                counts[level, default: 0] += Int(n)
            }
            return counts
        }
    }

    public func alert(id: Int64) throws -> AlertRecord? {
        try read { s in try Self.alert(id: id, in: s) }
    }

    public func alertTransitions(id: Int64) throws -> [AlertTransition] {
        try read { s in
            try s.query("SELECT \(Self.transitionColumns) FROM alert_transitions WHERE alert_id = $1 ORDER BY id", bindings(id))
                .map(Self.decodeTransition)
        }
    }
}
