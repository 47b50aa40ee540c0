import Foundation
import GRDB
import ShennongCore


extension Store {
    /// One compaction transaction: the oldest closed bucket with raw rows, up to about
    /// `options.compactionBatchRows` readings; with no bucket left to compact, one step of
    /// returning free pages to the file system (``returnFreePages(maxPages:)``). Returns
    /// `transactions == 0` when there was nothing to do.
    public func compactBatch(now: Int64? = nil) throws -> CompactionReport {
        let report = try compactOneBatch(now: now)
        guard report.transactions == 0 else { return report }
        // Then closed buckets no seal covers yet (compacted before seals, or without the key).
        if let sealer = options.sealer, try sealNextPending(with: sealer.sealing, now: now) != nil {
            var sealed = CompactionReport()
            sealed.transactions = 1
            return sealed
        }
        var vacuum = CompactionReport()
        if try returnFreePages() > 0 {
            vacuum.transactions = 1
        } else {
            truncateWAL()
        }
        return vacuum
    }

    /// Copies the WAL into the database and cuts it to zero bytes when it has grown past
    /// ``walSizeLimitBytes`` (the end of a maintenance pass: the pages compaction and vacuum
    /// wrote, and a vacuum's shrinking of the database file, reach the disk now, not at the
    /// next automatic checkpoint). Skipped when a reader holds the WAL (it stays as it was).
    func truncateWAL() {
        let size = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
        guard size > Self.walSizeLimitBytes else { return }
        _ = try? pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Pages one vacuum step returns at most (4 KiB pages: 8 MiB), in one short write transaction.
    public static let vacuumStepPages = 2_048

    /// Returns up to `maxPages` free pages (left by dropped raw tables, compacted series and
    /// retention) to the file system in one write transaction (`PRAGMA incremental_vacuum`),
    /// so the file shrinks without a VACUUM that would hold the writer for the whole file.
    /// Returns the pages returned: 0 when there are none, or when the file was created before
    /// incremental vacuum (its free pages are still reused by later writes).
    @discardableResult
    public func returnFreePages(maxPages: Int = Store.vacuumStepPages) throws -> Int {
        try pool.write { db in
            guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2 else { return 0 }
            let before = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            guard before > 0 else { return 0 }
            try db.execute(sql: "PRAGMA incremental_vacuum(\(max(1, maxPages)))")
            return before - (try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
        }
    }

    /// What ``vacuum(full:)`` did.
    public struct VacuumReport: Sendable, Equatable {
        /// Whether the file returns free pages a step at a time (`auto_vacuum = INCREMENTAL`).
        public var incremental: Bool
        public var freePagesBefore: Int
        public var freePagesAfter: Int
        /// Incremental steps taken (each one short write transaction); 0 for a full vacuum.
        public var steps: Int
        public var fileBytesBefore: Int64
        public var fileBytesAfter: Int64
    }

    /// Returns the file's free pages to the file system.
    ///
    /// Without `full`, in steps of ``vacuumStepPages`` pages, each its own short write
    /// transaction, so ingest waits at most one step: the path for a running server. A file
    /// made before incremental vacuum returns nothing this way (its free pages are reused by
    /// later writes); `full` converts it once: `auto_vacuum = INCREMENTAL` and a `VACUUM`
    /// that rewrites the whole file and holds the writer meanwhile (stop the server, or
    /// accept that ingest waits for it: the broker keeps what arrives).
    public func vacuum(full: Bool) throws -> VacuumReport {
        func state() throws -> (mode: Int, free: Int) {
            try pool.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") ?? 0, try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
            }
        }
        let bytesBefore = fileBytesOnDisk()
        let before = try state()
        var steps = 0
        if full {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        } else {
            while try returnFreePages() > 0 { steps += 1 }
            _ = try? pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        let after = try state()
        return VacuumReport(
            incremental: after.mode == 2, freePagesBefore: before.free, freePagesAfter: after.free, steps: steps,
            fileBytesBefore: bytesBefore, fileBytesAfter: fileBytesOnDisk())
    }

    /// The database file with its WAL, as the file system counts them.
    private func fileBytesOnDisk() -> Int64 {
        [path, path + "-wal"].reduce(0) { sum, file in
            sum + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? 0)
        }
    }

    private func compactOneBatch(now: Int64?) throws -> CompactionReport {
        let now = now ?? nowMillis()
        let budget = options.compactionBatchRows
        let grace = options.compactionGrace
        return try pool.write { db in
            // Inside the transaction: no ingest burst can hold the cache meanwhile.
            invalidateIngestCache()
            var report = CompactionReport()
            guard
                var bucket = try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.bucketColumns) FROM buckets WHERE has_raw = 1 AND until <= ? ORDER BY start LIMIT 1",
                    arguments: [now - grace]
                ).map(Self.bucketInfo)
            else { return report }
            report.transactions = 1
            let next = try db.makeStatement(sql: "SELECT series_id FROM \(bucket.rawTable) ORDER BY series_id LIMIT 1")
            let horizons = try RollupHorizons(in: db)
            while report.readings < budget, let series = try Int64.fetchOne(next) {
                report.readings += try Self.compact(series: series, bucket: &bucket, horizons: horizons, in: db)
                report.series += 1
            }
            if try Int64.fetchOne(next) == nil {
                try db.execute(sql: "DROP TABLE \(bucket.rawTable)")
                try db.execute(
                    sql: "UPDATE buckets SET has_raw = 0, compacted_at = ? WHERE start = ?", arguments: [now, bucket.start])
                report.buckets = 1
                // The bucket is closed: seal its blocks in this same transaction (上链).
                if let sealer = options.sealer { try Self.sealBucket(bucket, sealer: sealer.sealing, now: now, in: db) }
            }
            return report
        }
    }

    /// Decimal digits the values of `series` are declared with (``SeriesCompaction/precision(metric:)``).
    static func precision(series: Int64, in db: Database) throws -> Int {
        let metric = try String.fetchOne(db.cachedStatement(sql: "SELECT metric FROM series WHERE id = ?"), arguments: [series])
        return SeriesCompaction.precision(metric: metric)
    }

    /// Moves the raw rows of `series` in `bucket` (merged with an existing block) into its
    /// block, packs its 1 m / 1 h cells of the bucket and writes its 1 d cells: computed from
    /// the readings (``tierIsStored(_:ts:bucketWidth:rawHorizon:)``), or the live cells of a
    /// tier that is stored (beyond the raw horizon). Returns the raw rows moved.
    static func compact(
        series: Int64, bucket: inout BucketInfo, horizons: RollupHorizons, in db: Database
    ) throws -> Int {
        var raw: [Point] = []
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT ts, value FROM \(bucket.rawTable) WHERE series_id = ? ORDER BY ts"),
            arguments: [series])
        while let row = try rows.next() { raw.append(Point(ts: row[0], value: row[1])) }
        var points: [Point] = []
        if bucket.hasBlocks,
            let data = try Data.fetchOne(
                db.cachedStatement(sql: "SELECT data FROM \(bucket.blockTable) WHERE series_id = ?"), arguments: [series])
        {
            points = Point.merged(try BlockCodec.decodePoints([UInt8](data)), raw)
        } else {
            points = raw
        }
        let precision = try precision(series: series, in: db)
        if !bucket.hasBlocks {
            try db.execute(sql: createBlockSQL(bucket.blockTable))
            try db.execute(sql: "UPDATE buckets SET has_blocks = 1 WHERE start = ?", arguments: [bucket.start])
            bucket.hasBlocks = true
        }
        if let block = try SeriesCompaction.block(of: points, maxPrecision: precision, series: series, bucket: bucket) {
            let summary = block.summary
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO \(bucket.blockTable)
                        (series_id, count, "min", "max", "sum", first, last, first_ts, last_ts, data)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                series, summary.count, summary.min, summary.max, summary.sum, summary.first, summary.last,
                summary.firstTs, summary.lastTs, Data(block.data),
            ])
        }
        try db.cachedStatement(sql: "DELETE FROM \(bucket.rawTable) WHERE series_id = ?").execute(arguments: [series])

        let width = bucket.until - bucket.start
        for tier in StorageTier.rollups where !tierIsStored(tier, ts: bucket.start, bucketWidth: width, rawHorizon: horizons.raw) {
            try writeComputed(tier, series: series, points: points, bucket: &bucket, horizons: horizons, precision: precision, in: db)
        }
        // Tiers stored beyond the raw horizon: their live 1 m and 1 h cells are packed.
        for tier in [StorageTier.minute, .hour] where tierIsStored(tier, ts: bucket.start, bucketWidth: width, rawHorizon: horizons.raw) {
            var live: [RollupCell] = []
            let cellRows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT \(cellColumns) FROM \(tier.liveTable) WHERE series_id = ? AND start >= ? AND start < ? ORDER BY start"),
                arguments: [series, bucket.start, bucket.until])
            while let row = try cellRows.next() { live.append(cell(row)) }
            guard !live.isEmpty else { continue }
            let table = bucket.packedTable(tier)!
            var cells = live
            if bucket.hasPacked(tier),
                let data = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT data FROM \(table) WHERE series_id = ?"), arguments: [series])
            {
                let packed = try BlockCodec.decodeCells([UInt8](data), origin: bucket.start, width: tier.width)
                cells = RollupCell.merged(packed, live)
            } else if !bucket.hasPacked(tier) {
                try createPacked(tier, bucket: &bucket, in: db)
            }
            try writePacked(cells, series: series, bucket: bucket, tier: tier, table: table, precision: precision, in: db)
            try deleteLiveCells(tier, series: series, of: bucket, in: db)
        }
        return raw.count
    }

    /// Writes the `tier` cells of `points` (every reading of `series` in `bucket`) in place of
    /// any the bucket had: 1 m and 1 h cells packed, 1 d cells as live rows (they are not
    /// packed). Live cells an older version left go: the cells then come from what is written
    /// alone, as they came from the raw readings before. Cells retention dropped (older than
    /// the tier's horizon) are not written again.
    static func writeComputed(
        _ tier: StorageTier, series: Int64, points: [Point], bucket: inout BucketInfo, horizons: RollupHorizons,
        precision: Int, in db: Database
    ) throws {
        let horizon = horizons[tier]
        let cells = RollupCell.cells(of: points, width: tier.width).filter { $0.start + tier.width > horizon }
        try deleteLiveCells(tier, series: series, of: bucket, in: db)
        guard let table = bucket.packedTable(tier) else {
            let insert = try db.cachedStatement(sql: insertCellSQL(tier, orReplace: true))
            for cell in cells { try insert.writeCell(series: series, cell, in: db) }
            return
        }
        guard !cells.isEmpty else {
            if bucket.hasPacked(tier) {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE series_id = ?").execute(arguments: [series])
            }
            return
        }
        if !bucket.hasPacked(tier) { try createPacked(tier, bucket: &bucket, in: db) }
        try writePacked(cells, series: series, bucket: bucket, tier: tier, table: table, precision: precision, in: db)
    }

    /// Deletes the live cells of `tier` of `series` that start in `bucket`.
    static func deleteLiveCells(_ tier: StorageTier, series: Int64, of bucket: BucketInfo, in db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM \(tier.liveTable) WHERE series_id = ? AND start >= ? AND start < ?")
            .execute(arguments: [series, bucket.start, bucket.until])
    }

    /// Creates the bucket's packed table of `tier` (1 m or 1 h) and records it.
    static func createPacked(_ tier: StorageTier, bucket: inout BucketInfo, in db: Database) throws {
        try db.execute(sql: createPackedSQL(bucket.packedTable(tier)!))
        try db.execute(sql: "UPDATE buckets SET has_\(tier.rawValue) = 1 WHERE start = ?", arguments: [bucket.start])
        bucket.markPacked(tier)
    }

    /// Writes the packed row of `cells`, after checking that the block decodes to them.
    static func writePacked(
        _ cells: [RollupCell], series: Int64, bucket: BucketInfo, tier: StorageTier, table: String, precision: Int, in db: Database
    ) throws {
        let block = try SeriesCompaction.packed(cells, tier: tier, maxPrecision: precision, series: series, bucket: bucket)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(table) (series_id, cells, data) VALUES (?, ?, ?)")
            .execute(arguments: [series, cells.count, Data(block)])
    }
}
