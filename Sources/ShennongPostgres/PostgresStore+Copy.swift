import PostgresNIO
import ShennongAlerts
import ShennongCore

/// What `shennong db copy` writes beyond the doors: tokens by hash, rollup cells as the source
/// stored them, alerts with their ids and transitions, the raw horizon. Package access.
extension PostgresStore {
    /// Whether the database holds any row of Shennong's (a copy refuses to mix into it).
    package func holdsData() throws -> Bool {
        try read { s in
            try s.query(
                """
                SELECT EXISTS (SELECT 1 FROM devices) OR EXISTS (SELECT 1 FROM series) OR EXISTS (SELECT 1 FROM rejects)
                    OR EXISTS (SELECT 1 FROM tokens) OR EXISTS (SELECT 1 FROM alerts) OR EXISTS (SELECT 1 FROM rule_state)
                    OR EXISTS (SELECT 1 FROM trace_records) OR EXISTS (SELECT 1 FROM trace_scans)
                """
            ).first?.decode(Bool.self) ?? false
        }
    }

    /// Adds tokens as stored elsewhere (their hashes), skipping a hash already present.
    /// Scope and revocation come along: a revoked token stays revoked in the copy.
    package func importTokens(
        _ tokens: [(name: String, role: String, hash: String, createdAt: Int64, scope: String?, revokedAt: Int64?)]
    ) throws {
        guard !tokens.isEmpty else { return }
        try write { s in
            try s.query(
                """
                INSERT INTO tokens (name, role, hash, created_at, scope, revoked_at)
                SELECT n, r, h, c, NULLIF(sc, ''), NULLIF(rv, 0)
                FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::int8[]) AS t(n, r, h, c, sc, rv)
                ON CONFLICT (hash) DO NOTHING
                """,
                bindings(
                    tokens.map(\.name), tokens.map(\.role), tokens.map(\.hash), tokens.map(\.createdAt), tokens.map { $0.scope ?? "" },
                    tokens.map { $0.revokedAt ?? 0 }))
        }
    }

    /// Writes `cells` of a registered series as its live cells of `tier` (replacing cells of
    /// the same start): rollups that outlived their raw readings in the source.
    package func importRollupCells(device: String, metric: String, tier: StorageTier, cells: [RollupCell]) throws {
        guard !cells.isEmpty, tier != .raw else { return }
        try write { s in
            guard
                let series = try s.query(
                    "SELECT id FROM series WHERE device = $1 AND metric = $2", bindings(device, metric)
                ).first?.decode(Int64.self)
            else { throw StoreError(.notFound, "series \(device)/\(metric) is not in the database") }
            for start in stride(from: 0, to: cells.count, by: 10_000) {
                try Self.upsertCells([(series, Array(cells[start..<min(start + 10_000, cells.count)]))], tier: tier, in: s)
            }
        }
    }

    /// Inserts alerts with their ids and transitions (as another store numbered them), then
    /// moves the id sequences past them.
    package func importAlerts(_ alerts: [(alert: AlertRecord, transitions: [AlertTransition])]) throws {
        guard !alerts.isEmpty else { return }
        try write { s in
            let columns = Self.alertColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            for (alert, transitions) in alerts {
                let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
                try s.query("INSERT INTO alerts (\(columns.joined(separator: ", "))) VALUES (\(placeholders))", try Self.alertValues(alert, withID: true))
                for t in transitions {
                    func stored(_ level: TransitionLevel?) -> Int32? { level.map { Int32($0.alertLevel?.rawValue ?? 0) } }
                    try s.query(
                        """
                        INSERT INTO alert_transitions
                            (id, alert_id, kind, from_level, to_level, status, value, at, recorded_at, by, note, late)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                        """,
                        bindings(
                            t.id, t.alertID, t.kind.rawValue, stored(t.fromLevel), stored(t.toLevel), t.status.rawValue,
                            t.value, t.at, t.recordedAt, t.by, t.note, t.late))
                }
            }
            for table in ["alerts", "alert_transitions"] {
                try s.execute(
                    "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), greatest((SELECT max(id) FROM \(table)), 1))")
            }
        }
    }

    /// Records the raw horizon of the source (readings older may have been dropped there).
    package func importRawHorizon(_ horizon: Int64) throws {
        try write { s in
            try s.query(
                """
                INSERT INTO store_meta (key, value) VALUES ('raw_horizon', $1)
                ON CONFLICT (key) DO UPDATE SET value = greatest(store_meta.value, excluded.value)
                """, bindings(horizon))
        }
    }
}
