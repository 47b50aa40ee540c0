import ShennongCore
import Foundation
import GRDB

/// The layout the time-bucketed store is measured against: one table of (device, metric,
/// ts, value) with its primary key, as a first design would have it. For the store
/// benchmark only (`@_spi(Benchmarks)`); not part of the server.
@_spi(Benchmarks)
public final class PlainReadingTable: Sendable {
    let pool: DatabasePool

    /// Opens (creating) a database of that layout at `path`, synchronous=NORMAL like a
    /// non-durable store, with the same writer cache and memory map.
    public init(path: String, writerCacheMiB: Int = 64) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -\(writerCacheMiB * 1024)") }
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY NOT NULL, site TEXT);
                    CREATE INDEX IF NOT EXISTS devices_site ON devices(site);
                    CREATE TABLE IF NOT EXISTS readings (
                        device TEXT NOT NULL, metric TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
                        PRIMARY KEY (device, metric, ts)
                    ) WITHOUT ROWID;
                    """)
        }
    }

    public func close() throws { try pool.close() }

    /// Inserts readings (duplicates ignored) and registers devices, in one transaction.
    public func insert(_ readings: [(device: String, metric: String, ts: Int64, value: Double)], devices: [(String, String?)] = [])
        throws
    {
        try pool.write { db in
            for (id, site) in devices {
                try db.execute(sql: "INSERT OR IGNORE INTO devices (id, site) VALUES (?, ?)", arguments: [id, site])
            }
            let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO readings (device, metric, ts, value) VALUES (?, ?, ?, ?)")
            for r in readings {
                try statement.execute(arguments: [r.device, r.metric, r.ts, r.value])
            }
        }
    }

    /// The newest reading of every (device, metric) of `site`: one index probe per series.
    public func latest(site: String) throws -> [(device: String, metric: String, ts: Int64, value: Double)] {
        try pool.read { db in
            var result: [(String, String, Int64, Double)] = []
            let devices = try String.fetchAll(db, sql: "SELECT id FROM devices WHERE site = ? ORDER BY id", arguments: [site])
            for device in devices {
                // The metrics of a device: skip-scan the key for distinct metrics.
                var metric = try String.fetchOne(
                    db, sql: "SELECT metric FROM readings WHERE device = ? ORDER BY metric LIMIT 1", arguments: [device])
                while let m = metric {
                    if let row = try Row.fetchOne(
                        db, sql: "SELECT ts, value FROM readings WHERE device = ? AND metric = ? ORDER BY ts DESC LIMIT 1",
                        arguments: [device, m])
                    {
                        result.append((device, m, row[0], row[1]))
                    }
                    metric = try String.fetchOne(
                        db, sql: "SELECT metric FROM readings WHERE device = ? AND metric > ? ORDER BY metric LIMIT 1",
                        arguments: [device, m])
                }
            }
            return result
        }
    }

    /// Count, min, max, sum, first and last per UTC interval of `every` ms, from an ordered
    /// scan of the series' rows (what the single-table store did).
    public func aggregates(device: String, metric: String, from: Int64, to: Int64, every: Int64) throws
        -> [AggregatePoint]
    {
        try pool.read { db in
            var result: [AggregatePoint] = []
            let rows = try Row.fetchCursor(
                db, sql: "SELECT ts, value FROM readings WHERE device = ? AND metric = ? AND ts >= ? AND ts < ? ORDER BY ts",
                arguments: [device, metric, floorAlign(from, every), to])
            var current: RollupCell?
            while let row = try rows.next() {
                let ts: Int64 = row[0]
                let value: Double = row[1]
                let start = floorAlign(ts, every)
                if current?.start == start {
                    current!.append(ts: ts, value: value)
                } else {
                    if let c = current { result.append(c.aggregate(device: device, metric: metric)) }
                    current = RollupCell(start: start, ts: ts, value: value)
                }
            }
            if let c = current { result.append(c.aggregate(device: device, metric: metric)) }
            return result
        }
    }

    /// Bytes of the readings table and its key (dbstat).
    public func readingBytes() throws -> Int64 {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT sum(pgsize) FROM dbstat WHERE name = 'readings'") ?? 0
        }
    }

    /// Devices of `site`.
    public func devices(site: String) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM devices WHERE site = ? ORDER BY id", arguments: [site])
        }
    }
}
