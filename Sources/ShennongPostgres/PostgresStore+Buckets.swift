import Foundation
import PostgresNIO
import ShennongCore

/// Buckets as partitions: creating them on demand, reopening compacted series for late
/// readings, and reading points and rollup cells across buckets.
///
/// Invariant (as on SQLite): for one series in one bucket, a reading is either in the raw
/// partition or in the compacted block, never both, and a 1 m / 1 h cell is either live
/// (`rollup_1m`, `rollup_1h`) or packed (`m1`, `h1`), never both.
extension PostgresStore {
    static let bucketColumns = "start, until, stamp, has_raw, has_blocks, has_1m, has_1h"

    static func bucketInfo(_ row: PostgresRow) throws -> BucketInfo {
        let (start, until, stamp, raw, blocks, minute, hour) = try row.decode(
            (Int64, Int64, String, Bool, Bool, Bool, Bool).self)
        return BucketInfo(
            start: start, until: until, stamp: stamp, hasRaw: raw, hasBlocks: blocks, hasMinute: minute, hasHour: hour)
    }

    static func buckets(starts: [Int64], in s: PostgresSession) throws -> [Int64: BucketInfo] {
        var result: [Int64: BucketInfo] = [:]
        for row in try s.query("SELECT \(bucketColumns) FROM buckets WHERE start = ANY($1)", bindings(starts)) {
            let info = try bucketInfo(row)
            result[info.start] = info
        }
        return result
    }

    static func allBuckets(in s: PostgresSession) throws -> [BucketInfo] {
        try s.query("SELECT \(bucketColumns) FROM buckets ORDER BY start").map(bucketInfo)
    }

    static func bucket(start: Int64, in s: PostgresSession) throws -> BucketInfo? {
        try buckets(starts: [start], in: s)[start]
    }

    /// The bucket starting at `start` with its raw partition created (and the bucket
    /// registered) if need be, inside the caller's write transaction.
    static func openBucket(start: Int64, known: BucketInfo?, layout: BucketLayout, in s: PostgresSession) throws
        -> BucketInfo
    {
        if let known, known.hasRaw { return known }
        let stamp = layout.stamp(of: start)
        let until = start + layout.width
        var info =
            known
            ?? BucketInfo(
                start: start, until: until, stamp: stamp, hasRaw: false, hasBlocks: false, hasMinute: false,
                hasHour: false)
        try s.execute("CREATE TABLE IF NOT EXISTS \(info.rawTable) PARTITION OF raw FOR VALUES FROM (\(start)) TO (\(until))")
        try s.query(
            """
            INSERT INTO buckets (start, until, stamp, has_raw) VALUES ($1, $2, $3, true)
            ON CONFLICT (start) DO UPDATE SET has_raw = true
            """, bindings(start, until, stamp))
        info.hasRaw = true
        return info
    }

    /// Creates the partition of `parent` (`blk`, `m1`, `h1`) for `bucket` and sets its flag.
    static func createPartition(_ parent: String, flag: String, table: String, bucket: BucketInfo, in s: PostgresSession)
        throws
    {
        try s.execute(
            "CREATE TABLE IF NOT EXISTS \(table) PARTITION OF \(parent) FOR VALUES FROM (\(bucket.start)) TO (\(bucket.until))")
        try s.query("UPDATE buckets SET \(flag) = true WHERE start = $1", bindings(bucket.start))
    }

    /// Detaches the partition `table` from `parent` and drops it.
    static func dropPartition(_ table: String, of parent: String, in s: PostgresSession) throws {
        let exists = try s.query("SELECT to_regclass($1) IS NOT NULL", bindings(table)).first?.decode(Bool.self) ?? false
        guard exists else { return }
        try s.execute("ALTER TABLE \(parent) DETACH PARTITION \(table)")
        try s.execute("DROP TABLE \(table)")
    }

    /// Moves what is compacted of `series` in `bucket` back into live tables: the block's
    /// points into the raw partition, packed cells into the live rollup tables. A late
    /// reading then inserts (or is a duplicate) exactly as in an open bucket.
    static func reopen(series: Int64, bucket: BucketInfo, in s: PostgresSession) throws {
        if bucket.hasBlocks,
            let data = try s.query(
                "DELETE FROM blk WHERE series_id = $1 AND bucket = $2 RETURNING data", bindings(series, bucket.start)
            ).first?.decode(ByteBuffer.self).bytes
        {
            let points = try BlockCodec.decodePoints(data)
            try s.query(
                """
                INSERT INTO raw (series_id, ts, value)
                SELECT $1, t, v FROM unnest($2::int8[], $3::float8[]) AS p(t, v) ON CONFLICT DO NOTHING
                """, bindings(series, points.map(\.ts), points.map(\.value)))
        }
        for tier in [StorageTier.minute, .hour] where bucket.hasPacked(tier) {
            guard
                let data = try s.query(
                    "DELETE FROM \(packedParent(tier)) WHERE series_id = $1 AND bucket = $2 RETURNING data",
                    bindings(series, bucket.start)
                ).first?.decode(ByteBuffer.self).bytes
            else { continue }
            let cells = try BlockCodec.decodeCells(data, origin: bucket.start, width: tier.width)
            try upsertCells([(series, cells)], tier: tier, in: s)
        }
    }

