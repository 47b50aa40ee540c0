import Logging
import PostgresNIO
import ShennongCore

/// The schema and its versioned migrations. Never edit a registered migration: add one.
///
/// Readings live in `raw`, a table range-partitioned on `ts`, one partition per bucket
/// (`raw_20251121`); compacted blocks in `blk`, partitioned on the bucket start (`blk_X`), and
/// packed 1 m / 1 h cells in `m1` / `h1` (`m1_X`, `h1_X`). The `buckets` table records which
/// partitions of a bucket exist, as on SQLite. Live rollup cells are in `rollup_1m`,
/// `rollup_1h` and `rollup_1d`.
extension PostgresStore {
    struct Migration: Sendable {
        var name: String
        var apply: @Sendable (_ s: PostgresSession, _ options: StoreOptions) throws -> Void
    }

    /// Every migration of this build, oldest first.
    static let migrations: [Migration] = [
        Migration(name: "v1: devices, series, buckets, readings, rollups, rejects, tokens") { s, options in
            for sql in PostgresStore.coreSchema { try s.execute(sql) }
            try s.query(
                "INSERT INTO store_meta (key, value) VALUES ('bucket_width', $1)",
                bindings(options.bucketWidth))
        },
        Migration(name: "alerts-v1: rule state, alerts, transitions", statements: PostgresStore.alertSchema),
        Migration(name: "trace-v1: records, codes, scans", statements: PostgresStore.traceSchema),
        // PostgresStore+Commands.swift
        Migration(name: "commands-v1: commands, transitions", statements: PostgresStore.commandSchema),
        // PostgresStore+Seals.swift
        Migration(name: "seals-v1: bucket seals", statements: PostgresStore.sealSchema),
        // PostgresStore+CommitFeed.swift
        Migration(name: "feed-v1: commit feed, feed state", statements: PostgresStore.commitFeedSchema),
        // PostgresStore+Tokens.swift
        Migration(name: "tokens-v2: scope, revoked_at", statements: PostgresStore.tokenScopeSchema),
        // PostgresStore+Cluster.swift
        Migration(
            name: "cluster-v1: leader lease, dashboard sessions and login codes", statements: PostgresStore.clusterSchema),
        // PostgresStore+Notifications.swift
        Migration(
            name: "notifications-v1: alert snapshots per transition, notifier cursors",
            statements: PostgresStore.notificationSchema),
        // Every burst rewrites the latest row and the open rollup cells of each series it touches:
        // room left on their pages lets PostgreSQL update them in place (HOT: no new index entry).
        // Pages written from now on keep it; VACUUM FULL or CLUSTER applies it to older ones.
        Migration(name: "fillfactor-v1: room on latest and rollup pages for in-place updates") { s, _ in
            try s.execute("ALTER TABLE latest SET (fillfactor = 50)")
            for table in ["rollup_1m", "rollup_1h", "rollup_1d"] { try s.execute("ALTER TABLE \(table) SET (fillfactor = 70)") }
        },
    ]

    /// Names of the migrations, oldest first: what a current database has applied.
    public static var migrationNames: [String] { migrations.map(\.name) }

