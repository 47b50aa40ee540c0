import Foundation
import ShennongCore
import ShennongTestSupport
import Testing

@testable import ShennongStore

/// The store on a real SQLite file in a temporary directory.
struct StoreTests {
    let directory: URL
    let store: Store

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        store = try Store(path: directory.appendingPathComponent("s.db").path, durable: false)
    }

    func device(_ id: String, _ domain: Domain = .water, site: String? = nil) -> Device {
        Device(id: id, profile: "generic", domain: domain, site: site, createdAt: 1)
    }

    func batch(_ readings: [Reading], devices: [Device] = []) -> IngestBatch {
        var batch = IngestBatch()
        batch.readings = readings
        batch.newDevices = devices
        return batch
    }

    @Test func commitIsIdempotentOnSeriesAndTimestamp() throws {
        let d = device("p1")
        let r = Reading(device: "p1", metric: "ph", timestamp: 1000, value: 7.1)
        let first = try store.commit(batch([r, r], devices: [d]))
        #expect(first.inserted == 1)
        #expect(first.duplicates == 1)
        let again = try store.commit(batch([Reading(device: "p1", metric: "ph", timestamp: 1000, value: 9.9)]))
        #expect(again.inserted == 0)
        #expect(try store.readings(device: "p1", from: 0, to: 10_000).map(\.value) == [7.1])
    }

    @Test("a burst in any order: every reading stored once, the first of two with one key kept, latest the newest")
    func burstInAnyOrderKeepsTheFirstOfEachKey() throws {
        // 6 devices x 3 metrics x 20 timestamps, scrambled; every key comes twice, the
        // second time with another value (a redelivered, edited message).
        let metrics = ["ph", "water_temp", "dissolved_oxygen"]
        var readings: [Reading] = []
        for d in 0..<6 {
            for m in metrics {
                for t in 0..<20 {
                    readings.append(Reading(device: "q\(d)", metric: m, timestamp: 1_000_000 + Int64(t) * 1000, value: Double(d * 100 + t)))
                }
            }
        }
        // Two scrambled orders: i -> i * p mod n is a permutation for a prime p that does not divide n.
        let n = readings.count
        let first = (0..<n).map { readings[($0 * 7873) % n] }
        let again = (0..<n).map { readings[($0 * 7907) % n] }.map {
            Reading(device: $0.device, metric: $0.metric, timestamp: $0.timestamp, value: -$0.value - 1)
        }
        let result = try store.commit(batch(first + again, devices: (0..<6).map { device("q\($0)") }))
        #expect(result.inserted == readings.count && result.duplicates == readings.count)
        for d in 0..<6 {
            for m in metrics {
                let stored = try store.readings(device: "q\(d)", metric: m, from: 0, to: 2_000_000)
                #expect(stored.map(\.value) == (0..<20).map { Double(d * 100 + $0) }, "q\(d)/\(m)")
            }
            let latest = try store.latest(device: "q\(d)")
            #expect(latest.count == 3 && latest.allSatisfy { $0.value == Double(d * 100 + 19) }, "q\(d)")
        }
    }

    @Test("readings newer than their series' newest go in many to a statement; one that meets a stored key after all (latest behind the readings) rewrites the burst row by row")
    func newestAppendFallsBackWhenLatestIsBehind() throws {
        let start: Int64 = 1_763_700_000_000
        let first = (0..<20).map { Reading(device: "q0", metric: "ph", timestamp: start + Int64($0) * 1000, value: Double($0)) }
        #expect(try store.commit(batch(first, devices: [device("q0")])).inserted == 20)
        // Another process moves `latest` back behind stored readings.
        _ = try sqlite3(directory.appendingPathComponent("s.db").path, "UPDATE latest SET ts = \(start);")
        let burst = [
            Reading(device: "q0", metric: "ph", timestamp: start + 4000, value: 99),  // stored already
            Reading(device: "q0", metric: "ph", timestamp: start + 21_000, value: 21),
            Reading(device: "q0", metric: "ph", timestamp: start + 22_000, value: 22),
        ]
        let result = try store.commit(batch(burst))
        #expect(result.inserted == 2 && result.duplicates == 1)
        let stored = try store.readings(device: "q0", metric: "ph", from: start, to: start + 60_000)
        #expect(stored.map(\.value) == (0..<20).map(Double.init) + [21, 22])
        #expect(try store.latest(device: "q0").first?.value == 22)
        let hour = try store.aggregates(device: "q0", metric: "ph", from: start - start % 3_600_000, to: start + 3_600_000, every: 3_600_000)
        #expect(hour.map(\.count).reduce(0, +) == 22)
        // A long in-order burst after it: many rows a statement, every one stored.
        let next = (23..<223).map { Reading(device: "q0", metric: "ph", timestamp: start + Int64($0) * 1000, value: Double($0)) }
        #expect(try store.commit(batch(next)).inserted == 200)
        #expect(try store.readings(device: "q0", metric: "ph", from: start, to: start + 300_000).count == 222)
    }

    @Test func latestIsTheNewestTimestampNotTheLastArrival() throws {
        try store.commit(batch([Reading(device: "p1", metric: "ph", timestamp: 5000, value: 7.5)], devices: [device("p1", site: "s")]))
        // A backfilled older reading arrives later.
        try store.commit(batch([Reading(device: "p1", metric: "ph", timestamp: 1000, value: 6.0)]))
        let latest = try store.latest(site: "s")
        #expect(latest.count == 1)
        #expect(latest.first?.timestamp == 5000)
        #expect(latest.first?.value == 7.5)
        #expect(latest.first?.unit == "")
        try store.commit(batch([Reading(device: "p1", metric: "ph", timestamp: 9000, value: 8.0)]))
        #expect(try store.latest(device: "p1").first?.value == 8.0)
        #expect(try store.latest(domain: .soil).isEmpty)
    }

    @Test func aggregatesMatchTheRawReadings() throws {
        let readings = (0..<180).map { Reading(device: "a1", metric: "air_temp", timestamp: 1_763_700_000_000 + Int64($0) * 60_000, value: Double($0 % 7)) }
        try store.commit(batch(readings, devices: [device("a1", .weather)]))
        let hourly = try store.aggregates(device: "a1", metric: "air_temp", from: 1_763_700_000_000, to: 1_763_700_000_000 + 3 * 3_600_000, every: 3_600_000)
        var expected: [Int64: [Double]] = [:]
        for r in readings { expected[r.timestamp - r.timestamp % 3_600_000, default: []].append(r.value) }
        #expect(hourly.map(\.start) == expected.keys.sorted())
        for point in hourly {
            let values = expected[point.start]!
            #expect(point.count == values.count)
            #expect(point.sum == values.reduce(0, +))
            #expect(point.min == values.min())
            #expect(point.max == values.max())
            #expect(point.first == values.first)
            #expect(point.last == values.last)
        }
    }

    @Test func aFailedCommitStoresNothingAndLeavesNoStaleSeriesIDs() throws {
        try store.commit(batch([], devices: [device("p1")]))
        // A reading for a device that is not registered violates the series foreign key.
        var bad = batch([Reading(device: "p1", metric: "ph", timestamp: 1, value: 7), Reading(device: "ghost", metric: "ph", timestamp: 1, value: 7)])
        bad.rejects = [RejectRecord(receivedAt: 1, topic: "t", device: nil, payload: [1], code: .malformedJSON, reason: "x")]
        #expect(throws: (any Error).self) { try store.commit(bad) }
        #expect(try store.stats().readings == 0)
        #expect(try store.stats().rejects == 0)
        #expect(try store.stats().series == 0)
        // The series id allocated in the rolled-back transaction must not be reused from a cache.
        try store.commit(batch([Reading(device: "p1", metric: "water_temp", timestamp: 2, value: 20)]))
        try store.commit(batch([Reading(device: "p1", metric: "ph", timestamp: 3, value: 7.2)]))
        #expect(try store.readings(device: "p1", metric: "ph", from: 0, to: 10).map(\.value) == [7.2])
        #expect(try store.readings(device: "p1", metric: "water_temp", from: 0, to: 10).map(\.value) == [20])
    }

    @Test func rejectsKeepRawBytesAndCapHugePayloads() throws {
        var b = IngestBatch()
        let huge = [UInt8](repeating: 0x61, count: Store.maxStoredRejectBytes + 10)
        b.rejects = [
            RejectRecord(receivedAt: 10, topic: "agri/x/telemetry", device: "x", payload: Array("{bad".utf8), code: .malformedJSON, reason: "bad json"),
            RejectRecord(receivedAt: 20, topic: "agri/y/telemetry", device: "y", payload: huge, code: .payloadTooLarge, reason: "too big"),
        ]
        try store.commit(b)
        let rejects = try store.rejects()
        #expect(rejects.map(\.code) == [.payloadTooLarge, .malformedJSON])
        #expect(rejects[1].payload == Array("{bad".utf8))
        #expect(rejects[0].payload.count == Store.maxStoredRejectBytes)
        #expect(rejects[0].reason.contains("cut"))
        #expect(try store.rejects(since: 15).count == 1)
    }

    @Test func tokensStoreOnlyHashesAndCarryRoles() throws {
        let secret = try store.createToken(name: "ops", role: .operator)
        #expect(secret.hasPrefix("snk_"))
        #expect(try store.authenticate(token: secret)?.role == .operator)
        // One hex digit changed (never to itself).
        #expect(try store.authenticate(token: secret.dropLast() + (secret.hasSuffix("0") ? "1" : "0")) == nil)
        #expect(try store.authenticate(token: "nonsense") == nil)
        let raw = try String(contentsOfFile: store.path, encoding: .isoLatin1)
        #expect(!raw.contains(secret))
        #expect(Role.viewer < .operator && Role.operator < .admin)
    }

    @Test func presenceAndLastSeen() throws {
        var b = batch([Reading(device: "f1", metric: "smoke", timestamp: 5, value: 0.1)], devices: [device("f1", .fire)])
        b.markSeen("f1", at: 100)
        b.markSeen("f1", at: 50)
        b.presence["f1"] = Presence(state: "online", at: 100)
        try store.commit(b)
        var older = IngestBatch()
        older.presence["f1"] = Presence(state: "offline", at: 90)
        try store.commit(older)
        let record = try #require(try store.deviceRecords(id: "f1").first)
        #expect(record.lastSeen == 100)
        #expect(record.presence == "online")
        #expect(record.metrics == ["smoke"])
    }

    @Test func refusesFilesThatAreNotOurs() throws {
        let notSQLite = directory.appendingPathComponent("text.db").path
        try "hello, this is not a database at all, just some text that is long enough".write(toFile: notSQLite, atomically: true, encoding: .utf8)
        #expect { try Store(path: notSQLite) } throws: { ($0 as? StoreError)?.code == .notADatabase }

        let foreign = directory.appendingPathComponent("foreign.db").path
        let other = try Store(path: directory.appendingPathComponent("tmp.db").path)
        try other.close()
        // A SQLite file of another application: a table, no application id.
        try sqlite3(foreign, "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT);")
        #expect { try Store(path: foreign) } throws: { ($0 as? StoreError)?.code == .foreignDatabase }
    }

    @Test func reopeningKeepsDataAndSchema() throws {
        try store.commit(batch([Reading(device: "p1", metric: "ph", timestamp: 1, value: 7)], devices: [device("p1")]))
        try store.close()
        let again = try Store(path: store.path)
        #expect(try again.appliedMigrations() == Store.migrationNames)
        #expect(Store.migrationNames.prefix(3) == [Store.v1Name, Store.v2Name, Store.v3Name])
        #expect(try again.readings(device: "p1", from: 0, to: 10).count == 1)
    }
}