    /// The parent table of packed cells of a tier (`m1`, `h1`).
    static func packedParent(_ tier: StorageTier) -> String {
        tier == .minute ? "m1" : "h1"
    }

    // MARK: Rollup cells

    static let cellColumns = #"start, count, "min", "max", "sum", first, last, first_ts, last_ts"#

    static func cell(_ row: PostgresRow, from offset: Int = 0) throws -> RollupCell {
        let r = row.makeRandomAccess()
        return RollupCell(
            start: try r[offset].decode(Int64.self), count: Int(try r[offset + 1].decode(Int64.self)),
            min: try r[offset + 2].decode(Double.self), max: try r[offset + 3].decode(Double.self),
            sum: try r[offset + 4].decode(Double.self), first: try r[offset + 5].decode(Double.self),
            last: try r[offset + 6].decode(Double.self), firstTs: try r[offset + 7].decode(Int64.self),
            lastTs: try r[offset + 8].decode(Int64.self))
    }

    /// Writes cells (inserted, or replacing the cell of the same start) into the live table
    /// of `tier`: one statement for all.
    static func upsertCells(_ cells: [(series: Int64, cells: [RollupCell])], tier: StorageTier, in s: PostgresSession)
        throws
    {
        let columns = CellColumns(cells)
        guard !columns.series.isEmpty else { return }
        try s.query(upsertCellsSQL(tier, from: 1), columns.bindings())
    }

    /// `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` of cells into `tier`'s live
    /// table, its ten arrays bound at `$from…$from+9`.
    static func upsertCellsSQL(_ tier: StorageTier, from p: Int) -> String {
        """
        INSERT INTO \(tier.liveTable) (series_id, \(cellColumns))
        SELECT * FROM unnest($\(p)::int8[], $\(p + 1)::int8[], $\(p + 2)::int8[], $\(p + 3)::float8[],
            $\(p + 4)::float8[], $\(p + 5)::float8[], $\(p + 6)::float8[], $\(p + 7)::float8[], $\(p + 8)::int8[],
            $\(p + 9)::int8[])
        ON CONFLICT (series_id, start) DO UPDATE SET count = excluded.count, "min" = excluded."min",
            "max" = excluded."max", "sum" = excluded."sum", first = excluded.first, last = excluded.last,
            first_ts = excluded.first_ts, last_ts = excluded.last_ts
        """
    }

    /// Cells as the ten column arrays of ``upsertCellsSQL(_:from:)``.
    struct CellColumns {
        var series: [Int64] = []
        var start: [Int64] = []
        var count: [Int64] = []
        var min: [Double] = []
        var max: [Double] = []
        var sum: [Double] = []
        var first: [Double] = []
        var last: [Double] = []
        var firstTs: [Int64] = []
        var lastTs: [Int64] = []

        init() {}

        init(_ groups: [(series: Int64, cells: [RollupCell])]) {
            for (series, cells) in groups {
                for c in cells { append(series, c) }
            }
        }

        mutating func append(_ s: Int64, _ c: RollupCell) {
            series.append(s)
            start.append(c.start)
            count.append(Int64(c.count))
            min.append(c.min)
            max.append(c.max)
            sum.append(c.sum)
            first.append(c.first)
            last.append(c.last)
            firstTs.append(c.firstTs)
            lastTs.append(c.lastTs)
        }

        func append(to binds: inout PostgresBindings) {
            binds.appendColumn(series)
            binds.appendColumn(start)
            binds.appendColumn(count)
            binds.appendColumn(min)
            binds.appendColumn(max)
            binds.appendColumn(sum)
            binds.appendColumn(first)
            binds.appendColumn(last)
            binds.appendColumn(firstTs)
            binds.appendColumn(lastTs)
        }

        func bindings() -> PostgresBindings {
            var binds = PostgresBindings(capacity: 10)
            append(to: &binds)
            return binds
        }
    }

    // MARK: Reading across buckets