    /// Applies the migrations this database lacks, each in its own transaction, holding a
    /// session advisory lock meanwhile; returns the database's bucket width.
    static func migrate(_ s: PostgresSession, options: StoreOptions, logger: Logger) throws -> Int64 {
        try s.query("SELECT pg_advisory_lock(\(migrationLockKey))")
        defer { _ = try? s.query("SELECT pg_advisory_unlock(\(migrationLockKey))") }
        let ours = try s.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first?.decode(Bool.self) ?? false
        if !ours {
            let tables = try s.query(
                "SELECT count(*)::bigint FROM pg_tables WHERE schemaname = current_schema()"
            ).first?.decode(Int64.self) ?? 0
            guard tables == 0 else {
                throw StoreError(
                    .foreignDatabase,
                    "the database holds \(tables) tables of something else and no Shennong schema; refusing to touch it")
            }
            try s.execute(
                """
                CREATE TABLE schema_migrations (
                    seq integer PRIMARY KEY, name text NOT NULL UNIQUE, applied_at timestamptz NOT NULL DEFAULT now())
                """)
        }
        let applied = Set(try s.query("SELECT name FROM schema_migrations").map { try $0.decode(String.self) })
        for (index, migration) in migrations.enumerated() where !applied.contains(migration.name) {
            try s.execute("BEGIN")
            do {
                try migration.apply(s, options)
                try s.query(
                    "INSERT INTO schema_migrations (seq, name) VALUES ($1, $2)", bindings(Int64(index + 1), migration.name))
                try s.execute("COMMIT")
            } catch {
                try? s.execute("ROLLBACK")
                throw error
            }
            logger.info("database migrated", metadata: ["migration": "\(migration.name)"])
        }
        guard
            let width = try s.query("SELECT value FROM store_meta WHERE key = 'bucket_width'").first?.decode(Int64.self),
            width > 0
        else { throw StoreError(.corrupt, "the database has no bucket width") }
        return width
    }

    static let aggregateColumns = """
        count bigint NOT NULL, "min" float8 NOT NULL, "max" float8 NOT NULL, "sum" float8 NOT NULL,
        first float8 NOT NULL, last float8 NOT NULL, first_ts bigint NOT NULL, last_ts bigint NOT NULL
        """

    static let coreSchema: [String] = [
        "CREATE TABLE store_meta (key text PRIMARY KEY, value bigint NOT NULL)",
        """
        CREATE TABLE devices (
            id text PRIMARY KEY, profile text NOT NULL, domain text NOT NULL, site text, name text,
            latitude float8, longitude float8, area_code text, owner text, created_at bigint NOT NULL,
            last_seen bigint, presence text, presence_at bigint, attributes text)
        """,
        "CREATE INDEX devices_site ON devices (site)",
        """
        CREATE TABLE series (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            device text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
            metric text NOT NULL,
            UNIQUE (device, metric))
        """,
        "CREATE TABLE latest (series_id bigint PRIMARY KEY, ts bigint NOT NULL, value float8 NOT NULL)",
        """
        CREATE TABLE buckets (
            start bigint PRIMARY KEY, until bigint NOT NULL, stamp text NOT NULL UNIQUE,
            has_raw boolean NOT NULL DEFAULT false, has_blocks boolean NOT NULL DEFAULT false,
            has_1m boolean NOT NULL DEFAULT false, has_1h boolean NOT NULL DEFAULT false,
            compacted_at bigint)
        """,
        """
        CREATE TABLE raw (
            series_id bigint NOT NULL, ts bigint NOT NULL, value float8 NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) PARTITION BY RANGE (ts)
        """,
        """
        CREATE TABLE blk (
            series_id bigint NOT NULL, bucket bigint NOT NULL, \(aggregateColumns), data bytea NOT NULL,
            PRIMARY KEY (series_id, bucket)
        ) PARTITION BY RANGE (bucket)
        """,
        """
        CREATE TABLE m1 (
            series_id bigint NOT NULL, bucket bigint NOT NULL, cells integer NOT NULL, data bytea NOT NULL,
            PRIMARY KEY (series_id, bucket)
        ) PARTITION BY RANGE (bucket)
        """,
        """
        CREATE TABLE h1 (
            series_id bigint NOT NULL, bucket bigint NOT NULL, cells integer NOT NULL, data bytea NOT NULL,
            PRIMARY KEY (series_id, bucket)
        ) PARTITION BY RANGE (bucket)
        """,
        "CREATE TABLE rollup_1m (series_id bigint NOT NULL, start bigint NOT NULL, \(aggregateColumns), PRIMARY KEY (series_id, start))",
        "CREATE TABLE rollup_1h (series_id bigint NOT NULL, start bigint NOT NULL, \(aggregateColumns), PRIMARY KEY (series_id, start))",
        "CREATE TABLE rollup_1d (series_id bigint NOT NULL, start bigint NOT NULL, \(aggregateColumns), PRIMARY KEY (series_id, start))",
        """
        CREATE TABLE rejects (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, received_at bigint NOT NULL, topic text NOT NULL,
            device text, payload bytea NOT NULL, code text NOT NULL, reason text NOT NULL, field text)
        """,
        "CREATE INDEX rejects_received_at ON rejects (received_at)",
        """
        CREATE TABLE tokens (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL, role text NOT NULL,
            hash text NOT NULL UNIQUE, created_at bigint NOT NULL, last_used_at bigint)
        """,
    ]

