import PostgresNIO
import ShennongCore

extension PostgresStore {
    /// One compaction transaction: series of the oldest closed bucket with a raw partition,
    /// about `options.compactionBatchRows` readings. Per series it writes one block row
    /// (the same codec and summary as SQLite) and packs the bucket's 1 m and 1 h cells; each
    /// block is decoded and compared with its input before the raw rows go. When the raw
    /// partition is empty it is detached and dropped. `transactions == 0`: nothing to do.
    public func compactBatch(now: Int64? = nil) throws -> CompactionReport {
        let report = try compactOneBatch(now: now)
        guard report.transactions == 0 else { return report }
        // Then closed buckets no seal covers yet (compacted before seals, or without the key).
        var sealed = CompactionReport()
        if let sealer = options.sealer, try sealNextPending(with: sealer.sealing, now: now) != nil { sealed.transactions = 1 }
        return sealed
    }

    private func compactOneBatch(now: Int64?) throws -> CompactionReport {
        let now = now ?? nowMillis()
        let budget = options.compactionBatchRows
        let grace = options.compactionGrace
        return try write { s in
            var report = CompactionReport()
            guard
                var bucket = try s.query(
                    "SELECT \(Self.bucketColumns) FROM buckets WHERE has_raw AND until <= $1 ORDER BY start LIMIT 1",
                    bindings(now - grace)
                ).first.map(Self.bucketInfo)
            else { return report }
            report.transactions = 1
            // The series of the bucket, oldest id first, up to the budget (at least one).
            var chosen: [Int64] = []
            var rows = 0
            for row in try s.query(
                "SELECT series_id, count(*)::int8 FROM \(bucket.rawTable) GROUP BY series_id ORDER BY series_id")
            {
                guard rows < budget else { break }
                let (series, count) = try row.decode((Int64, Int64).self)
                chosen.append(series)
                rows += Int(count)
            }
            if !chosen.isEmpty {
                report.readings = try compact(series: chosen, bucket: &bucket, in: s)
                report.series = chosen.count
            }
            let left = try s.query("SELECT 1 FROM \(bucket.rawTable) LIMIT 1").count
            if left == 0 {
                try Self.dropPartition(bucket.rawTable, of: "raw", in: s)
                try s.query(
                    "UPDATE buckets SET has_raw = false, compacted_at = $1 WHERE start = $2", bindings(now, bucket.start))
                report.buckets = 1
                // The bucket is closed: seal its blocks in this same transaction (上链).
                if let sealer = options.sealer { try Self.sealBucket(bucket, sealer: sealer.sealing, now: now, in: s) }
            }
            return report
        }
    }

