import Foundation
import Logging
import ShennongCore
import ShennongStore

/// The admin verbs that act on the database file directly (`tokens create`, `db migrate`,
/// `db stats`, `db retention`, `db compact`, `db backup`). Each returns rows (JSON objects)
/// for the CLI's table, CSV or JSON output.
public enum AdminCommands {
    /// Notices (an upgrade moving readings, a kept bucket width) go to stderr, never into
    /// the listing on stdout.
    static let logger: Logger = {
        var logger = Logger(label: "shennong.admin") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .notice
        return logger
    }()

    static func open(_ databasePath: String, _ storage: ServerConfig.Storage) throws -> Store {
        try Store(path: databasePath, options: storage.storeOptions, logger: logger)
    }

    /// Opens the database at `path`, creates a token and returns its secret.
    public static func createToken(databasePath: String, name: String, role: Role) throws -> String {
        let store = try Store(path: databasePath, logger: logger)
        defer { try? store.close() }
        return try store.createToken(name: name, role: role)
    }

    /// Opens (and so migrates) the database; returns the applied migrations.
    public static func migrate(databasePath: String, storage: ServerConfig.Storage = .init()) throws -> [String] {
        let store = try open(databasePath, storage)
        defer { try? store.close() }
        return try store.appliedMigrations()
    }

    /// Counts and sizes: first the totals (`item`, `value`), then one row per time bucket
    /// (`item` = `bucket <start>`, `value` = its readings, with `state`, `bytes`,
    /// `bytes_per_reading`, `ratio`), then one per rollup tier (`value` = cells).
    ///
    /// `ratio` is 16 bytes (a bare timestamp and double) over the bytes a reading takes.
    public static func stats(
        databasePath: String, storage: ServerConfig.Storage = .init(), buckets: Bool = true
    ) throws -> [[String: Any]] {
        let store = try open(databasePath, storage)
        defer { try? store.close() }
        let s = try store.stats()
        var rows: [[String: Any]] = [
            ["item": "devices", "value": s.devices], ["item": "series", "value": s.series],
            ["item": "readings", "value": s.readings], ["item": "readings_raw", "value": s.rawReadings],
            ["item": "readings_compacted", "value": s.compactedReadings], ["item": "buckets", "value": s.buckets],
            ["item": "rejects", "value": s.rejects], ["item": "file_bytes", "value": s.fileBytes],
        ]
        guard buckets else { return rows }
        let perBucket = try store.bucketStats()
        for b in perBucket {
            var row: [String: Any] = [
                "item": "bucket \(Timestamp.format(b.start))", "value": b.readings, "state": b.state.rawValue,
                "raw": b.rawReadings, "compacted": b.compactedReadings,
            ]
            if let bytes = b.readingBytes { row["bytes"] = bytes }
            if let perReading = b.bytesPerReading { row["bytes_per_reading"] = round2(perReading) }
            if let ratio = b.compressionRatio { row["ratio"] = round2(ratio) }
            if let rollup = b.rollupBytes { row["rollup_bytes"] = rollup }
            rows.append(row)
        }
        for t in try store.tierStats() {
            var row: [String: Any] = [
                "item": "rollup \(t.tier.rawValue)", "value": t.liveCells + t.packedCells,
                "state": "\(t.liveCells) live, \(t.packedCells) packed",
            ]
            if let bytes = t.bytes {
                row["bytes"] = bytes
                if s.readings > 0 { row["bytes_per_reading"] = round2(Double(bytes) / Double(s.readings)) }
            }
            rows.append(row)
        }
        return rows
    }

    /// Columns of ``stats(databasePath:storage:buckets:)``.
    public static let statsColumns = ["item", "value", "state", "raw", "compacted", "bytes", "bytes_per_reading", "ratio", "rollup_bytes"]

    /// Applies (or with `dryRun` lists) retention; one row per bucket and tier dropped.
    public static func retention(
        databasePath: String, storage: ServerConfig.Storage = .init(), dryRun: Bool, now: Int64? = nil
    ) throws -> [[String: Any]] {
        let store = try open(databasePath, storage)
        defer { try? store.close() }
        let report = try store.retention(now: now, dryRun: dryRun)
        return report.items.map { item in
            [
                "tier": item.tier.rawValue,
                "bucket": item.bucketStart.map(Timestamp.format) ?? "live rows",
                "until": Timestamp.format(item.until),
                "tables": item.tables.joined(separator: " "),
                "rows": item.rows,
                "action": dryRun ? "would drop" : "dropped",
            ]
        }
    }

    /// Columns of ``retention(databasePath:storage:dryRun:now:)``.
    public static let retentionColumns = ["action", "tier", "bucket", "until", "rows", "tables"]

    /// Compacts every closed bucket now.
    public static func compact(databasePath: String, storage: ServerConfig.Storage = .init()) throws -> [[String: Any]] {
        let store = try open(databasePath, storage)
        defer { try? store.close() }
        let started = Date()
        let report = try store.compact()
        return [
            ["item": "buckets_compacted", "value": report.buckets], ["item": "series_buckets", "value": report.series],
            ["item": "readings", "value": report.readings], ["item": "transactions", "value": report.transactions],
            ["item": "seconds", "value": round2(Date().timeIntervalSince(started))],
        ]
    }

    /// Online backup of the (possibly live) database to the new file `destination`.
    public static func backup(databasePath: String, to destination: String) throws -> [[String: Any]] {
        let store = try Store(path: databasePath, logger: logger)
        defer { try? store.close() }
        let started = Date()
        try store.backup(to: destination)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        return [
            ["item": "backup", "value": destination], ["item": "bytes", "value": bytes],
            ["item": "seconds", "value": round2(Date().timeIntervalSince(started))],
        ]
    }

    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}
