import ShennongCore
import Testing

/// The steps both storage engines share, as values: what compaction writes for a series,
/// how points and cells merge, what retention drops, a bucket's state, and how readings,
/// aggregates and rollups are read from series, points and cells.
struct StoragePlanTests {
    static let hour = StorageTier.hour.width
    static let minute = StorageTier.minute.width

    static func bucket(
        _ start: Int64, raw: Bool = false, blocks: Bool = false, minute: Bool = false, hour: Bool = false
    ) -> BucketInfo {
        BucketInfo(
            start: start, until: start + 86_400_000, stamp: "b\(start)", hasRaw: raw, hasBlocks: blocks, hasMinute: minute,
            hasHour: hour)
    }

    // MARK: Merging

    @Test("points merge in time order; on a shared timestamp the first list wins; an empty side gives the other")
    func pointsMerge() {
        let a = [Point(ts: 1, value: 1), Point(ts: 3, value: 3), Point(ts: 5, value: 5)]
        let b = [Point(ts: 2, value: 20), Point(ts: 3, value: 30), Point(ts: 6, value: 60)]
        #expect(Point.merged(a, b).map(\.ts) == [1, 2, 3, 5, 6])
        #expect(Point.merged(a, b).first { $0.ts == 3 }?.value == 3)
        #expect(Point.merged([], b) == b && Point.merged(a, []) == a)
        var out = [Point(ts: 0, value: 0)]
        Point.merge(a, b, into: &out)
        #expect(out.map(\.ts) == [0, 1, 2, 3, 5, 6])
    }

    @Test("cells merge by start, ascending; a newer cell replaces an older one of the same start")
    func cellsMerge() {
        let older = [RollupCell(start: 0, ts: 0, value: 1), RollupCell(start: 120, ts: 130, value: 2)]
        let newer = [RollupCell(start: 60, ts: 61, value: 3), RollupCell(start: 120, ts: 121, value: 4)]
        let merged = RollupCell.merged(older, newer)
        #expect(merged.map(\.start) == [0, 60, 120])
        #expect(merged[2].first == 4)
        #expect(RollupCell.merged([], newer) == newer && RollupCell.merged(older, []) == older)
    }

    @Test("identical means the same bits: -0.0 is not 0.0, NaN is itself")
    func identity() {
        #expect(!Point(ts: 1, value: -0.0).isIdentical(to: Point(ts: 1, value: 0.0)))
        #expect(Point(ts: 1, value: .nan).isIdentical(to: Point(ts: 1, value: .nan)))
        var cell = RollupCell(start: 0, ts: 1, value: 2)
        let before = cell
        #expect(cell.isIdentical(to: before))
        cell.lastTs = 2
        #expect(!cell.isIdentical(to: before))
        cell = before
        cell.min = -0.0
        #expect(!cell.isIdentical(to: before))
    }

    // MARK: Compaction

    @Test("a block row: the summary of the points with the bucket's start, its data decoding to them; none without points")
    func block() throws {
        let bucket = Self.bucket(86_400_000)
        let points = [Point(ts: 86_400_500, value: 7.25), Point(ts: 86_401_000, value: 7.5), Point(ts: 86_402_000, value: 7.0)]
        let block = try #require(try SeriesCompaction.block(of: points, maxPrecision: 2, series: 1, bucket: bucket))
        #expect(block.summary.start == bucket.start)
        #expect(block.summary.count == 3 && block.summary.min == 7.0 && block.summary.max == 7.5 && block.summary.sum == 21.75)
        #expect(block.summary.first == 7.25 && block.summary.last == 7.0)
        #expect(block.summary.firstTs == 86_400_500 && block.summary.lastTs == 86_402_000)
        #expect(try BlockCodec.decodePoints(block.data) == points)
        #expect(try SeriesCompaction.block(of: [], maxPrecision: 2, series: 1, bucket: bucket) == nil)
    }

