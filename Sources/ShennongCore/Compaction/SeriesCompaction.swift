/// What compaction writes for one series in one bucket, worked out without I/O.
///
/// Both engines read the inputs (the raw readings, the block and packed cells already
/// there, the live cells), call these, and write what they return: one block row a series
/// (its summary and encoded points) and one packed row a series and tier. Every block is
/// decoded and compared with its input, bit for bit, before the engine may drop the rows it
/// came from.
package enum SeriesCompaction {
    /// A block row: the summary columns (count, min, max, sum, first, last and the times of
    /// the first and last reading; `start` is the bucket's) and the encoded points.
    package struct Block: Sendable, Hashable {
        package var summary: RollupCell
        package var data: [UInt8]
    }

    /// Decimal digits the values of `metric` are declared with (6 for a metric outside the
    /// catalogue); blocks use the smallest precision up to this that is lossless.
    package static func precision(metric: String?) -> Int {
        metric.flatMap { MetricCatalogue.metric(named: $0)?.precision } ?? 6
    }

    /// The block row of `points` (every reading of `series` in `bucket`, ascending), or `nil`
    /// when there are none. Throws `corrupt` when the block does not decode to `points`.
    package static func block(of points: [Point], maxPrecision: Int, series: Int64, bucket: BucketInfo) throws -> Block? {
        guard var summary = RollupCell.cells(of: points, width: .max).first else { return nil }
        summary.start = bucket.start
        let data = BlockCodec.encode(points: points, maxPrecision: maxPrecision)
        guard try BlockCodec.decodePoints(data).elementsEqual(points, by: { $0.isIdentical(to: $1) }) else {
            throw StoreError(.corrupt, "block of series \(series) in \(bucket.stamp) does not decode to its input")
        }
        return Block(summary: summary, data: data)
    }

    /// The packed row of `cells` (of `series` in `tier`, ascending, all in `bucket`). Throws
    /// `corrupt` when it does not decode to `cells`.
    package static func packed(
        _ cells: [RollupCell], tier: StorageTier, maxPrecision: Int, series: Int64, bucket: BucketInfo
    ) throws -> [UInt8] {
        let data = BlockCodec.encode(cells: cells, origin: bucket.start, width: tier.width, maxPrecision: maxPrecision)
        guard
            try BlockCodec.decodeCells(data, origin: bucket.start, width: tier.width)
                .elementsEqual(cells, by: { $0.isIdentical(to: $1) })
        else {
            throw StoreError(
                .corrupt, "\(tier.rawValue) cells of series \(series) in \(bucket.stamp) do not decode to their input")
        }
        return data
    }
}

extension Point {
    /// The same timestamp and the same value bit pattern (`-0.0` is not `0.0`, a NaN equals itself).
    package func isIdentical(to other: Point) -> Bool {
        ts == other.ts && value.bitPattern == other.value.bitPattern
    }

    /// The union of two ascending point lists (disjoint by the bucket invariant; on a shared
    /// timestamp the first list wins, as the earlier-stored reading does).
    package static func merged(_ a: [Point], _ b: [Point]) -> [Point] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var result: [Point] = []
        result.reserveCapacity(a.count + b.count)
        merge(a, b, into: &result)
        return result
    }

    /// Appends ``merged(_:_:)`` of `a` and `b` to `result`.
    package static func merge(_ a: [Point], _ b: [Point], into result: inout [Point]) {
        if a.isEmpty { result.append(contentsOf: b); return }
        if b.isEmpty { result.append(contentsOf: a); return }
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].ts <= b[j].ts) {
                if j < b.count && a[i].ts == b[j].ts { j += 1 }
                result.append(a[i])
                i += 1
            } else {
                result.append(b[j])
                j += 1
            }
        }
    }
}

extension RollupCell {
    /// Every field the same, the values by bit pattern.
    package func isIdentical(to other: RollupCell) -> Bool {
        start == other.start && count == other.count && firstTs == other.firstTs && lastTs == other.lastTs
            && min.bitPattern == other.min.bitPattern && max.bitPattern == other.max.bitPattern
            && sum.bitPattern == other.sum.bitPattern && first.bitPattern == other.first.bitPattern
            && last.bitPattern == other.last.bitPattern
    }

    /// The cells of `older` and `newer` (each of one series, ascending), ascending by start;
    /// on a shared start the newer cell wins (a live cell over a packed one).
    package static func merged(_ older: [RollupCell], _ newer: [RollupCell]) -> [RollupCell] {
        if older.isEmpty { return newer }
        if newer.isEmpty { return older }
        var byStart = Dictionary(older.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
        for c in newer { byStart[c.start] = c }
        return byStart.values.sorted { $0.start < $1.start }
    }
}
