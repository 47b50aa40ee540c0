import ShennongCore
import GRDB
import Logging

/// The schema and its migrations. Never edit a registered migration: add one.
extension Store {
    /// Names of the migrations, oldest first.
    static let v1Name = "v1: devices, series, readings, rejects, tokens"
    static let v2Name = "v2: time buckets, rollups"
    static let v3Name = "v3: device attributes"

    /// Every migration of this build, oldest first: what a current database has applied.
    public static var migrationNames: [String] {
        migrator(options: StoreOptions(), logger: Logger(label: "shennong.store")).migrations
    }

    static func migrator(options: StoreOptions, logger: Logger) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: devices, series, readings, rejects, tokens") { db in
            try db.execute(sql: "PRAGMA application_id = \(Store.applicationID)")
            try db.execute(
                sql: """
                    CREATE TABLE devices (
                        id TEXT PRIMARY KEY NOT NULL,
                        profile TEXT NOT NULL,
                        domain TEXT NOT NULL,
                        site TEXT,
                        name TEXT,
                        latitude REAL,
                        longitude REAL,
                        area_code TEXT,
                        owner TEXT,
                        created_at INTEGER NOT NULL,
                        last_seen INTEGER,
                        presence TEXT,
                        presence_at INTEGER
                    );
                    CREATE INDEX devices_site ON devices(site);
                    CREATE TABLE series (
                        id INTEGER PRIMARY KEY,
                        device TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
                        metric TEXT NOT NULL,
                        UNIQUE(device, metric)
                    );
                    CREATE TABLE readings (
                        series_id INTEGER NOT NULL,
                        ts INTEGER NOT NULL,
                        value REAL NOT NULL,
                        PRIMARY KEY (series_id, ts)
                    ) WITHOUT ROWID;
                    CREATE TABLE latest (
                        series_id INTEGER PRIMARY KEY,
                        ts INTEGER NOT NULL,
                        value REAL NOT NULL
                    );
                    CREATE TABLE rejects (
                        id INTEGER PRIMARY KEY,
                        received_at INTEGER NOT NULL,
                        topic TEXT NOT NULL,
                        device TEXT,
                        payload BLOB NOT NULL,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        field TEXT
                    );
                    CREATE INDEX rejects_received_at ON rejects(received_at);
                    CREATE TABLE tokens (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        last_used_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration(v2Name) { db in
            try migrateToBuckets(db, width: options.bucketWidth, logger: logger)
        }
        migrator.registerMigration(v3Name) { db in
            try db.execute(sql: "ALTER TABLE devices ADD COLUMN attributes TEXT")
        }
        // Each module's tables, in its own migrations (Store+Alerts.swift, Store+Trace.swift).
        registerAlertMigrations(&migrator)
        registerTraceMigrations(&migrator)
        registerCommandMigrations(&migrator)
        registerSealMigrations(&migrator)
        registerCommitFeedMigrations(&migrator)
        registerTokenMigrations(&migrator)
        registerClusterMigrations(&migrator)
        registerNotificationMigrations(&migrator)
        return migrator
    }

    /// v2: bucket registry, rollup tables, and the v1 `readings` table moved into buckets
    /// with its rollups built (in timestamp order, so they are exact).
    static func migrateToBuckets(_ db: Database, width: Int64, logger: Logger) throws {
        try db.execute(
            sql: """
                CREATE TABLE store_meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
                CREATE TABLE buckets (
                    start INTEGER PRIMARY KEY,
                    until INTEGER NOT NULL,
                    stamp TEXT NOT NULL UNIQUE,
                    has_raw INTEGER NOT NULL DEFAULT 0,
                    has_blocks INTEGER NOT NULL DEFAULT 0,
                    has_1m INTEGER NOT NULL DEFAULT 0,
                    has_1h INTEGER NOT NULL DEFAULT 0,
                    compacted_at INTEGER
                );
                """)
        try db.execute(sql: "INSERT INTO store_meta (key, value) VALUES ('bucket_width', ?)", arguments: [width])
        for tier in StorageTier.rollups {
            try db.execute(sql: createLiveRollupSQL(tier))
        }
        guard try db.tableExists("readings") else { return }

        let layout = BucketLayout(width: width)
        var inserts: [Int64: Statement] = [:]
        let cellInserts = try StorageTier.rollups.map { try db.makeStatement(sql: insertCellSQL($0, orReplace: false)) }
        var current: Int64?
        var open: [RollupCell?] = [nil, nil, nil]
        var moved = 0
        func flush() throws {
            guard let series = current else { return }
            for (i, cell) in open.enumerated() {
                if let cell { try cellInserts[i].execute(arguments: cellArguments(series, cell)) }
            }
            open = [nil, nil, nil]
        }
        let rows = try Row.fetchCursor(db, sql: "SELECT series_id, ts, value FROM readings ORDER BY series_id, ts")
        while let row = try rows.next() {
            let series: Int64 = row[0]
            let ts: Int64 = row[1]
            let value: Double = row[2]
            if series != current {
                try flush()
                current = series
            }
            let start = layout.start(of: ts)
            if inserts[start] == nil {
                let bucket = try openBucket(for: ts, layout: layout, in: db)
                inserts[start] = try db.makeStatement(
                    sql: "INSERT INTO \(bucket.rawTable) (series_id, ts, value) VALUES (?, ?, ?)")
            }
            try inserts[start]!.execute(arguments: [series, ts, value])
            for (i, tier) in StorageTier.rollups.enumerated() {
                let cellStart = floorAlign(ts, tier.width)
                if open[i]?.start == cellStart {
                    open[i]!.append(ts: ts, value: value)
                } else {
                    if let cell = open[i] { try cellInserts[i].execute(arguments: cellArguments(series, cell)) }
                    open[i] = RollupCell(start: cellStart, ts: ts, value: value)
                }
            }
            moved += 1
        }
        try flush()
        try db.execute(sql: "DROP TABLE readings")
        guard moved > 0 else { return }
        logger.notice(
            "readings moved into time buckets",
            metadata: ["readings": "\(moved)", "buckets": "\(inserts.count)", "bucket_width_ms": "\(width)"])
    }
}

extension Store {
    /// Test hook: brings the database at `path` up to and including the migration named
    /// `last` only (a file "as an earlier release left it"), without opening a ``Store``.
    /// `last` must be one of ``migrationNames``.
    package static func migrate(path: String, upTo last: String, options: StoreOptions = StoreOptions()) throws {
        let queue = try DatabaseQueue(path: path)
        try migrator(options: options, logger: Logger(label: "shennong.store")).migrate(queue, upTo: last)
        try queue.close()
    }
}