    @Test("a packed row decodes to its cells; precision is the metric's, 6 outside the catalogue")
    func packed() throws {
        let bucket = Self.bucket(0)
        let cells = RollupCell.cells(
            of: [Point(ts: 10, value: 1.5), Point(ts: 70_000, value: 2.5), Point(ts: 80_000, value: 3)], width: Self.minute)
        let data = try SeriesCompaction.packed(cells, tier: .minute, maxPrecision: 2, series: 1, bucket: bucket)
        #expect(try BlockCodec.decodeCells(data, origin: 0, width: Self.minute) == cells)
        #expect(SeriesCompaction.precision(metric: "ph") == 2)
        #expect(SeriesCompaction.precision(metric: "no_such_metric") == 6)
        #expect(SeriesCompaction.precision(metric: nil) == 6)
    }

    // MARK: Buckets and retention

    @Test("a bucket's state: open within the grace, then closed, compacted, reopened or retired")
    func bucketState() {
        let b = Self.bucket(0, raw: true)
        #expect(b.state(now: b.until + 10, grace: 100) == .open)
        #expect(b.state(now: b.until + 100, grace: 100) == .closed)
        #expect(Self.bucket(0, blocks: true).state(now: 0, grace: 0) == .compacted)
        #expect(Self.bucket(0, raw: true, blocks: true).state(now: 0, grace: 0) == .reopened)
        #expect(Self.bucket(0, minute: true).state(now: 0, grace: 0) == .retired)
        #expect(b.sealState == SealedBucketState(start: 0, until: 86_400_000, hasBlocks: false, hasRaw: true))
    }

