/// What retention drops, worked out once for both engines: the engine lists its buckets and
/// counts rows (its I/O); which tables of which buckets go, per tier, is decided here.
package enum RetentionPlan {
    /// The rows a bucket table holds, as an engine counts them.
    package enum Rows: Sendable, Hashable {
        /// Raw readings: one a row.
        case raw
        /// Compacted readings: the `count` column of each block row.
        case blocks
        /// Packed rollup cells: the `cells` column of each packed row.
        case packedCells
    }

    /// Per tier with a retention: data ending at or before this time goes (`now - retention`).
    package static func cutoffs(_ retention: StoreOptions.Retention, now: Int64) -> [StorageTier: Int64] {
        Dictionary(uniqueKeysWithValues: StorageTier.allCases.compactMap { tier in retention[tier].map { (tier, now - $0) } })
    }

    /// A retention run at `now`: the items of `plan(cutoffs)`, listed as they are with
    /// `dryRun`, else each dropped by `apply` (an engine's short write transaction, which
    /// counts its rows as they are then).
    package static func run(
        _ retention: StoreOptions.Retention, now: Int64, dryRun: Bool,
        plan: (_ cutoffs: [StorageTier: Int64]) throws -> [RetentionItem], apply: (RetentionItem) throws -> RetentionItem
    ) throws -> RetentionReport {
        let cutoffs = cutoffs(retention, now: now)
        let items = try plan(cutoffs)
        guard !dryRun else { return RetentionReport(dryRun: true, now: now, cutoffs: cutoffs, items: items) }
        return RetentionReport(dryRun: false, now: now, cutoffs: cutoffs, items: try items.map(apply))
    }

    /// Drops what `planned` names as it is now (a late reading may have reopened its bucket
    /// since the plan): live rollup rows are counted and deleted by `deleteLiveRows`; a
    /// bucket is read again (`bucket`), its item worked out anew (``item(_:_:rows:)``), and
    /// dropped by `drop`. A bucket gone by then (or with nothing of the tier left) drops
    /// nothing. What differs between engines is only the I/O in the closures.
    package static func apply(
        _ planned: RetentionItem, deleteLiveRows: (_ tier: StorageTier, _ until: Int64) throws -> Int,
        bucket: (_ start: Int64) throws -> BucketInfo?, rows: (_ table: String, _ kind: Rows) throws -> Int,
        drop: (_ bucket: BucketInfo, _ item: RetentionItem) throws -> Void
    ) throws -> RetentionItem {
        guard let start = planned.bucketStart else {
            var item = planned
            item.rows = try deleteLiveRows(planned.tier, planned.until)
            return item
        }
        guard let bucket = try bucket(start), var item = try item(planned.tier, bucket, rows: rows) else {
            var gone = planned
            gone.tables = []
            gone.rows = 0
            return gone
        }
        try drop(bucket, item)
        item.until = planned.until
        return item
    }

    /// Every item retention drops at `cutoffs`, tier by tier: the tier's tables of each
    /// bucket ending by the cutoff (``item(_:_:rows:)``), then the tier's live rollup rows
    /// ending by it (`liveRows(tier, cutoff)`, when there are any).
    package static func items(
        buckets: [BucketInfo], cutoffs: [StorageTier: Int64], rows: (_ table: String, _ kind: Rows) throws -> Int,
        liveRows: (_ tier: StorageTier, _ cutoff: Int64) throws -> Int
    ) throws -> [RetentionItem] {
        var items: [RetentionItem] = []
        for tier in StorageTier.allCases {
            guard let cutoff = cutoffs[tier] else { continue }
            for bucket in buckets where bucket.until <= cutoff {
                if let item = try item(tier, bucket, rows: rows) { items.append(item) }
            }
            if tier != .raw {
                let count = try liveRows(tier, cutoff)
                if count > 0 {
                    items.append(RetentionItem(tier: tier, bucketStart: nil, until: cutoff, tables: [tier.liveTable], rows: count))
                }
            }
        }
        return items
    }

    /// The tables of `tier` in `bucket` and their rows (counted by `rows`), or `nil` if it
    /// has none: raw and block tables for the raw tier, the packed table for 1 m and 1 h; the
    /// 1 d tier has no bucket tables.
    package static func item(_ tier: StorageTier, _ bucket: BucketInfo, rows: (_ table: String, _ kind: Rows) throws -> Int)
        throws -> RetentionItem?
    {
        var tables: [String] = []
        var count = 0
        switch tier {
        case .raw:
            if bucket.hasRaw {
                tables.append(bucket.rawTable)
                count += try rows(bucket.rawTable, .raw)
            }
            if bucket.hasBlocks {
                tables.append(bucket.blockTable)
                count += try rows(bucket.blockTable, .blocks)
            }
        case .minute, .hour:
            guard bucket.hasPacked(tier), let table = bucket.packedTable(tier) else { return nil }
            tables.append(table)
            count += try rows(table, .packedCells)
        case .day:
            return nil
        }
        guard !tables.isEmpty else { return nil }
        return RetentionItem(tier: tier, bucketStart: bucket.start, until: bucket.until, tables: tables, rows: count)
    }
}