    /// Moves the raw rows of `series` in `bucket` (merged with existing blocks) into blocks,
    /// and packs their live 1 m / 1 h cells of the bucket. Returns the raw rows moved.
    private func compact(series: [Int64], bucket: inout BucketInfo, in s: PostgresSession) throws -> Int {
        var raw: [Int64: [Point]] = [:]
        var moved = 0
        for row in try s.query(
            "SELECT series_id, ts, value FROM \(bucket.rawTable) WHERE series_id = ANY($1) ORDER BY series_id, ts",
            bindings(series))
        {
            let (id, ts, value) = try row.decode((Int64, Int64, Double).self)
            raw[id, default: []].append(Point(ts: ts, value: value))
            moved += 1
        }
        var precision: [Int64: Int] = [:]
        for row in try s.query("SELECT id, metric FROM series WHERE id = ANY($1)", bindings(series)) {
            let (id, metric) = try row.decode((Int64, String).self)
            precision[id] = SeriesCompaction.precision(metric: metric)
        }
        var blocks: [Int64: [Point]] = [:]
        if bucket.hasBlocks {
            for row in try s.query(
                "SELECT series_id, data FROM blk WHERE bucket = $1 AND series_id = ANY($2)", bindings(bucket.start, series))
            {
                let (id, data) = try row.decode((Int64, ByteBuffer).self)
                blocks[id] = try BlockCodec.decodePoints(data.bytes)
            }
        } else {
            try Self.createPartition("blk", flag: "has_blocks", table: bucket.blockTable, bucket: bucket, in: s)
            bucket.hasBlocks = true
        }
        // Block rows as column arrays: the summaries as cells (their start is the bucket's), then the data.
        var summaries = CellColumns()
        var datas: [ByteBuffer] = []
        for id in series {
            let points = Point.merged(blocks[id] ?? [], raw[id] ?? [])
            guard
                let block = try SeriesCompaction.block(
                    of: points, maxPrecision: precision[id] ?? 6, series: id, bucket: bucket)
            else { continue }
            summaries.append(id, block.summary)
            datas.append(ByteBuffer(bytes: block.data))
        }
        if !summaries.series.isEmpty {
            var binds = PostgresBindings(capacity: 11)
            summaries.append(to: &binds)
            binds.append(datas)
            try s.query(
                """
                INSERT INTO blk (series_id, bucket, count, "min", "max", "sum", first, last, first_ts, last_ts, data)
                SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::float8[], $5::float8[], $6::float8[],
                    $7::float8[], $8::float8[], $9::int8[], $10::int8[], $11::bytea[])
                ON CONFLICT (series_id, bucket) DO UPDATE SET count = excluded.count, "min" = excluded."min",
                    "max" = excluded."max", "sum" = excluded."sum", first = excluded.first, last = excluded.last,
                    first_ts = excluded.first_ts, last_ts = excluded.last_ts, data = excluded.data
                """, binds)
        }
        try s.query("DELETE FROM \(bucket.rawTable) WHERE series_id = ANY($1)", bindings(series))

        for tier in [StorageTier.minute, .hour] {
            var live: [Int64: [RollupCell]] = [:]
            for row in try s.query(
                """
                SELECT series_id, \(Self.cellColumns) FROM \(tier.liveTable)
                WHERE series_id = ANY($1) AND start >= $2 AND start < $3 ORDER BY series_id, start
                """, bindings(series, bucket.start, bucket.until))
            {
                let id = try row.makeRandomAccess()[0].decode(Int64.self)
                live[id, default: []].append(try Self.cell(row, from: 1))
            }
            guard !live.isEmpty else { continue }
            let parent = Self.packedParent(tier)
            var packed: [Int64: [RollupCell]] = [:]
            if bucket.hasPacked(tier) {
                for row in try s.query(
                    "SELECT series_id, data FROM \(parent) WHERE bucket = $1 AND series_id = ANY($2)",
                    bindings(bucket.start, Array(live.keys)))
                {
                    let (id, data) = try row.decode((Int64, ByteBuffer).self)
                    packed[id] = try BlockCodec.decodeCells(data.bytes, origin: bucket.start, width: tier.width)
                }
            } else {
                try Self.createPartition(
                    parent, flag: "has_\(tier.rawValue)", table: bucket.packedTable(tier)!, bucket: bucket, in: s)
                bucket.markPacked(tier)
            }
            var ids: [Int64] = []
            var counts: [Int64] = []
            var datas: [ByteBuffer] = []
            for (id, cellsLive) in live.sorted(by: { $0.key < $1.key }) {
                let cells = RollupCell.merged(packed[id] ?? [], cellsLive)
                let block = try SeriesCompaction.packed(
                    cells, tier: tier, maxPrecision: precision[id] ?? 6, series: id, bucket: bucket)
                ids.append(id)
                counts.append(Int64(cells.count))
                datas.append(ByteBuffer(bytes: block))
            }
            try s.query(
                """
                INSERT INTO \(parent) (series_id, bucket, cells, data)
                SELECT k.series_id, $1, k.cells, k.data FROM unnest($2::int8[], $3::int8[], $4::bytea[]) AS k(series_id, cells, data)
                ON CONFLICT (series_id, bucket) DO UPDATE SET cells = excluded.cells, data = excluded.data
                """, bindings(bucket.start, ids, counts, datas))
            try s.query(
                "DELETE FROM \(tier.liveTable) WHERE series_id = ANY($1) AND start >= $2 AND start < $3",
                bindings(ids, bucket.start, bucket.until))
        }
        return moved
    }
}
