import Foundation
import ShennongCore
import ShennongTestSupport
import Testing

@testable import ShennongStore

/// Rollup tiers computed from raw readings while they are kept (issue 19: first the 1-minute
/// tier, then 1 h and 1 d, so that a burst writes no cell), and the file space compaction
/// frees: what would break if a computed tier forgot retention, lost the cells of a raw table
/// dropped before its compaction, stored cells that span buckets as if they did not, or left
/// freed pages in the file.
struct ComputedTierTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("computed-tier-\(UUID().uuidString)")
    static let origin = SeriesScenario.origin
    static let day: Int64 = 86_400_000

    func makeStore(_ configure: (inout StoreOptions) -> Void = { _ in }) throws -> Store {
        var options = StoreOptions()
        configure(&options)
        return try Store(path: directory.appendingPathComponent("\(UUID().uuidString).db").path, durable: false, options: options)
    }

    /// `days` of readings of d1/air_temp every 30 s (two a minute), none compacted, in bursts
    /// of an hour (as ingest would commit them); all of them, those at `skipping` not committed.
    func fill(_ store: Store, days: Int, skipping: Set<Int> = []) throws -> [Point] {
        var batch = IngestBatch()
        batch.newDevices = [Device(id: "d1", profile: "generic", domain: .weather, site: "s1", createdAt: 1)]
        try store.commit(batch)
        let points = (0..<(days * 2880)).map { Point(ts: Self.origin + Int64($0) * 30_000 + 7, value: Double($0 % 500) / 10) }
        for hour in stride(from: 0, to: points.count, by: 120) {
            let burst = (hour..<(hour + 120)).filter { !skipping.contains($0) }
            batch.readings = burst.map { Reading(device: "d1", metric: "air_temp", timestamp: points[$0].ts, value: points[$0].value) }
            #expect(try store.commit(batch).inserted == burst.count)
        }
        return points
    }

    /// Every cell of `tier` equals the model's, the sum bit for bit.
    func expectExact(_ cells: [AggregatePoint], _ points: [Point], _ tier: StorageTier, sourceLocation: SourceLocation = #_sourceLocation) {
        let model = RollupCell.cells(of: points, width: tier.width)
        #expect(cells.map(\.start) == model.map(\.start), "\(tier)", sourceLocation: sourceLocation)
        #expect(
            zip(cells, model).allSatisfy {
                $0.count == $1.count && $0.sum == $1.sum && $0.min == $1.min && $0.max == $1.max && $0.first == $1.first
                    && $0.last == $1.last
            }, "\(tier)", sourceLocation: sourceLocation)
    }

    @Test("ingest stores no live cell of any tier while raw readings are kept; every tier is computed from them, exactly")
    func cellsComeFromRaw() throws {
        let store = try makeStore()
        let points = try fill(store, days: 2)
        for tier in StorageTier.rollups {
            #expect(try store.tierStats().first { $0.tier == tier }?.liveCells == 0, "\(tier)")
            let cells = try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + 2 * Self.day)
            expectExact(cells, points, tier)
        }
        let minutes = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin, to: Self.origin + 2 * Self.day)
        #expect(minutes.count == 2 * 1440 && minutes.allSatisfy { $0.count == 2 })
        // A range that starts and ends inside minutes: cells starting in it, whole.
        let inner = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin + 90_000, to: Self.origin + 210_001)
        #expect(inner.map(\.start) == [Self.origin + 120_000, Self.origin + 180_000, Self.origin + 240_000].filter { $0 < Self.origin + 210_001 })
        #expect(inner.allSatisfy { $0.count == 2 })
        let hours = try store.rollups(device: "d1", metric: "air_temp", tier: .hour, from: Self.origin + 1_800_000, to: Self.origin + 10_800_001)
        #expect(hours.map(\.start) == [Self.origin + 3_600_000, Self.origin + 7_200_000, Self.origin + 10_800_000])
        // After compaction the packed (1 m, 1 h) and written (1 d) cells answer the same.
        try store.compact(now: Self.origin + 10 * Self.day)
        #expect(try store.tierStats().first { $0.tier == .day }?.liveCells == 2)
        #expect(try store.tierStats().first { $0.tier == .hour }?.packedCells == 48)
        for tier in StorageTier.rollups {
            let packed = try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + 2 * Self.day)
            expectExact(packed, points, tier)
        }
    }

    @Test("buckets narrower than a day: 1 m and 1 h computed, 1 d cells (which span buckets) stored by ingest, all exact")
    func daysSpanningBucketsAreStored() throws {
        let store = try makeStore { $0.bucketWidth = 6 * 3_600_000 }
        let points = try fill(store, days: 2)
        let stats = try store.tierStats()
        #expect(stats.first { $0.tier == .minute }?.liveCells == 0)
        #expect(stats.first { $0.tier == .hour }?.liveCells == 0)
        #expect(stats.first { $0.tier == .day }?.liveCells == 2)
        for tier in StorageTier.rollups {
            expectExact(try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + 2 * Self.day), points, tier)
        }
        try store.compact(now: Self.origin + 10 * Self.day)
        for tier in StorageTier.rollups {
            expectExact(try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + 2 * Self.day), points, tier)
        }
    }

    @Test("a tier's retention shorter than the raw one: its cells older than it are gone, not computed again from raw",
          arguments: [StorageTier.minute, .hour, .day])
    func retentionHoldsForComputedCells(tier: StorageTier) throws {
        let store = try makeStore { $0.retention.raw = 30 * Self.day; $0.retention[tier] = 2 * Self.day }
        _ = try fill(store, days: 4)
        let now = Self.origin + 4 * Self.day
        try store.retention(now: now, dryRun: false)
        let cutoff = now - 2 * Self.day
        let cells = try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: now)
        #expect(cells.first?.start == cutoff && cells.count == Int(2 * Self.day / tier.width))
        #expect(try store.readings(device: "d1", metric: "air_temp", from: Self.origin, to: now, limit: .max).count == 4 * 2880)
    }

    @Test("raw readings dropped before their bucket was compacted keep the cells of every tier (packed or written first)")
    func rawDroppedUncompactedKeepsItsCells() throws {
        let store = try makeStore { $0.retention.raw = 2 * Self.day; $0.retention.minute = nil }
        let points = try fill(store, days: 4)
        let now = Self.origin + 4 * Self.day
        try store.retention(now: now, dryRun: false)
        #expect(try store.readings(device: "d1", metric: "air_temp", from: Self.origin, to: Self.origin + 2 * Self.day).isEmpty)
        for tier in StorageTier.rollups {
            expectExact(try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: now), points, tier)
        }
    }

    @Test("a late reading in a compacted bucket: the cells compaction wrote give way to cells computed again, then are rewritten",
          arguments: [StorageTier.day.width, 6 * StorageTier.hour.width])
    func lateReadingAfterCompaction(bucketWidth: Int64) throws {
        let store = try makeStore { $0.bucketWidth = bucketWidth }
        let points = try fill(store, days: 1, skipping: [1000])
        var withoutLate = points
        let late = withoutLate.remove(at: 1000)
        try store.compact(now: Self.origin + 10 * Self.day)
        for tier in StorageTier.rollups {
            expectExact(try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + Self.day), withoutLate, tier)
        }
        var batch = IngestBatch()
        batch.readings = [Reading(device: "d1", metric: "air_temp", timestamp: late.ts, value: late.value)]
        #expect(try store.commit(batch).inserted == 1)
        for tier in StorageTier.rollups {
            expectExact(try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + Self.day), points, tier)
        }
        try store.compact(now: Self.origin + 10 * Self.day)
        for tier in StorageTier.rollups {
            expectExact(try store.rollups(device: "d1", metric: "air_temp", tier: tier, from: Self.origin, to: Self.origin + Self.day), points, tier)
        }
    }

    @Test("compaction gives the pages of dropped raw tables back: the file shrinks and keeps no free pages")
    func compactionReturnsFreePages() throws {
        let store = try makeStore()
        _ = try fill(store, days: 3)
        let before = try store.stats()
        let rawBytes = try #require(try store.tableBytes()).filter { $0.key.hasPrefix("raw_") }.values.reduce(0, +)
        try store.compact(now: Self.origin + 10 * Self.day)
        let after = try store.stats()
        #expect(after.readings == before.readings)
        #expect(after.freeBytes == 0)
        // The raw tables' pages left the file (blocks and packed minutes take a few of them back).
        #expect(after.fileBytes < before.fileBytes - rawBytes / 2, "file \(before.fileBytes) -> \(after.fileBytes) bytes, raw \(rawBytes)")
        #expect(try store.returnFreePages() == 0)
        let wal = (try? FileManager.default.attributesOfItem(atPath: store.path + "-wal"))?[.size] as? Int ?? 0
        #expect(wal <= Store.walSizeLimitBytes)
    }

    @Test("a file made before incremental vacuum keeps its freed pages until `vacuum(full:)` converts it; after that compaction returns them itself")
    func vacuumConvertsAnOldFile() throws {
        // A file with a page already (as an older version left it): auto_vacuum stays NONE.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(UUID().uuidString).db").path
        try sqlite3(path, "PRAGMA auto_vacuum = NONE; CREATE TABLE older (x); DROP TABLE older;")
        let store = try Store(path: path, durable: false, options: StoreOptions())
        _ = try fill(store, days: 3)
        try store.compact(now: Self.origin + 10 * Self.day)
        let freed = try store.stats()
        #expect(freed.freeBytes > 0, "compaction left the dropped raw tables' pages in the file")

        // Steps return nothing from such a file: it says so and keeps its pages for reuse.
        let stepped = try store.vacuum(full: false)
        #expect(!stepped.incremental && stepped.steps == 0)
        #expect(stepped.freePagesAfter == stepped.freePagesBefore && stepped.freePagesBefore > 0)

        // The full vacuum converts it and gives the pages back.
        let full = try store.vacuum(full: true)
        #expect(full.incremental && full.freePagesAfter == 0)
        #expect(full.fileBytesAfter < full.fileBytesBefore - freed.freeBytes / 2, "\(full)")
        #expect(try store.stats().readings == freed.readings)

        // From now on compaction returns what it frees.
        var batch = IngestBatch()
        batch.readings = (0..<2880).map {
            Reading(device: "d1", metric: "air_temp", timestamp: Self.origin + 5 * Self.day + Int64($0) * 30_000, value: 1)
        }
        #expect(try store.commit(batch).inserted == 2880)
        try store.compact(now: Self.origin + 20 * Self.day)
        #expect(try store.stats().freeBytes == 0)
        #expect(try store.vacuum(full: false).steps == 0)
    }
}
