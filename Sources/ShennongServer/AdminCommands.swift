import Foundation
import Logging
import ShennongCore
import ShennongPostgres
import ShennongStore

/// The admin verbs that act on the database file directly (`tokens create`, `db migrate`,
/// `db stats`, `db retention`, `db compact`, `db backup`), each on an ``AdminDatabase``. Each
/// returns an ``AdminTable`` for the CLI's table, CSV or JSON output; what people read in it
/// is in the database's `language` (``AdminStrings``), times in local time (its `offsetMinutes`,
/// the configuration's `local_time`).
public enum AdminCommands {
    /// Notices (an upgrade moving readings, a kept bucket width) go to stderr, never into
    /// the listing on stdout.
    static let logger: Logger = {
        var logger = Logger(label: "shennong.admin") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .notice
        return logger
    }()

    /// The engine `databasePath` names: a `postgres://` URL (password from the environment
    /// variable `SHENNONG_DATABASE_PASSWORD`) or a SQLite file.
    static func open(_ databasePath: String, _ storage: ServerConfig.Storage, sealer: StoreSealer? = nil) throws -> any ServerStore {
        var options = storage.storeOptions
        options.sealer = sealer
        if PostgresSettings.isURL(databasePath) {
            let password = try PostgresSettings.password(file: nil, environment: ServerConfig.Database().passwordEnvironment)
            return try PostgresStore(
                settings: PostgresSettings(url: databasePath, password: password), options: options, logger: logger)
        }
        return try Store(path: databasePath, options: options, logger: logger)
    }

    /// Opens (and so migrates) the database; returns the applied migrations.
    public static func migrate(_ database: AdminDatabase) throws -> [String] {
        let store = try open(database.path, database.storage)
        defer { try? store.close() }
        return try store.appliedMigrations()
    }

    /// Counts and sizes: first the totals (`item`, `value`), then one row per time bucket
    /// (`item` = `bucket <start>`, `value` = its readings, with `state`, `bytes`,
    /// `bytes_per_reading`, `ratio`), then one per rollup tier (`value` = cells).
    ///
    /// `ratio` is 16 bytes (a bare timestamp and double) over the bytes a reading takes.
    public static func stats(_ database: AdminDatabase, buckets: Bool = true) throws -> AdminTable {
        let words = AdminStrings.of(database.language)
        let offsetMinutes = database.offsetMinutes
        let store = try open(database.path, database.storage)
        defer { try? store.close() }
        let s = try store.stats()
        var rows = [
            item("devices", .int(s.devices)), item("series", .int(s.series)), item("readings", .int(s.readings)),
            item("readings_raw", .int(s.rawReadings)), item("readings_compacted", .int(s.compactedReadings)),
            item("buckets", .int(s.buckets)), item("rejects", .int(s.rejects)), item("file_bytes", .int(s.fileBytes)),
            item("free_bytes", .int(s.freeBytes)),
        ]
        guard buckets else { return .items(rows) }
        for b in try store.bucketStats(now: nil) {
            rows.append(
                row([
                    ("item", .string(words.bucket(LocalTime.precise(b.start, offsetMinutes: offsetMinutes)))), ("value", .int(b.readings)),
                    ("state", .string(b.state.rawValue)), ("raw", .int(b.rawReadings)),
                    ("compacted", .int(b.compactedReadings)), ("bytes", b.readingBytes.map(JSONValue.int)),
                    ("bytes_per_reading", b.bytesPerReading.map(round2)), ("ratio", b.compressionRatio.map(round2)),
                    ("rollup_bytes", b.rollupBytes.map(JSONValue.int)),
                ]))
        }
        for t in try store.tierStats() {
            let perReading = t.bytes.flatMap { s.readings > 0 ? round2(Double($0) / Double(s.readings)) : nil }
            rows.append(
                row([
                    ("item", .string(words.rollup(t.tier.rawValue))), ("value", .int(t.liveCells + t.packedCells)),
                    ("state", .string(words.cells(t.liveCells, t.packedCells))),
                    ("bytes", t.bytes.map(JSONValue.int)), ("bytes_per_reading", perReading),
                ]))
        }
        return AdminTable(rows, columns: statsColumns)
    }

    /// Columns of ``stats(_:buckets:)``.
    static let statsColumns = ["item", "value", "state", "raw", "compacted", "bytes", "bytes_per_reading", "ratio", "rollup_bytes"]

    /// Applies (or with `dryRun` lists) retention; one row per bucket and tier dropped.
    public static func retention(_ database: AdminDatabase, dryRun: Bool, now: Int64? = nil) throws -> AdminTable {
        let words = AdminStrings.of(database.language)
        let offsetMinutes = database.offsetMinutes
        let store = try open(database.path, database.storage)
        defer { try? store.close() }
        let report = try store.retention(now: now, dryRun: dryRun)
        let rows = report.items.map { item in
            row([
                ("tier", .string(item.tier.rawValue)),
                ("bucket", .string(item.bucketStart.map { LocalTime.precise($0, offsetMinutes: offsetMinutes) } ?? words.liveRows)),
                ("until", .string(LocalTime.precise(item.until, offsetMinutes: offsetMinutes))),
                ("tables", .string(item.tables.joined(separator: " "))),
                ("rows", .int(item.rows)),
                ("action", .string(dryRun ? words.wouldDrop : words.dropped)),
            ])
        }
        return AdminTable(rows, columns: ["action", "tier", "bucket", "until", "rows", "tables"])
    }

