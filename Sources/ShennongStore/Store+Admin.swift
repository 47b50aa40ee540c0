import ShennongCore
import Foundation
import GRDB


extension Store {
    /// Per bucket: state, readings (raw and compacted) and bytes; oldest first.
    ///
    /// Counts every raw row and reads every page (`dbstat`): an admin query, slow on a big
    /// database. `now` (default: the current time) decides which buckets are still open.
    public func bucketStats(now: Int64? = nil) throws -> [BucketStats] {
        let now = now ?? nowMillis()
        let grace = options.compactionGrace
        return try pool.read { db in
            let sizes = try Self.tableBytes(in: db)
            return try Self.allBuckets(in: db).map { b in
                let raw = b.hasRaw ? try Self.rows(of: b.rawTable, .raw, in: db) : 0
                let compacted = b.hasBlocks ? try Self.rows(of: b.blockTable, .blocks, in: db) : 0
                func bytes(_ tables: [String]) -> Int64? {
                    sizes.map { s in tables.reduce(0) { $0 + (s[$1] ?? 0) } }
                }
                return BucketStats(
                    start: b.start, until: b.until, state: b.state(now: now, grace: grace),
                    rawReadings: raw, compactedReadings: compacted,
                    readingBytes: bytes([b.rawTable, b.blockTable]),
                    rollupBytes: bytes([b.packedTable(.minute)!, b.packedTable(.hour)!]))
            }
        }
    }

    /// Cells and bytes of each rollup tier.
    public func tierStats() throws -> [TierStats] {
        try pool.read { db in
            let sizes = try Self.tableBytes(in: db)
            let buckets = try Self.allBuckets(in: db)
            return try StorageTier.rollups.map { tier in
                let live = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(tier.liveTable)") ?? 0
                var packed = 0
                var tables = [tier.liveTable]
                for b in buckets where b.hasPacked(tier) {
                    let table = b.packedTable(tier)!
                    tables.append(table)
                    packed += try Int.fetchOne(db, sql: "SELECT coalesce(sum(cells), 0) FROM \(table)") ?? 0
                }
                return TierStats(
                    tier: tier, liveCells: live, packedCells: packed,
                    bytes: sizes.map { s in tables.reduce(0) { $0 + (s[$1] ?? 0) } })
            }
        }
    }

    /// Bytes of every table and index (SQLite `dbstat`), or `nil` when the library was built
    /// without it. Debian's libsqlite3 has it (`SQLITE_ENABLE_DBSTAT_VTAB`).
    static func tableBytes(in db: Database) throws -> [String: Int64]? {
        do {
            var sizes: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, pgsize FROM dbstat WHERE aggregate = TRUE") {
                sizes[row[0]] = row[1]
            }
            return sizes
        } catch let error as DatabaseError where error.message?.contains("dbstat") == true {
            return nil
        }
    }

    /// Bytes of each table and index, from `dbstat`; `nil` without it.
    public func tableBytes() throws -> [String: Int64]? {
        try pool.read { db in try Self.tableBytes(in: db) }
    }

    /// Copies the live database to a new file at `path` with SQLite's online backup: a
    /// consistent snapshot, taken while ingest goes on (it only reads). The copy is a complete
    /// Shennong database; `shennong serve` opens it as it is.
    ///
    /// Throws `conflict` if `path` exists.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.conflict, "\(path) exists; a backup goes to a new file")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        do {
            let destination = try DatabaseQueue(path: path)
            try pool.backup(to: destination)
            try destination.close()
        } catch let error as DatabaseError {
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError(.io, "backup to \(path) failed: \(error.message ?? error.description)")
        }
    }
}
