import PostgresNIO
import ShennongCore

extension PostgresStore {
    /// Applies each tier's retention: whole buckets whose end is older than `now - retention`
    /// lose that tier's partitions (raw: `raw_X` and `blk_X`; 1 m / 1 h: `m1_X`, `h1_X`), each
    /// detached from its parent and dropped; live rollup rows that old are deleted. A bucket
    /// with no partition left is forgotten.
    ///
    /// With `dryRun` nothing changes and the report lists exactly what would go. A real run
    /// plans the same way, then drops each item in its own short write transaction, counting
    /// its rows there. Raw readings dropped move the raw horizon.
    @discardableResult
    public func retention(now: Int64? = nil, dryRun: Bool) throws -> RetentionReport {
        try RetentionPlan.run(
            options.retention, now: now ?? nowMillis(), dryRun: dryRun,
            plan: { cutoffs in try read { s in try Self.retentionPlan(cutoffs: cutoffs, in: s) } },
            apply: { item in try write { s in try Self.apply(item, in: s) } })
    }

    static func retentionPlan(cutoffs: [StorageTier: Int64], in s: PostgresSession) throws -> [RetentionItem] {
        try RetentionPlan.items(
            buckets: allBuckets(in: s), cutoffs: cutoffs, rows: { try rows(of: $0, $1, in: s) },
            liveRows: { try liveRows($0, before: $1, delete: false, in: s) })
    }

    /// The rows a bucket partition holds (``RetentionPlan/Rows``).
    static func rows(of table: String, _ kind: RetentionPlan.Rows, in s: PostgresSession) throws -> Int {
        let sql: String =
            switch kind {
            case .raw: "SELECT count(*)::int8 FROM \(table)"
            case .blocks: "SELECT coalesce(sum(count), 0)::int8 FROM \(table)"
            case .packedCells: "SELECT coalesce(sum(cells), 0)::int8 FROM \(table)"
            }
        return Int(try s.query(sql).first?.decode(Int64.self) ?? 0)
    }

    /// Counts (or deletes) live cells of `tier` that end at or before `cutoff`.
    static func liveRows(_ tier: StorageTier, before cutoff: Int64, delete: Bool, in s: PostgresSession) throws -> Int {
        let last = cutoff - tier.width  // cells starting at or before this end by the cutoff
        if delete {
            return try s.query("DELETE FROM \(tier.liveTable) WHERE start <= $1", bindings(last)).metadata.rows ?? 0
        }
        return Int(
            try s.query("SELECT count(*)::int8 FROM \(tier.liveTable) WHERE start <= $1", bindings(last)).first?
                .decode(Int64.self) ?? 0)
    }

    /// Drops what `planned` names, as it is now (``RetentionPlan/apply(_:deleteLiveRows:bucket:rows:drop:)``).
    static func apply(_ planned: RetentionItem, in s: PostgresSession) throws -> RetentionItem {
        try RetentionPlan.apply(
            planned, deleteLiveRows: { try liveRows($0, before: $1, delete: true, in: s) },
            bucket: { try bucket(start: $0, in: s) }, rows: { try rows(of: $0, $1, in: s) },
            drop: { bucket, item in try drop(item, of: bucket, in: s) })
    }

    /// Drops the partitions of `item` in `bucket` and clears the bucket's flags for them; a
    /// bucket with nothing left goes.
    private static func drop(_ item: RetentionItem, of bucket: BucketInfo, in s: PostgresSession) throws {
        let start = bucket.start
        switch item.tier {
        case .raw:
            if bucket.hasRaw { try dropPartition(bucket.rawTable, of: "raw", in: s) }
            if bucket.hasBlocks { try dropPartition(bucket.blockTable, of: "blk", in: s) }
            try s.query("UPDATE buckets SET has_raw = false, has_blocks = false WHERE start = $1", bindings(start))
            try s.query(
                """
                INSERT INTO store_meta (key, value) VALUES ('raw_horizon', $1)
                ON CONFLICT (key) DO UPDATE SET value = greatest(store_meta.value, excluded.value)
                """, bindings(bucket.until))
        case .minute, .hour:
            try dropPartition(bucket.packedTable(item.tier)!, of: packedParent(item.tier), in: s)
            try s.query("UPDATE buckets SET has_\(item.tier.rawValue) = false WHERE start = $1", bindings(start))
        case .day:
            break
        }
        try s.query(
            "DELETE FROM buckets WHERE start = $1 AND NOT (has_raw OR has_blocks OR has_1m OR has_1h)", bindings(start))
    }

    // MARK: Sizes

    /// Per bucket: state, readings (raw and compacted) and bytes of its partitions; oldest first.
    public func bucketStats(now: Int64? = nil) throws -> [BucketStats] {
        let now = now ?? nowMillis()
        let grace = options.compactionGrace
        return try read { s in
            try Self.allBuckets(in: s).map { b in
                let raw = b.hasRaw ? try Self.rows(of: b.rawTable, .raw, in: s) : 0
                let compacted = b.hasBlocks ? try Self.rows(of: b.blockTable, .blocks, in: s) : 0
                return BucketStats(
                    start: b.start, until: b.until, state: b.state(now: now, grace: grace),
                    rawReadings: raw, compactedReadings: compacted,
                    readingBytes: try Self.bytes(of: [b.rawTable, b.blockTable], in: s),
                    rollupBytes: try Self.bytes(of: [b.packedTable(.minute)!, b.packedTable(.hour)!], in: s))
            }
        }
    }

    /// Cells and bytes of each rollup tier.
    public func tierStats() throws -> [TierStats] {
        try read { s in
            let buckets = try Self.allBuckets(in: s)
            return try StorageTier.rollups.map { tier in
                let live = try s.query("SELECT count(*)::int8 FROM \(tier.liveTable)").first?.decode(Int64.self) ?? 0
                var packed: Int64 = 0
                var tables = [tier.liveTable]
                if tier != .day {
                    packed = try s.query("SELECT coalesce(sum(cells), 0)::int8 FROM \(Self.packedParent(tier))").first?
                        .decode(Int64.self) ?? 0
                    tables += buckets.filter { $0.hasPacked(tier) }.map { $0.packedTable(tier)! }
                }
                return TierStats(
                    tier: tier, liveCells: Int(live), packedCells: Int(packed), bytes: try Self.bytes(of: tables, in: s))
            }
        }
    }

    /// Bytes of the tables (with their indexes and TOAST) that exist among `tables`.
    static func bytes(of tables: [String], in s: PostgresSession) throws -> Int64 {
        try s.query(
            "SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::int8 FROM unnest($1::text[]) AS t",
            bindings(tables)
        ).first?.decode(Int64.self) ?? 0
    }
}