    static let alertSchema: [String] = [
        """
        CREATE TABLE rule_state (
            rule text NOT NULL, device text NOT NULL, level integer NOT NULL, watermark bigint NOT NULL,
            state text NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (rule, device))
        """,
        """
        CREATE TABLE alerts (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, rule text NOT NULL, device text NOT NULL,
            domain text NOT NULL, metric text, level integer NOT NULL, peak_level integer NOT NULL, status text NOT NULL,
            value float8, threshold float8, raised_at bigint NOT NULL, updated_at bigint NOT NULL,
            late boolean NOT NULL DEFAULT false, title text NOT NULL, message text NOT NULL,
            acknowledged_by text, acknowledged_at bigint, resolved_by text, resolved_at bigint,
            closed_by text, closed_at bigint, contact_tier integer NOT NULL DEFAULT 0, notified_at bigint NOT NULL)
        """,
        "CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, device) WHERE status IN ('open', 'acknowledged')",
        "CREATE INDEX alerts_status ON alerts (status, level)",
        "CREATE INDEX alerts_device ON alerts (device, id)",
        """
        CREATE TABLE alert_transitions (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE, kind text NOT NULL,
            from_level integer, to_level integer, status text NOT NULL, value float8, at bigint NOT NULL,
            recorded_at bigint NOT NULL, by text NOT NULL, note text, late boolean NOT NULL DEFAULT false)
        """,
        "CREATE INDEX alert_transitions_alert ON alert_transitions (alert_id, id)",
    ]

    static let traceSchema: [String] = [
        """
        CREATE TABLE trace_records (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, chain text NOT NULL, seq bigint NOT NULL,
            kind text NOT NULL, subject text NOT NULL, batch text, item text, payload text NOT NULL,
            content_hash text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL, recorded_at bigint NOT NULL,
            UNIQUE (chain, seq))
        """,
        "CREATE INDEX trace_records_subject ON trace_records (kind, subject)",
        "CREATE INDEX trace_records_batch ON trace_records (batch, kind)",
        """
        CREATE TABLE trace_codes (
            code text PRIMARY KEY, batch text NOT NULL, issue_seq bigint NOT NULL, issued_at bigint NOT NULL)
        """,
        "CREATE INDEX trace_codes_batch ON trace_codes (batch, issue_seq)",
        """
        CREATE TABLE trace_scans (
            code text PRIMARY KEY, count bigint NOT NULL, first_at bigint NOT NULL, last_at bigint NOT NULL)
        """,
        "CREATE TABLE trace_scan_networks (code text NOT NULL, network text NOT NULL, PRIMARY KEY (code, network))",
    ]
}

/// Bindings of `values`, in order.
func bindings(_ values: (any PostgresThrowingDynamicTypeEncodable)?...) throws -> PostgresBindings {
    try bindings(list: values)
}

/// Bindings of `values`, in order (`nil`: NULL).
func bindings(list values: [(any PostgresThrowingDynamicTypeEncodable)?]) throws -> PostgresBindings {
    var binds = PostgresBindings(capacity: values.count)
    for value in values {
        if let value { try binds.append(value) } else { binds.appendNull() }
    }
    return binds
}

extension PostgresStore.Migration {
    /// A migration that runs `statements` in order: what most modules' migrations are (their
    /// `…Schema` lists beside their code).
    init(name: String, statements: [String]) {
        self.init(name: name) { s, _ in
            for sql in statements { try s.execute(sql) }
        }
    }
}
