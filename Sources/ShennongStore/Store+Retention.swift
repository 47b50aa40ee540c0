import ShennongCore
import Foundation
import GRDB


extension Store {
    /// Applies the retention of each tier: whole buckets whose end is older than
    /// `now - retention` lose that tier's tables (raw: `raw_X` and `blk_X`; 1 m / 1 h: the packed
    /// cells), and live rollup rows that old are deleted. A bucket with no table left is
    /// forgotten.
    ///
    /// With `dryRun` nothing changes and the report lists exactly what would go. A real run
    /// plans the same way, then drops each item in its own short write transaction (ingest
    /// goes on between them); its `rows` are counted inside that transaction. Raw readings
    /// dropped move the raw horizon: rollup cells older than it are no longer recomputed.
    /// `now` defaults to the current time.
    @discardableResult
    public func retention(now: Int64? = nil, dryRun: Bool) throws -> RetentionReport {
        let report = try RetentionPlan.run(
            options.retention, now: now ?? nowMillis(), dryRun: dryRun,
            plan: { cutoffs in try pool.read { db in try Self.retentionPlan(cutoffs: cutoffs, in: db) } },
            apply: { item in
                try pool.write { db in
                    // Inside the transaction: no ingest burst can hold the cache meanwhile.
                    invalidateIngestCache()
                    return try Self.apply(item, in: db)
                }
            })
        if !dryRun {
            // Cells computed from raw readings that are older than their tier keeps go too.
            let cutoffs = StorageTier.rollups.compactMap { tier in report.cutoffs[tier].map { (tier, $0) } }
            if !cutoffs.isEmpty {
                try pool.write { db in
                    for (tier, cutoff) in cutoffs { try Self.raiseHorizon(tier, to: cutoff, in: db) }
                }
            }
        }
        return report
    }

    static func retentionPlan(cutoffs: [StorageTier: Int64], in db: Database) throws -> [RetentionItem] {
        try RetentionPlan.items(
            buckets: allBuckets(in: db), cutoffs: cutoffs, rows: { try rows(of: $0, $1, in: db) },
            liveRows: { try liveRows($0, before: $1, delete: false, in: db) })
    }

    /// The rows a bucket table holds (``RetentionPlan/Rows``).
    static func rows(of table: String, _ kind: RetentionPlan.Rows, in db: Database) throws -> Int {
        let sql =
            switch kind {
            case .raw: "SELECT count(*) FROM \(table)"
            case .blocks: "SELECT coalesce(sum(count), 0) FROM \(table)"
            case .packedCells: "SELECT coalesce(sum(cells), 0) FROM \(table)"
            }
        return try Int.fetchOne(db, sql: sql) ?? 0
    }

    /// Counts (or deletes) live cells of `tier` that end at or before `cutoff`, series by
    /// series (each a range of the primary key, not a scan of the table).
    static func liveRows(_ tier: StorageTier, before cutoff: Int64, delete: Bool, in db: Database) throws -> Int {
        let last = cutoff - tier.width  // cells starting at or before this end by the cutoff
        let sql = delete
            ? "DELETE FROM \(tier.liveTable) WHERE series_id = ? AND start <= ?"
            : "SELECT count(*) FROM \(tier.liveTable) WHERE series_id = ? AND start <= ?"
        let statement = try db.makeStatement(sql: sql)
        var total = 0
        for series in try Int64.fetchAll(db, sql: "SELECT id FROM series ORDER BY id") {
            if delete {
                try statement.execute(arguments: [series, last])
                total += db.changesCount
            } else {
                total += try Int.fetchOne(statement, arguments: [series, last]) ?? 0
            }
        }
        return total
    }

    /// Drops what `planned` names, as it is now (``RetentionPlan/apply(_:deleteLiveRows:bucket:rows:drop:)``).
    static func apply(_ planned: RetentionItem, in db: Database) throws -> RetentionItem {
        try RetentionPlan.apply(
            planned,
            deleteLiveRows: { tier, until in
                let rows = try liveRows(tier, before: until, delete: true, in: db)
                try raiseHorizon(tier, to: until, in: db)
                return rows
            },
            bucket: { try bucket(start: $0, in: db) }, rows: { try rows(of: $0, $1, in: db) },
            drop: { bucket, item in try drop(item, of: bucket, in: db) })
    }

    /// Drops the tables of `item` in `bucket` and clears the bucket's flags for them; a bucket
    /// with nothing left goes.
    private static func drop(_ item: RetentionItem, of bucket: BucketInfo, in db: Database) throws {
        let start = bucket.start
        if item.tier == .raw {
            try packComputedBeforeDrop(bucket, in: db)
        }
        for table in item.tables { try db.execute(sql: "DROP TABLE IF EXISTS \(table)") }
        switch item.tier {
        case .raw:
            try db.execute(sql: "UPDATE buckets SET has_raw = 0, has_blocks = 0 WHERE start = ?", arguments: [start])
            try db.execute(
                sql: """
                    INSERT INTO store_meta (key, value) VALUES ('raw_horizon', ?1)
                    ON CONFLICT (key) DO UPDATE SET value = max(value, ?1)
                    """,
                arguments: [bucket.until])
        case .minute, .hour:
            try db.execute(sql: "UPDATE buckets SET has_\(item.tier.rawValue) = 0 WHERE start = ?", arguments: [start])
            try raiseHorizon(item.tier, to: bucket.until, in: db)
        case .day:
            break
        }
        try db.execute(
            sql: "DELETE FROM buckets WHERE start = ? AND has_raw = 0 AND has_blocks = 0 AND has_1m = 0 AND has_1h = 0",
            arguments: [start])
    }

    /// The cells computed from a raw table not yet compacted, packed (1 m, 1 h) or written
    /// (1 d) before retention drops it: they were computed from its readings
    /// (``cells(series:tier:from:to:in:)``) and outlive them, as each tier's retention says.
    static func packComputedBeforeDrop(_ bucket: BucketInfo, in db: Database) throws {
        guard bucket.hasRaw else { return }
        let horizons = try RollupHorizons(in: db)
        let width = bucket.until - bucket.start
        let computed = StorageTier.rollups.filter {
            !tierIsStored($0, ts: bucket.start, bucketWidth: width, rawHorizon: horizons.raw)
        }
        guard !computed.isEmpty else { return }
        var bucket = bucket
        for series in try Int64.fetchAll(db, sql: "SELECT DISTINCT series_id FROM \(bucket.rawTable) ORDER BY series_id") {
            var points: [Point] = []
            try appendRawPoints(series: series, of: bucket, from: .min, to: .max, into: &points, in: db)
            let precision = try precision(series: series, in: db)
            for tier in computed {
                try writeComputed(tier, series: series, points: points, bucket: &bucket, horizons: horizons, precision: precision, in: db)
            }
        }
    }

    /// Cells of `tier` ending at or before `until` are gone: they are not computed again from
    /// raw readings retention kept (``cells(series:tier:from:to:in:)``).
    static func raiseHorizon(_ tier: StorageTier, to until: Int64, in db: Database) throws {
        guard tier != .raw else { return }
        try db.execute(
            sql: """
                INSERT INTO store_meta (key, value) VALUES (?2, ?1)
                ON CONFLICT (key) DO UPDATE SET value = max(value, ?1)
                """,
            arguments: [until, horizonKey(tier)])
    }
}