    @Test("retention: per tier, the tables of buckets ending by the cutoff and live rows when there are any")
    func retention() throws {
        var keep = StoreOptions.Retention()
        keep.raw = 2 * 86_400_000
        keep.minute = 3 * 86_400_000
        keep.hour = nil
        keep.day = 86_400_000
        let now: Int64 = 5 * 86_400_000
        let cutoffs = RetentionPlan.cutoffs(keep, now: now)
        let day: Int64 = 86_400_000
        let expected: [StorageTier: Int64] = [.raw: 3 * day, .minute: 2 * day, .day: 4 * day]
        #expect(cutoffs == expected)

        let buckets = [
            Self.bucket(0, blocks: true, minute: true, hour: true),  // ends day 1
            Self.bucket(86_400_000, raw: true, blocks: true, hour: true),  // ends day 2
            Self.bucket(2 * 86_400_000, raw: true),  // ends day 3
            Self.bucket(3 * 86_400_000, raw: true),  // ends day 4: kept
        ]
        var counted: [String] = []
        let items = try RetentionPlan.items(
            buckets: buckets, cutoffs: cutoffs,
            rows: { table, kind in
                counted.append(table)
                return kind == .raw ? 10 : kind == .blocks ? 100 : 1000
            },
            liveRows: { tier, _ in tier == .day ? 5 : 0 })
        #expect(
            items.map { "\($0.tier.rawValue) \($0.bucketStart.map(String.init) ?? "live") \($0.tables) \($0.rows)" } == [
                "raw 0 [\"blk_b0\"] 100",
                "raw 86400000 [\"raw_b86400000\", \"blk_b86400000\"] 110",
                "raw 172800000 [\"raw_b172800000\"] 10",
                "1m 0 [\"m1_b0\"] 1000",
                "1d live [\"rollup_1d\"] 5",
            ])
        #expect(items.last?.until == Optional(4 * day))
        #expect(!counted.contains("h1_b0"), "the 1 h tier is kept for ever")
        #expect(try RetentionPlan.item(.day, buckets[0], rows: { _, _ in 1 }) == nil)
        #expect(try RetentionPlan.item(.minute, buckets[1], rows: { _, _ in 1 }) == nil)
    }

    @Test("a retention run: a dry run lists the plan and drops nothing; a real one reports what each drop counted")
    func retentionRun() throws {
        var keep = StoreOptions.Retention()
        keep.raw = 1000
        let item = RetentionItem(tier: .raw, bucketStart: 0, until: 500, tables: ["raw_x"], rows: 3)
        var applied = 0
        let dry = try RetentionPlan.run(keep, now: 2000, dryRun: true, plan: { cutoffs in
            #expect(cutoffs[.raw] == 1000)
            return [item]
        }) { _ in
            applied += 1
            return item
        }
        #expect(dry.dryRun && dry.items == [item] && dry.now == 2000 && applied == 0)
        let real = try RetentionPlan.run(keep, now: 2000, dryRun: false, plan: { _ in [item] }) { planned in
            applied += 1
            var done = planned
            done.rows = 4  // a late reading arrived meanwhile
            return done
        }
        #expect(!real.dryRun && real.items.map(\.rows) == [4] && applied == 1)
    }

    // MARK: Reading

    @Test("readings: metric by metric, at most the limit in all; an empty range reads nothing")
    func readings() throws {
        var asked: [Int] = []
        let read = try SeriesQuery.readings(
            device: "d", from: 0, to: 100, limit: 3, series: { [(1, "ph"), (2, "water_temp"), (3, "turbidity")] }
        ) { series, _, _, limit in
            asked.append(limit)
            return (0..<min(limit, 2)).map { Point(ts: Int64($0), value: Double(series)) }
        }
        #expect(read.map(\.metric) == ["ph", "ph", "water_temp"])
        #expect(asked == [3, 1], "the third series is not read: the limit is reached")
        let none = try SeriesQuery.readings(device: "d", from: 5, to: 5, limit: 3, series: { Issue.record("read"); return [] }) {
            _, _, _, _ in []
        }
        #expect(none.isEmpty)
    }

    @Test("aggregates: whole cells from the coarsest tier dividing the interval, the partial last one from points")
    func aggregates() throws {
        var cellReads: [String] = []
        var pointReads: [String] = []
        let every = 2 * Self.hour
        let to = 4 * Self.hour + 30 * Self.minute
        let result = try SeriesQuery.aggregates(
            device: "d", from: 10, to: to, every: every, series: { [(7, "ph")] },
            cells: { series, tier, from, to in
                cellReads.append("\(series) \(tier.rawValue) \(from) \(to)")
                return [
                    RollupCell(start: 0, ts: 1, value: 1), RollupCell(start: Self.hour, ts: Self.hour, value: 3),
                    RollupCell(start: 2 * Self.hour, ts: 2 * Self.hour, value: 5),
                ]
            },
            points: { series, from, to in
                pointReads.append("\(series) \(from) \(to)")
                return [Point(ts: from + 1, value: 9)]
            })
        #expect(cellReads == ["7 1h 0 \(4 * Self.hour)"])
        #expect(pointReads == ["7 \(4 * Self.hour) \(to)"])
        #expect(result.map(\.start) == [0, 2 * Self.hour, 4 * Self.hour])
        #expect(result.map(\.count) == [2, 1, 1] && result[0].sum == 4 && result.allSatisfy { $0.metric == "ph" })

        // 90 s is no whole number of minutes: points only.
        cellReads = []
        pointReads = []
        _ = try SeriesQuery.aggregates(
            device: "d", from: 0, to: 900_000, every: 90_000, series: { [(7, "ph")] },
            cells: { _, _, _, _ in cellReads.append("cells"); return [] },
            points: { series, from, to in pointReads.append("\(series) \(from) \(to)"); return [] })
        #expect(cellReads.isEmpty && pointReads == ["7 0 900000"])

        #expect(throws: StoreError(.invalidArgument, "interval must be positive")) {
            try SeriesQuery.aggregates(
                device: "d", from: 0, to: 1, every: 0, series: { [] }, cells: { _, _, _, _ in [] }, points: { _, _, _ in [] })
        }
    }

    @Test("rollups: the first series' cells as aggregates; none without a series; raw is no rollup tier")
    func rollups() throws {
        let cells = [RollupCell(start: 0, ts: 1, value: 2)]
        let read = try SeriesQuery.rollups(device: "d", metric: "ph", tier: .hour, series: { [(4, "ph")] }) { series in
            #expect(series == 4)
            return cells
        }
        #expect(read == [cells[0].aggregate(device: "d", metric: "ph")])
        #expect(try SeriesQuery.rollups(device: "d", metric: "ph", tier: .hour, series: { [] }) { _ in cells }.isEmpty)
        #expect(throws: StoreError(.invalidArgument, "raw is not a rollup tier")) {
            try SeriesQuery.rollups(device: "d", metric: "ph", tier: .raw, series: { [(4, "ph")] }) { _ in cells }
        }
    }
}
