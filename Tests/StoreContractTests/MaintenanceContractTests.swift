import Foundation
import ShennongCore
import Testing

/// The maintenance and health doors on every engine: compaction keeps every reading,
/// retention drops exactly what its dry run listed.
@Suite("store contract: maintenance")
struct MaintenanceContractTests {
    typealias F = Fixture

    /// Three days of a reading every 5 minutes for two series.
    static func threeDays() -> [Reading] {
        var readings: [Reading] = []
        for i in 0..<(3 * 288) {
            let t = F.t0 + Int64(i) * 300_000
            readings.append(F.reading("p1", "dissolved_oxygen", t, 5 + Double(i % 40) / 10))
            readings.append(F.reading("p1", "ph", t, 7 + Double(i % 9) / 100))
        }
        return readings
    }

    @Test("compaction keeps every reading and aggregate; late data into a compacted bucket is kept too", arguments: StoreEngine.all)
    func compactionIsLossless(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let readings = Self.threeDays()
        try store.commit(F.batch(readings, devices: [F.device("p1")]))
        let range = (from: F.t0, to: F.t0 + 3 * F.day)
        let before = try store.readings(device: "p1", from: range.from, to: range.to, limit: 10_000)
        let hourly = try store.aggregates(device: "p1", from: range.from, to: range.to, every: 3_600_000)
        let now = F.t0 + 10 * F.day
        let report = try store.compact(now: now, shouldContinue: { true })
        #expect(report.buckets == 3 && report.readings == readings.count)
        #expect(try store.readings(device: "p1", from: range.from, to: range.to, limit: 10_000) == before)
        #expect(try store.aggregates(device: "p1", from: range.from, to: range.to, every: 3_600_000) == hourly)
        #expect(try store.compactBatch(now: now).readings == 0, "nothing left to compact")
        #expect(try store.bucketStats(now: now).map(\.state) == [.compacted, .compacted, .compacted])

        // A late reading into a compacted bucket (a gateway's backfill), between two stored ones.
        let late = F.reading("p1", "ph", F.t0 + F.day + 150_000, 6.5)
        #expect(try store.commit(F.batch([late])).inserted == 1)
        #expect(try store.commit(F.batch([F.reading("p1", "ph", F.t0 + F.day, 1)])).duplicates == 1, "a compacted reading came in again")
        let after = try store.readings(device: "p1", metric: "ph", from: F.t0 + F.day, to: F.t0 + F.day + 300_001)
        #expect(after.map(\.timestamp) == [F.t0 + F.day, late.timestamp, F.t0 + F.day + 300_000])
        let stats = try store.stats()
        #expect(stats.readings == readings.count + 1 && stats.devices == 1 && stats.series == 2)
        try store.compact(now: now, shouldContinue: { true })
        #expect(try store.stats().readings == readings.count + 1)
    }

    @Test("retention drops exactly what its dry run listed, and only what is older than each tier keeps", arguments: StoreEngine.all)
    func retentionMatchesDryRun(engine: StoreEngine) throws {
        var options = StoreOptions()
        options.retention.raw = 2 * F.day
        options.retention.minute = 2 * F.day
        let store = try engine.open(options)
        try store.commit(F.batch(Self.threeDays(), devices: [F.device("p1")]))
        let now = F.t0 + 4 * F.day + 3_600_000
        try store.compact(now: now, shouldContinue: { true })
        let planned = try store.retention(now: now, dryRun: true)
        #expect(planned.dryRun && !planned.items.isEmpty)
        #expect(try store.stats().readings == Self.threeDays().count, "a dry run dropped something")
        let done = try store.retention(now: now, dryRun: false)
        #expect(done.items.map(\.tier) == planned.items.map(\.tier))
        #expect(done.items.map(\.bucketStart) == planned.items.map(\.bucketStart))
        #expect(done.items.map(\.rows) == planned.items.map(\.rows))
        // Raw kept for 2 days back from now: the first two days are gone, the third stays.
        let raw = try store.readings(device: "p1", metric: "ph", from: F.t0, to: F.t0 + 3 * F.day)
        #expect(raw.first?.timestamp == F.t0 + 2 * F.day && raw.count == 288)
        // The daily tier is kept forever: every day still has its cell.
        let daily = try store.aggregates(device: "p1", metric: "ph", from: F.t0, to: F.t0 + 3 * F.day, every: F.day)
        #expect(daily.map(\.count) == [288, 288, 288])
        #expect(try store.retention(now: now, dryRun: true).items.isEmpty, "a second run would drop more")
    }

    @Test("health answers on a working store", arguments: StoreEngine.all)
    func health(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        try store.checkHealth()
        #expect(try store.stats().readings == 0)
        #expect(!store.location.isEmpty)
    }
}