    /// Compacts every closed bucket now, sealing each with the database's signing key.
    public static func compact(_ database: AdminDatabase) throws -> AdminTable {
        let store = try open(database.path, database.storage, sealer: try sealer(signingKeyPath: database.signingKeyPath))
        defer { try? store.close() }
        let started = ContinuousClock.now
        let report = try store.compact(now: nil, shouldContinue: { true })
        return .items([
            item("buckets_compacted", .int(report.buckets)), item("series_buckets", .int(report.series)),
            item("readings", .int(report.readings)), item("transactions", .int(report.transactions)),
            item("seconds", round2(seconds(since: started))),
        ])
    }

    /// Returns the database file's free pages to the file system (``Store/vacuum(full:)``).
    public static func vacuum(_ database: AdminDatabase, full: Bool) throws -> AdminTable {
        if PostgresSettings.isURL(database.path) {
            throw StoreError(
                .invalidArgument,
                "db vacuum 只用于 SQLite 文件；PostgreSQL 由 autovacuum 回收空间 / db vacuum is for a SQLite file; PostgreSQL's autovacuum returns space (VACUUM FULL in psql rewrites a table)")
        }
        let store = try Store(path: database.path, logger: logger)
        defer { try? store.close() }
        let started = ContinuousClock.now
        let report = try store.vacuum(full: full)
        return .items([
            item("incremental", .bool(report.incremental)), item("free_pages_before", .int(report.freePagesBefore)),
            item("free_pages_after", .int(report.freePagesAfter)), item("steps", .int(report.steps)),
            item("file_bytes_before", .int(Int(report.fileBytesBefore))), item("file_bytes_after", .int(Int(report.fileBytesAfter))),
            item("seconds", round2(seconds(since: started))),
        ])
    }

    /// Online backup of the (possibly live) database to the new file `destination`.
    public static func backup(_ database: AdminDatabase, to destination: String) throws -> AdminTable {
        if PostgresSettings.isURL(database.path) {
            throw StoreError(.invalidArgument, "db backup copies a SQLite file; back PostgreSQL up with pg_dump or pg_basebackup")
        }
        let store = try Store(path: database.path, logger: logger)
        defer { try? store.close() }
        let started = ContinuousClock.now
        try store.backup(to: destination)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        return .items([
            item("backup", .string(destination)), item("bytes", .int(bytes)),
            item("seconds", round2(seconds(since: started))),
        ])
    }

    /// Copies the SQLite database into the PostgreSQL database `url` and verifies the copy
    /// (see ``StoreCopy``); one row per count compared, then the series verified.
    public static func copy(_ database: AdminDatabase, to url: String, force: Bool = false) throws -> AdminTable {
        guard !PostgresSettings.isURL(database.path) else {
            throw StoreError(.invalidArgument, "db copy reads a SQLite file (--db PATH)")
        }
        let source = try Store(path: database.path, options: database.storage.storeOptions, logger: logger)
        defer { try? source.close() }
        let password = try PostgresSettings.password(file: nil, environment: ServerConfig.Database().passwordEnvironment)
        let destination = try PostgresStore(
            settings: PostgresSettings(url: url, password: password), options: source.options, logger: logger)
        defer { try? destination.close() }
        let report = try StoreCopy.copy(from: source, to: destination, force: force, logger: logger)
        let rows =
            report.counts.map { row([("item", .string($0.item)), ("source", .int($0.source)), ("copy", .int($0.copy))]) }
            + [row([("item", .string("series_checksums_equal")), ("source", .int(report.seriesVerified)),
                    ("copy", .int(report.seriesVerified))])]
        return AdminTable(rows, columns: ["item", "source", "copy"])
    }

    /// A row of its members with a value (keys sorted, `nil` left out).
    static func row(_ members: [(String, JSONValue?)]) -> JSONValue {
        .object(
            JSONObject(
                members.compactMap { key, value in value.map { JSONObject.Member(key: key, value: $0) } }
                    .sorted { $0.key < $1.key }))
    }

    /// An `item`, `value` row.
    static func item(_ name: String, _ value: JSONValue) -> JSONValue {
        row([("item", .string(name)), ("value", value)])
    }

    static func round2(_ x: Double) -> JSONValue { .number((x * 100).rounded() / 100) }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension JSONValue {
    /// A whole number.
    static func int(_ value: some BinaryInteger) -> JSONValue { .number(Double(value)) }
}
