import Foundation
import ShennongCore
import ShennongTestSupport
import Testing

@testable import ShennongStore

/// The 1-minute tier computed from raw readings while they are kept (issue 19), and the file
/// space compaction frees: what would break if the computed tier forgot retention, lost the
/// minutes of a raw table dropped before its compaction, or left freed pages in the file.
struct MinuteTierTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("minute-tier-\(UUID().uuidString)")
    static let origin = SeriesScenario.origin
    static let day: Int64 = 86_400_000

    func makeStore(_ configure: (inout StoreOptions) -> Void = { _ in }) throws -> Store {
        var options = StoreOptions()
        configure(&options)
        return try Store(path: directory.appendingPathComponent("\(UUID().uuidString).db").path, durable: false, options: options)
    }

    /// `days` of readings of d1/air_temp every 30 s (two a minute), none compacted.
    func fill(_ store: Store, days: Int) throws -> [Point] {
        var batch = IngestBatch()
        batch.newDevices = [Device(id: "d1", profile: "generic", domain: .weather, site: "s1", createdAt: 1)]
        let points = (0..<(days * 2880)).map { Point(ts: Self.origin + Int64($0) * 30_000 + 7, value: Double($0 % 500) / 10) }
        batch.readings = points.map { Reading(device: "d1", metric: "air_temp", timestamp: $0.ts, value: $0.value) }
        #expect(try store.commit(batch).inserted == points.count)
        return points
    }

    @Test("ingest stores no live 1-minute cell while raw readings are kept; the tier is computed from them, exactly")
    func minuteCellsComeFromRaw() throws {
        let store = try makeStore()
        let points = try fill(store, days: 2)
        #expect(try store.tierStats().first { $0.tier == .minute }?.liveCells == 0)
        let model = RollupCell.cells(of: points, width: 60_000)
        let cells = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin, to: Self.origin + 2 * Self.day)
        #expect(cells.count == model.count && cells.count == 2 * 1440)
        #expect(zip(cells, model).allSatisfy { $0.start == $1.start && $0.count == 2 && $0.sum == $1.sum && $0.first == $1.first && $0.last == $1.last })
        // A range that starts and ends inside minutes: cells starting in it, whole.
        let inner = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin + 90_000, to: Self.origin + 210_001)
        #expect(inner.map(\.start) == [Self.origin + 120_000, Self.origin + 180_000, Self.origin + 240_000].filter { $0 < Self.origin + 210_001 })
        #expect(inner.allSatisfy { $0.count == 2 })
        // After compaction the packed cells answer the same.
        try store.compact(now: Self.origin + 10 * Self.day)
        let packed = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin, to: Self.origin + 2 * Self.day)
        #expect(packed == cells)
    }

    @Test("a 1-minute retention shorter than the raw one: minutes older than it are gone, not computed again from raw")
    func minuteRetentionHoldsForComputedCells() throws {
        let store = try makeStore { $0.retention.raw = 30 * Self.day; $0.retention.minute = 2 * Self.day }
        _ = try fill(store, days: 4)
        let now = Self.origin + 4 * Self.day
        try store.retention(now: now, dryRun: false)
        let cutoff = now - 2 * Self.day
        let cells = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin, to: now)
        #expect(cells.first?.start == cutoff && cells.count == 2 * 1440)
        #expect(try store.readings(device: "d1", metric: "air_temp", from: Self.origin, to: now, limit: .max).count == 4 * 2880)
    }

    @Test("raw readings dropped before their bucket was compacted keep their 1-minute cells (packed first)")
    func rawDroppedUncompactedKeepsItsMinutes() throws {
        let store = try makeStore { $0.retention.raw = 2 * Self.day; $0.retention.minute = nil }
        let points = try fill(store, days: 4)
        let now = Self.origin + 4 * Self.day
        try store.retention(now: now, dryRun: false)
        #expect(try store.readings(device: "d1", metric: "air_temp", from: Self.origin, to: Self.origin + 2 * Self.day).isEmpty)
        let model = RollupCell.cells(of: points, width: 60_000)
        let cells = try store.rollups(device: "d1", metric: "air_temp", tier: .minute, from: Self.origin, to: now)
        #expect(cells.count == model.count)
        #expect(zip(cells, model).allSatisfy { $0.start == $1.start && $0.count == $1.count && $0.sum == $1.sum && $0.min == $1.min })
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