    /// Points of `series` with `from <= ts < to`, ascending, at most `limit`: compacted blocks
    /// decoded and merged with raw rows (partition pruning picks the buckets).
    func points(series: Int64, from: Int64, to: Int64, limit: Int = .max, in s: PostgresSession) throws -> [Point] {
        guard from < to, limit > 0 else { return [] }
        var compacted: [Point] = []
        for row in try s.query(
            """
            SELECT data FROM blk WHERE series_id = $1 AND bucket > $2 AND bucket < $3 AND last_ts >= $4 AND first_ts < $3
            ORDER BY bucket
            """, bindings(series, Self.before(from, layout.width), to, from))
        {
            compacted += try BlockCodec.decodePoints(row.decode(ByteBuffer.self).bytes).filter { $0.ts >= from && $0.ts < to }
        }
        var raw: [Point] = []
        let limitSQL = limit == .max ? "" : " LIMIT \(limit)"
        for row in try s.query(
            "SELECT ts, value FROM raw WHERE series_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts\(limitSQL)",
            bindings(series, from, to))
        {
            let (ts, value) = try row.decode((Int64, Double).self)
            raw.append(Point(ts: ts, value: value))
        }
        var result = Point.merged(compacted, raw)
        if result.count > limit { result.removeSubrange(limit...) }
        return result
    }

    /// The points of several ranges (as ``points(series:from:to:limit:in:)`` gives each) in two
    /// queries: the compacted blocks, then the raw rows, of all ranges.
    func points(_ ranges: [(series: Int64, from: Int64, to: Int64)], in s: PostgresSession) throws -> [[Point]] {
        guard !ranges.isEmpty else { return [] }
        var binds = PostgresBindings(capacity: 4)
        binds.appendColumn(ranges.map(\.series))
        binds.appendColumn(ranges.map(\.from))
        binds.appendColumn(ranges.map(\.to))
        binds.appendColumn(ranges.map { Self.before($0.from, layout.width) })
        var compacted = [[Point]](repeating: [], count: ranges.count)
        // OFFSET 0 keeps each range's lookup an index scan of its own (never a join over whole tables).
        for row in try s.query(
            """
            SELECT k.i, b.data FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[]) WITH ORDINALITY AS k(series, f, t, b, i)
            CROSS JOIN LATERAL (
                SELECT bucket, data FROM blk WHERE series_id = k.series AND bucket > k.b AND bucket < k.t AND last_ts >= k.f
                    AND first_ts < k.t OFFSET 0) b
            ORDER BY k.i, b.bucket
            """, binds)
        {
            let (i, data) = try row.decode((Int64, ByteBuffer).self)
            let range = ranges[Int(i) - 1]
            compacted[Int(i) - 1] += try BlockCodec.decodePoints(data.bytes).filter { $0.ts >= range.from && $0.ts < range.to }
        }
        var raw = [[Point]](repeating: [], count: ranges.count)
        for row in try s.query(
            """
            SELECT k.i, r.ts, r.value FROM unnest($1::int8[], $2::int8[], $3::int8[]) WITH ORDINALITY AS k(series, f, t, i)
            CROSS JOIN LATERAL (SELECT ts, value FROM raw WHERE series_id = k.series AND ts >= k.f AND ts < k.t OFFSET 0) r
            ORDER BY k.i, r.ts
            """, binds)
        {
            let (i, ts, value) = try row.decode((Int64, Int64, Double).self)
            raw[Int(i) - 1].append(Point(ts: ts, value: value))
        }
        return ranges.indices.map { Point.merged(compacted[$0], raw[$0]) }
    }

    /// `t - width`, or `Int64.min` where that would overflow (a range from the beginning of time).
    static func before(_ t: Int64, _ width: Int64) -> Int64 {
        t >= Int64.min + width ? t - width : .min
    }

    /// Rollup cells of `series` in `tier` whose start is in `[from, to)`, ascending: live rows
    /// merged with the packed cells of the buckets in range.
    func cells(series: Int64, tier: StorageTier, from: Int64, to: Int64, in s: PostgresSession) throws -> [RollupCell] {
        guard from < to else { return [] }
        let live = try s.query(
            "SELECT \(Self.cellColumns) FROM \(tier.liveTable) WHERE series_id = $1 AND start >= $2 AND start < $3 ORDER BY start",
            bindings(series, from, to)
        ).map { try Self.cell($0) }
        guard tier == .minute || tier == .hour else { return live }
        var packed: [RollupCell] = []
        for row in try s.query(
            "SELECT bucket, data FROM \(Self.packedParent(tier)) WHERE series_id = $1 AND bucket > $2 AND bucket < $3 ORDER BY bucket",
            bindings(series, Self.before(from, layout.width), to))
        {
            let (bucket, data) = try row.decode((Int64, ByteBuffer).self)
            packed += try BlockCodec.decodeCells(data.bytes, origin: bucket, width: tier.width)
                .filter { $0.start >= from && $0.start < to }
        }
        // Disjoint by the invariant; on a shared start the live cell (newer) wins.
        return RollupCell.merged(packed, live)
    }
}
