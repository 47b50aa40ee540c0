import Foundation
import PropertyBased
import ShennongCore
import Testing

@testable import ShennongStore

/// A random life of one series: readings at irregular intervals with gaps, duplicates
/// (same and different values), arrivals out of order, compactions between batches, and
/// values at and beyond the metric's precision.
struct SeriesScenario: Sendable, CustomStringConvertible {
    var metric: String
    var bucketWidth: Int64
    /// Batches in arrival order; `compactAfter[i]` compacts after batch i.
    var batches: [[Reading]]
    var compactAfter: [Bool]

    var description: String {
        "\(metric), buckets of \(bucketWidth / 3_600_000) h, \(batches.map(\.count)) readings in batches, compact after \(compactAfter)"
    }

    /// What the store must hold: the first-arrived value of each timestamp, by time.
    var expected: [Point] {
        var seen: [Int64: Double] = [:]
        for batch in batches {
            for r in batch where seen[r.timestamp] == nil { seen[r.timestamp] = r.value }
        }
        return seen.keys.sorted().map { Point(ts: $0, value: seen[$0]!) }
    }

    static let origin: Int64 = 1_763_596_800_000  // 2025-11-20T00:00:00Z

    static let generator = Generator<SeriesScenario, Shrink.None<SeriesScenario>> { rng in
        let metric = ["ph", "water_level", "rssi", "air_temp", "not_in_catalogue"].randomElement(using: &rng)!
        let precision = MetricCatalogue.metric(named: metric)?.precision ?? 3
        let width = [1, 6, 24].randomElement(using: &rng)! * StorageTier.hour.width
        // Timestamps: a walk with regular steps, jitter, bursts and gaps over up to ~3 days.
        var t = origin + Int64.random(in: 0...7_200_000, using: &rng)
        var times: [Int64] = []
        for _ in 0..<Int.random(in: 1...700, using: &rng) {
            switch Int.random(in: 0..<12, using: &rng) {
            case 0: t += Int64.random(in: 3_600_000...20_000_000, using: &rng)  // outage
            case 1: t += Int64.random(in: 1...2_000, using: &rng)  // burst
            case 2: t += 60_000 + Int64.random(in: -900...900, using: &rng)  // jitter
            default: t += [60_000, 300_000, 15_000].randomElement(using: &rng)!
            }
            times.append(t)
        }
        let scale = pow(10.0, Double(precision))
        var level = Double.random(in: -50...50, using: &rng)
        func value() -> Double {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return Double.random(in: -1000...1000, using: &rng)  // beyond precision
            case 1: return [0, -0.0, -1e-9, 123_456.789_012].randomElement(using: &rng)!
            default:
                level += Double(Int.random(in: -20...20, using: &rng)) / scale
                return (level * scale).rounded() / scale
            }
        }
        var readings = times.map { Reading(device: "d1", metric: metric, timestamp: $0, value: value()) }
        // Duplicates: redelivery (same value) and a conflicting resend (different value).
        for _ in 0..<Int.random(in: 0...(readings.count / 4 + 1), using: &rng) {
            var dup = readings.randomElement(using: &rng)!
            if Bool.random(using: &rng) { dup.value += 1 }
            readings.insert(dup, at: Int.random(in: 0...readings.count, using: &rng))
        }
        // Out of order: swap neighbours, and move a backfill block to the end.
        for _ in 0..<Int.random(in: 0...readings.count / 5, using: &rng) {
            let i = Int.random(in: 0..<readings.count, using: &rng)
            let j = min(readings.count - 1, i + Int.random(in: 1...30, using: &rng))
            readings.swapAt(i, j)
        }
        if readings.count > 10, Bool.random(using: &rng) {
            let start = Int.random(in: 0..<readings.count / 2, using: &rng)
            let block = Array(readings[start..<min(readings.count, start + Int.random(in: 1...200, using: &rng))])
            readings.removeSubrange(start..<start + block.count)
            readings += block
        }
        var batches: [[Reading]] = []
        var rest = readings[...]
        while !rest.isEmpty {
            let n = Int.random(in: 1...max(1, rest.count / 2 + 1), using: &rng)
            batches.append(Array(rest.prefix(n)))
            rest = rest.dropFirst(n)
        }
        let compact = batches.map { _ in Int.random(in: 0..<3, using: &rng) == 0 }
        return SeriesScenario(metric: metric, bucketWidth: width, batches: batches, compactAfter: compact)
    }
}

