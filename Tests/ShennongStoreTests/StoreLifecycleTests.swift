import Foundation
import ShennongCore
import ShennongTestSupport
import Synchronization
import Testing

@testable import ShennongStore

/// Upgrading a database of the previous release, retention while ingest goes on, backups.
struct StoreLifecycleTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lifecycle-\(UUID().uuidString)")
    static let origin: Int64 = 1_763_596_800_000  // 2025-11-20T00:00:00Z
    static let day: Int64 = 86_400_000

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func sqlite(_ path: String, _ script: String) throws { try sqlite3(path, script) }

    func batch(_ readings: [Reading], devices: [String] = []) -> IngestBatch {
        var batch = IngestBatch()
        batch.readings = readings
        batch.newDevices = devices.map { Device(id: $0, profile: "generic", domain: .water, site: "s1", createdAt: 1) }
        return batch
    }

    /// A file exactly as the previous release (schema v1, one `readings` table) left it.
    @Test func aV1DatabaseMovesIntoBucketsWithExactRollups() throws {
        let path = directory.appendingPathComponent("v1.db").path
        try sqlite(
            path,
            """
            PRAGMA application_id = \(Store.applicationID);
            PRAGMA journal_mode = WAL;
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('v1: devices, series, readings, rejects, tokens');
            CREATE TABLE devices (id TEXT PRIMARY KEY NOT NULL, profile TEXT NOT NULL, domain TEXT NOT NULL, site TEXT,
                name TEXT, latitude REAL, longitude REAL, area_code TEXT, owner TEXT, created_at INTEGER NOT NULL,
                last_seen INTEGER, presence TEXT, presence_at INTEGER);
            CREATE INDEX devices_site ON devices(site);
            CREATE TABLE series (id INTEGER PRIMARY KEY, device TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
                metric TEXT NOT NULL, UNIQUE(device, metric));
            CREATE TABLE readings (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
                PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
            CREATE TABLE latest (series_id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, value REAL NOT NULL);
            CREATE TABLE rejects (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, topic TEXT NOT NULL, device TEXT,
                payload BLOB NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, field TEXT);
            CREATE INDEX rejects_received_at ON rejects(received_at);
            CREATE TABLE tokens (id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL, last_used_at INTEGER);
            INSERT INTO devices (id, profile, domain, site, created_at) VALUES ('pond-1', 'generic', 'water', 'lianzhou', 1);
            INSERT INTO series (id, device, metric) VALUES (1, 'pond-1', 'dissolved_oxygen'), (2, 'pond-1', 'ph');
            -- Three days a minute apart for DO (values at precision 2), pH every 7 minutes with odd values.
            WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 4319)
            INSERT INTO readings SELECT 1, \(Self.origin) + n * 60000, (500 + (n * 37) % 301) / 100.0 FROM i;
            WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 7 FROM i WHERE n < 4300)
            INSERT INTO readings SELECT 2, \(Self.origin) + n * 60000 + 1234, 7 + n / 3000.0 FROM i;
            INSERT INTO latest SELECT series_id, max(ts), value FROM readings GROUP BY series_id;
            """)
        let model = try v1Points(path)
        #expect(model[1]?.count == 4320)

        let store = try Store(path: path, durable: false)
        #expect(try store.appliedMigrations() == Store.migrationNames)
        let tables = try #require(try store.tableBytes()).keys
        #expect(!tables.contains("readings"))
        #expect(tables.contains("raw_20251120") && tables.contains("raw_20251122"))
        #expect(try store.stats().readings == model.values.reduce(0) { $0 + $1.count })
        for (metric, series) in [("dissolved_oxygen", 1), ("ph", 2)] {
            let expected = model[series]!
            let stored = try store.readings(device: "pond-1", metric: metric, from: 0, to: .max, limit: .max)
            #expect(stored.map(\.timestamp) == expected.map(\.ts))
            #expect(stored.map(\.value) == expected.map(\.value))
            for tier in StorageTier.rollups {
                let cells = try store.rollups(device: "pond-1", metric: metric, tier: tier, from: 0, to: .max)
                let fromRaw = RollupCell.cells(of: expected, width: tier.width)
                #expect(cells.count == fromRaw.count)
                for (c, m) in zip(cells, fromRaw) {
                    #expect(c.count == m.count && c.sum == m.sum && c.min == m.min && c.max == m.max)
                    #expect(c.first == m.first && c.last == m.last)
                }
            }
        }
        // The upgraded file works as any other: ingest, compaction, latest.
        try store.commit(batch([Reading(device: "pond-1", metric: "ph", timestamp: Self.origin + 4 * Self.day, value: 7.9)]))
        #expect(try store.compact(now: Self.origin + 10 * Self.day).buckets == 4)
        #expect(try store.latest(device: "pond-1").map(\.value) == [model[1]!.last!.value, 7.9])
        #expect(try store.readings(device: "pond-1", metric: "dissolved_oxygen", from: 0, to: .max, limit: .max).count == 4320)
    }

    /// The v1 readings read straight from the file with the sqlite3 tool.
    func v1Points(_ path: String) throws -> [Int: [Point]] {
        let text = try sqlite3(
            path, "SELECT series_id, ts, printf('%!.17g', value) FROM readings ORDER BY series_id, ts", options: ["-separator", " "])
        var points: [Int: [Point]] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            points[Int(f[0])!, default: []].append(Point(ts: Int64(f[1])!, value: Double(f[2])!))
        }
        return points
    }

    @Test func retentionDropsExactlyWhatTheDryRunListedWhileIngestGoesOn() async throws {
        var options = StoreOptions()
        options.retention.raw = 3 * Self.day
        options.retention.minute = 5 * Self.day
        let store = try Store(path: directory.appendingPathComponent("r.db").path, durable: false, options: options)
        // Eight days of two series, every 10 minutes; "now" is the start of day 8.
        let devices = ["a", "b"]
        var old: [Reading] = []
        for i in 0..<(8 * 144) {
            let ts: Int64 = Self.origin + Int64(i) * 600_000
            for d in devices { old.append(Reading(device: d, metric: "water_temp", timestamp: ts, value: Double(i % 300) / 10)) }
        }
        try store.commit(batch(old, devices: devices))
        let now = Self.origin + 8 * Self.day
        try store.compact(now: now)
        let before = try store.bucketStats(now: now)
        #expect(before.count == 8)

        let dry = try store.retention(now: now, dryRun: true)
        // Raw: days 0–4 end at or before now − 3 d; 1 m: days 0–2; 1 h and 1 d kept.
        #expect(dry.items.filter { $0.tier == .raw }.map(\.bucketStart) == (0..<5).map { Self.origin + Int64($0) * Self.day })
        #expect(dry.items.filter { $0.tier == .minute }.map(\.bucketStart) == (0..<3).map { Self.origin + Int64($0) * Self.day })
        #expect(dry.items.allSatisfy { $0.tier == .raw ? $0.rows == 288 : true })
        #expect(!dry.items.contains { $0.tier == .hour || $0.tier == .day })
        #expect(try store.bucketStats(now: now) == before)  // a dry run changes nothing

        // Ingest goes on (new readings, in new and kept buckets) while the real run drops.
        let stop = Atomic<Bool>(false)
        let writer = Task.detached {
            var n: Int64 = 0
            while !stop.load(ordering: .relaxed) {
                let ts = now + n * 1000
                try store.commit(self.batch(devices.map { Reading(device: $0, metric: "water_temp", timestamp: ts, value: 20) }))
                n += 1
                await Task.yield()  // blocking commits: leave the (2-thread) pool to the others
            }
            return n
        }
        try await Task.sleep(for: .milliseconds(50))
        let real = try store.retention(now: now, dryRun: false)
        stop.store(true, ordering: .relaxed)
        let written = try await writer.value
        #expect(written > 0)

        #expect(real.items == dry.items)
        let tables = try #require(try store.tableBytes()).keys
        for item in dry.items { #expect(item.tables.allSatisfy { !tables.contains($0) }) }
        // Nothing newer went: days 5–7 intact, the new readings all there.
        let after = try store.bucketStats(now: now)
        #expect(Array(after.suffix(4).prefix(3)) == Array(before.suffix(3)))
        #expect(after.last?.rawReadings == Int(written) * 2)
        #expect(try store.readings(device: "a", from: Self.origin, to: now).count == 3 * 144)
        #expect(try store.aggregates(device: "a", from: Self.origin, to: now, every: Self.day).map(\.count) == Array(repeating: 144, count: 8))
        #expect(try store.aggregates(device: "a", from: Self.origin, to: now, every: 600_000).count == 5 * 144)
        // A second run has nothing left to do.
        #expect(try store.retention(now: now, dryRun: true).items.isEmpty)
    }

    @Test func anOnlineBackupOpensAsAStoreWhileIngestGoesOn() async throws {
        let store = try Store(path: directory.appendingPathComponent("live.db").path, durable: false)
        try store.commit(batch((0..<5000).map { Reading(device: "a", metric: "ph", timestamp: Self.origin + Int64($0) * 60_000, value: 7) }, devices: ["a"]))
        let stop = Atomic<Bool>(false)
        let writer = Task.detached {
            var n: Int64 = 0
            while !stop.load(ordering: .relaxed) {
                try store.commit(self.batch([Reading(device: "a", metric: "ph", timestamp: Self.origin + 10 * Self.day + n, value: 8)]))
                n += 1
                await Task.yield()
            }
        }
        let copy = directory.appendingPathComponent("backup/copy.db").path
        try await Task.sleep(for: .milliseconds(20))
        try store.backup(to: copy)
        stop.store(true, ordering: .relaxed)
        try await writer.value
        #expect { try store.backup(to: copy) } throws: { ($0 as? StoreError)?.code == .conflict }

        let restored = try Store(path: copy, durable: false)
        #expect(try restored.appliedMigrations() == Store.migrationNames)
        let readings = try restored.readings(device: "a", from: 0, to: .max, limit: .max)
        #expect(readings.count >= 5000)
        // A consistent snapshot: rollups agree with the readings the copy holds.
        #expect(try restored.aggregates(device: "a", from: 0, to: .max, every: Self.day).reduce(0) { $0 + $1.count } == readings.count)
        try restored.commit(batch([Reading(device: "a", metric: "ph", timestamp: Self.origin + 20 * Self.day, value: 7.5)]))
        #expect(try restored.latest(device: "a").first?.value == 7.5)
    }
}