/// Buckets, compaction, rollups and late data against a plain model of the series.
struct StorageTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-\(UUID().uuidString)")

    func makeStore(_ configure: (inout StoreOptions) -> Void = { _ in }) throws -> Store {
        var options = StoreOptions()
        configure(&options)
        return try Store(path: directory.appendingPathComponent("\(UUID().uuidString).db").path, durable: false, options: options)
    }

    func batch(_ readings: [Reading], devices: [String] = []) -> IngestBatch {
        var batch = IngestBatch()
        batch.readings = readings
        batch.newDevices = devices.map { Device(id: $0, profile: "generic", domain: .water, site: "s1", createdAt: 1) }
        return batch
    }

    /// Far enough ahead that every bucket of a scenario is closed.
    static let later: Int64 = SeriesScenario.origin + 400 * 86_400_000

    @Test func compactionRoundTripsAndRollupsEqualTheRawAggregates() async throws {
        await propertyCheck(count: 60, input: SeriesScenario.generator) { scenario in
            let store = try makeStore { $0.bucketWidth = scenario.bucketWidth; $0.compactionBatchRows = 50 }
            defer { try? store.close() }
            try store.commit(batch([], devices: ["d1"]))
            for (i, b) in scenario.batches.enumerated() {
                try store.commit(batch(b))
                if scenario.compactAfter[i] { try store.compact(now: Self.later) }
            }
            let expected = scenario.expected
            try check(store, scenario.metric, expected)
            // Everything compacted: the blocks alone must give the same answers.
            let report = try store.compact(now: Self.later)
            let stats = try store.stats()
            #expect(stats.rawReadings == 0)
            #expect(stats.compactedReadings == expected.count)
            #expect(report.readings <= expected.count)
            try check(store, scenario.metric, expected)
        }
    }

    /// Raw readings, every tier's cells and `aggregates` against the model.
    func check(_ store: Store, _ metric: String, _ expected: [Point], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let from = expected.first!.ts - 86_400_000
        let to = expected.last!.ts + 86_400_000
        let stored = try store.readings(device: "d1", metric: metric, from: from, to: to, limit: .max)
        #expect(stored.map(\.timestamp) == expected.map(\.ts), sourceLocation: sourceLocation)
        #expect(stored.map(\.value) == expected.map(\.value), sourceLocation: sourceLocation)
        #expect(try store.stats().readings == expected.count, sourceLocation: sourceLocation)
        for tier in StorageTier.rollups {
            let model = RollupCell.cells(of: expected, width: tier.width)
            let cells = try store.rollups(device: "d1", metric: metric, tier: tier, from: from, to: to)
            #expect(cells.map(\.start) == model.map(\.start), "\(tier)", sourceLocation: sourceLocation)
            for (c, m) in zip(cells, model) where !(c.count == m.count && c.min == m.min && c.max == m.max && c.sum == m.sum && c.first == m.first && c.last == m.last) {
                Issue.record("\(tier) cell at \(c.start): stored \(c), from raw \(m)", sourceLocation: sourceLocation)
                break
            }
            // Served by `aggregates` (whole cells from the tier) exactly.
            let served = try store.aggregates(device: "d1", metric: metric, from: from, to: to, every: tier.width)
            #expect(served == cells, "\(tier)", sourceLocation: sourceLocation)
        }
        // Wider and odd intervals: combined cells or raw; exact but for the order of the sum.
        for every: Int64 in [300_000, 7_200_000, 90_000, 86_400_000 * 2] {
            let model = RollupCell.cells(of: expected, width: every)
            let served = try store.aggregates(device: "d1", metric: metric, from: from, to: to, every: every)
            #expect(served.map(\.start) == model.map(\.start), sourceLocation: sourceLocation)
            for (s, m) in zip(served, model) {
                #expect(s.count == m.count && s.min == m.min && s.max == m.max && s.first == m.first && s.last == m.last, sourceLocation: sourceLocation)
                #expect(abs(s.sum - m.sum) <= 1e-9 * max(1, abs(m.sum)) * Double(m.count), sourceLocation: sourceLocation)
            }
        }
    }

    /// Ingest remembers each series' newest reading and its newest stored rollup cells between
    /// bursts; a second writer on the same file (a `shennong db` command, another process)
    /// changes them behind its back. Bursts from two stores on one file, alternating into the
    /// same cells, must leave every cell equal to its raw readings. With 6 h buckets the 1 d
    /// cells are stored by ingest (they span buckets), so the cached cells are in play too.
    @Test(arguments: [StorageTier.day.width, 6 * StorageTier.hour.width])
    func anotherWriterBetweenBurstsDoesNotFoolTheRollupCache(bucketWidth: Int64) throws {
        let path = directory.appendingPathComponent("shared.db").path
        var options = StoreOptions()
        options.bucketWidth = bucketWidth
        let a = try Store(path: path, durable: false, options: options)
        let b = try Store(path: path, durable: false, options: options)
        defer {
            try? a.close()
            try? b.close()
        }
        try a.commit(batch([], devices: ["d1"]))
        var expected: [Point] = []
        var t = SeriesScenario.origin
        for round in 0..<12 {
            var readings: [Reading] = []
            for _ in 0..<4 {
                t += 7_000
                let point = Point(ts: t, value: Double(round * 10 + readings.count) / 10)
                expected.append(point)
                readings.append(Reading(device: "d1", metric: "ph", timestamp: point.ts, value: point.value))
            }
            // a, a, b, a, b, b, ...: each store sometimes follows itself, sometimes the other.
            try ([0, 1, 3, 6, 7, 9].contains(round) ? a : b).commit(batch(readings))
        }
        try check(a, "ph", expected)
        try check(b, "ph", expected)
    }

    @Test func readingsSpanBucketsAndTablesAreMadeOnDemand() throws {
        let store = try makeStore()
        let day: Int64 = 86_400_000
        let origin = SeriesScenario.origin
        let readings = (0..<72).map { Reading(device: "d1", metric: "ph", timestamp: origin + Int64($0) * 3_600_000, value: 7 + Double($0 % 10) / 10) }
        try store.commit(batch(readings.shuffled(), devices: ["d1"]))
        let buckets = try store.bucketStats(now: origin + 3 * day + 1)
        #expect(buckets.map(\.start) == [origin, origin + day, origin + 2 * day])
        #expect(buckets.map(\.rawReadings) == [24, 24, 24])
        #expect(buckets.map(\.state) == [.closed, .closed, .open])
        let tables = try #require(try store.tableBytes()).keys
        #expect(tables.contains("raw_20251120") && tables.contains("raw_20251122"))
        #expect(try store.readings(device: "d1", from: origin + 20 * 3_600_000, to: origin + 30 * 3_600_000).map(\.timestamp)
            == (20..<30).map { origin + Int64($0) * 3_600_000 })
        #expect(try store.readings(device: "d1", from: origin, to: origin + 3 * day, limit: 30).count == 30)
    }

    @Test func aLateReadingReopensACompactedBucketAndStaysIdempotent() throws {
        let store = try makeStore()
        let origin = SeriesScenario.origin
        let day = (0..<1440).map { Reading(device: "d1", metric: "air_temp", timestamp: origin + Int64($0) * 60_000, value: 20 + Double($0 % 50) / 10) }
        let gap = Set(600..<660)  // an hour the gateway sends later
        try store.commit(batch(day.enumerated().filter { !gap.contains($0.offset) }.map(\.element), devices: ["d1"]))
        let before = try store.compact(now: origin + 2 * 86_400_000)
        #expect(before.buckets == 1 && before.readings == 1380)
        #expect(try store.bucketStats(now: origin + 2 * 86_400_000).map(\.state) == [.compacted])

        // Backfill of the missing hour, with a redelivered reading that is already compacted.
        let backfill = gap.sorted().map { day[$0] } + [Reading(device: "d1", metric: "air_temp", timestamp: day[0].timestamp, value: -5)]
        let result = try store.commit(batch(backfill))
        #expect(result.inserted == 60 && result.duplicates == 1)
        #expect(try store.bucketStats(now: origin + 2 * 86_400_000).map(\.state) == [.reopened])
        #expect(try store.readings(device: "d1", from: origin, to: origin + 86_400_000, limit: .max).map(\.value) == day.map(\.value))

        let daily = try #require(try store.aggregates(device: "d1", metric: "air_temp", from: origin, to: origin + 86_400_000, every: 86_400_000).first)
        let model = try #require(RollupCell.cells(of: day.map { Point(ts: $0.timestamp, value: $0.value) }, width: 86_400_000).first)
        #expect(daily.count == 1440 && daily.sum == model.sum && daily.first == model.first && daily.last == model.last)
        let hour = try store.rollups(device: "d1", metric: "air_temp", tier: .hour, from: origin + 36_000_000, to: origin + 39_600_000)
        #expect(hour.map(\.count) == [60])

        let after = try store.compact(now: origin + 2 * 86_400_000)
        #expect(after.buckets == 1 && after.readings == 1440)
        #expect(try store.bucketStats(now: origin + 2 * 86_400_000).map(\.state) == [.compacted])
        #expect(try store.readings(device: "d1", from: origin, to: origin + 86_400_000, limit: .max).map(\.value) == day.map(\.value))
        // A redelivery after recompaction is still a duplicate.
        #expect(try store.commit(batch([day[700]])).duplicates == 1)
    }

    @Test func latestIsTheNewestEvenWhenBackfillArrivesAfterCompaction() throws {
        let store = try makeStore()
        let origin = SeriesScenario.origin
        try store.commit(batch([Reading(device: "d1", metric: "ph", timestamp: origin + 2 * 86_400_000, value: 7.7)], devices: ["d1"]))
        try store.commit(batch([Reading(device: "d1", metric: "ph", timestamp: origin, value: 6.1)]))
        try store.compact(now: origin + 10 * 86_400_000)
        try store.commit(batch([Reading(device: "d1", metric: "ph", timestamp: origin + 60_000, value: 6.2)]))
        let latest = try #require(try store.latest(device: "d1").first)
        #expect(latest.timestamp == origin + 2 * 86_400_000 && latest.value == 7.7)
    }

    @Test func aggregatesReadRollupsThatOutliveRawReadings() throws {
        let store = try makeStore { $0.retention.raw = 2 * 86_400_000; $0.retention.minute = 3 * 86_400_000 }
        let origin = SeriesScenario.origin
        let readings = (0..<(5 * 24)).map { Reading(device: "d1", metric: "water_level", timestamp: origin + Int64($0) * 3_600_000 + 1, value: Double($0) / 1000) }
        try store.commit(batch(readings, devices: ["d1"]))
        try store.compact(now: origin + 10 * 86_400_000)
        try store.retention(now: origin + 10 * 86_400_000, dryRun: false)
        // Raw and 1 m are gone, 1 h and 1 d are kept forever: hourly and daily answers remain.
        #expect(try store.readings(device: "d1", from: origin, to: origin + 5 * 86_400_000).isEmpty)
        #expect(try store.aggregates(device: "d1", from: origin, to: origin + 5 * 86_400_000, every: 60_000).isEmpty)
        let hourly = try store.aggregates(device: "d1", from: origin, to: origin + 5 * 86_400_000, every: 3_600_000)
        #expect(hourly.count == 120 && hourly.allSatisfy { $0.count == 1 })
        let daily = try store.aggregates(device: "d1", from: origin, to: origin + 5 * 86_400_000, every: 86_400_000)
        #expect(daily.map(\.count) == [24, 24, 24, 24, 24])
        #expect(daily.last?.last == readings.last?.value)
    }

    @Test func aStoreKeepsTheBucketWidthItWasCreatedWith() throws {
        let path = directory.appendingPathComponent("width.db").path
        var hourly = StoreOptions()
        hourly.bucketWidth = 3_600_000
        let first = try Store(path: path, durable: false, options: hourly)
        try first.commit(batch([Reading(device: "d1", metric: "ph", timestamp: SeriesScenario.origin, value: 7)], devices: ["d1"]))
        try first.close()
        let again = try Store(path: path, durable: false)
        #expect(again.options.bucketWidth == 3_600_000)
        #expect(try again.bucketStats().map(\.until) == [SeriesScenario.origin + 3_600_000])
        var bad = StoreOptions()
        bad.bucketWidth = 90 * 60_000
        #expect { try Store(path: path, options: bad) } throws: { ($0 as? StoreError)?.code == .invalidArgument }
    }
}
