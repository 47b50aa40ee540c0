import Foundation
import ShennongCore
import Testing

/// The reading doors (`ReadingIngest`, `ReadingQueries`) on every engine.
@Suite("store contract: readings")
struct ReadingContractTests {
    typealias F = Fixture

    @Test("a commit is idempotent on (device, metric, timestamp): the first value is kept", arguments: StoreEngine.all)
    func idempotent(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let r = F.reading("p1", "ph", F.t0, 7.1)
        let first = try store.commit(F.batch([r, r], devices: [F.device("p1")]))
        #expect(first.inserted == 1 && first.duplicates == 1)
        let again = try store.commit(F.batch([F.reading("p1", "ph", F.t0, 9.9)]))
        #expect(again.inserted == 0 && again.duplicates == 1)
        #expect(try store.readings(device: "p1", from: 0, to: F.t0 + 1).map(\.value) == [7.1])
    }

    @Test(
        "one burst of new, late, stored and twice-given readings: each stored once, the first value kept, rollups and latest from what was stored",
        arguments: StoreEngine.all)
    func mixedBurst(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let m: Int64 = 60_000
        try store.commit(
            F.batch(
                [F.reading("p1", "ph", F.t0 + 2 * m, 7.2), F.reading("p1", "ph", F.t0 + 4 * m, 7.4)],
                devices: [F.device("p1"), F.device("p2")]))
        let result = try store.commit(
            F.batch([
                F.reading("p1", "ph", F.t0 + 6 * m, 7.6),  // newer than p1/ph's latest
                F.reading("p1", "ph", F.t0 + 6 * m, 9.9),  // the same key again in the burst
                F.reading("p1", "ph", F.t0 + 4 * m, 9.9),  // stored already
                F.reading("p1", "ph", F.t0 + 3 * m, 7.3),  // late, not stored yet
                F.reading("p1", "ph", F.t0 + 2 * m + 30_000, 7.25),  // late, in a cell that exists
                F.reading("p2", "ph", F.t0 + 5 * m, 6.5),  // a new series
                F.reading("p1", "ph", F.t0 + 7 * m, 7.7),
            ]))
        #expect(result.inserted == 5 && result.duplicates == 2)
        let stored = try store.readings(device: "p1", metric: "ph", from: 0, to: .max)
        #expect(stored.map(\.timestamp) == [2, 2.5, 3, 4, 6, 7].map { F.t0 + Int64($0 * 60_000) })
        #expect(stored.map(\.value) == [7.2, 7.25, 7.3, 7.4, 7.6, 7.7])
        #expect(try store.latest(device: "p1").first?.timestamp == F.t0 + 7 * m)
        #expect(try store.latest(device: "p1").first?.value == 7.7)
        #expect(try store.latest(device: "p2").first?.value == 6.5)
        for every in [m, 3_600_000, F.day] {
            let cells = try store.aggregates(device: "p1", metric: "ph", from: F.t0, to: F.t0 + F.day, every: every)
            let expected = Dictionary(grouping: stored) { $0.timestamp - ($0.timestamp - F.t0) % every }
            #expect(cells.map(\.start) == expected.keys.sorted(), "every \(every)")
            for cell in cells {
                let readings = expected[cell.start] ?? []
                #expect(cell.count == readings.count && cell.sum == readings.map(\.value).reduce(0, +), "every \(every)")
                #expect(cell.first == readings.first?.value && cell.last == readings.last?.value, "every \(every)")
            }
        }
        // The same burst again (a redelivery): nothing new.
        let again = try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 7 * m, 1), F.reading("p2", "ph", F.t0 + 5 * m, 1)]))
        #expect(again.inserted == 0 && again.duplicates == 2)
        #expect(try store.latest(device: "p1").first?.value == 7.7)
    }

    @Test("readings: half-open range, oldest first, metric filter, limit", arguments: StoreEngine.all)
    func rangeQueries(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        var readings: [Reading] = []
        for i in 0..<10 {
            readings.append(F.reading("p1", "ph", F.t0 + Int64(i) * 60_000, Double(i)))
            readings.append(F.reading("p1", "water_temp", F.t0 + Int64(i) * 60_000, 20 + Double(i)))
        }
        // Scrambled: the engine, not the caller, orders.
        try store.commit(F.batch(readings.reversed(), devices: [F.device("p1")]))
        let ph = try store.readings(device: "p1", metric: "ph", from: F.t0 + 60_000, to: F.t0 + 5 * 60_000)
        #expect(ph.map(\.value) == [1, 2, 3, 4])
        #expect(ph.map(\.timestamp) == ph.map(\.timestamp).sorted())
        let all = try store.readings(device: "p1", from: F.t0, to: F.t0 + 10 * 60_000, limit: 1_000)
        #expect(all.count == 20)
        #expect(Set(all.map(\.metric)) == ["ph", "water_temp"])
        #expect(try store.readings(device: "p1", metric: "ph", from: F.t0, to: F.t0 + 10 * 60_000, limit: 3).map(\.value) == [0, 1, 2])
        #expect(try store.readings(device: "nobody", from: 0, to: .max).isEmpty)
    }

    @Test("latest is the newest timestamp, not the last arrival; filters by device, site and domain", arguments: StoreEngine.all)
    func latest(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        try store.commit(
            F.batch(
                [F.reading("p1", "ph", F.t0 + 5000, 7.5), F.reading("s1", "soil_moisture", F.t0, 30)],
                devices: [F.device("p1", .water, site: "pond-farm"), F.device("s1", .soil, site: "plot-3")]))
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 1000, 6.0)]))  // backfill, older
        let pond = try store.latest(site: "pond-farm")
        #expect(pond.count == 1 && pond.first?.timestamp == F.t0 + 5000 && pond.first?.value == 7.5)
        #expect(pond.first?.domain == .water && pond.first?.device == "p1")
        #expect(try store.latest(domain: .soil).map(\.device) == ["s1"])
        #expect(try store.latest(device: "s1").first?.unit == MetricCatalogue.metric(named: "soil_moisture")?.unit)
        #expect(try store.latest().count == 2)
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 9000, 8.0)]))
        #expect(try store.latest(device: "p1").first?.value == 8.0)
    }

    @Test("aggregates equal what the raw readings give, at 1 m, 1 h and 1 d and across late data", arguments: StoreEngine.all)
    func aggregatesMatchRaw(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        // Two days of a reading every 7 minutes, committed in bursts of 50, the second day first
        // (late data lands in an older bucket after the newer one exists).
        var readings: [Reading] = []
        var t = F.t0
        var i = 0
        while t < F.t0 + 2 * F.day {
            readings.append(F.reading("g1", "water_level", t, Double((i * 37) % 101) / 10))
            t += 7 * 60_000
            i += 1
        }
        let secondDay = readings.filter { $0.timestamp >= F.t0 + F.day }
        let firstDay = readings.filter { $0.timestamp < F.t0 + F.day }
        try store.commit(F.batch([], devices: [F.device("g1", .flood)]))
        for chunk in stride(from: 0, to: secondDay.count, by: 50) {
            try store.commit(F.batch(Array(secondDay[chunk..<min(chunk + 50, secondDay.count)])))
        }
        for chunk in stride(from: 0, to: firstDay.count, by: 50) {
            try store.commit(F.batch(Array(firstDay[chunk..<min(chunk + 50, firstDay.count)])))
        }
        // Late inside the cells of the newest reading (its hour and day), in one burst with a
        // reading newer than it, then alone.
        let newest = readings.last!.timestamp
        let inside = [
            F.reading("g1", "water_level", newest - 3 * 60_000, 9.9), F.reading("g1", "water_level", newest + 60_000, 0.1),
        ]
        #expect(try store.commit(F.batch(inside)).inserted == 2)
        let alone = F.reading("g1", "water_level", newest - 5 * 60_000, 4.2)
        #expect(try store.commit(F.batch([alone])).inserted == 1)
        readings += inside + [alone]
        for every in [60_000, 3_600_000, 2 * 3_600_000, F.day] as [Int64] {
            let points = try store.aggregates(device: "g1", metric: "water_level", from: F.t0, to: F.t0 + 2 * F.day, every: every)
            let expected = Dictionary(grouping: readings) { $0.timestamp - ($0.timestamp - F.t0) % every }
            #expect(points.count == expected.count, "every \(every)")
            for p in points {
                let cell = expected[p.start]?.sorted { $0.timestamp < $1.timestamp } ?? []
                #expect(p.count == cell.count, "cell \(p.start) every \(every)")
                #expect(p.min == cell.map(\.value).min() && p.max == cell.map(\.value).max())
                #expect(abs(p.sum - cell.map(\.value).reduce(0, +)) < 1e-9)
                #expect(p.first == cell.first?.value && p.last == cell.last?.value)
            }
        }
    }

    @Test("a burst registers its new devices, their last-seen time and presence", arguments: StoreEngine.all)
    func burstRegistersDevices(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        var batch = F.batch([F.reading("new-1", "ph", F.t0, 7)], devices: [F.device("new-1")])
        batch.markSeen("new-1", at: F.t0 + 10)
        batch.presence["new-1"] = Presence(state: "online", at: F.t0 + 5)
        try store.commit(batch)
        let record = try #require(try store.deviceRecords(id: "new-1").first)
        #expect(record.lastSeen == F.t0 + 10)
        #expect(record.presence == "online" && record.presenceAt == F.t0 + 5)
        #expect(record.metrics == ["ph"])
    }

    @Test("rejects: kept with raw bytes and reason, newest first, since and limit", arguments: StoreEngine.all)
    func rejects(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        var rejects: [RejectRecord] = []
        for i in 0..<5 {
            let code: RejectCode = i == 4 ? .malformedJSON : .nonFinite
            let field: String? = i == 4 ? nil : "ph"
            let payload = Array("{\"ph\": NaN, \"n\": \(i)}".utf8)
            rejects.append(
                RejectRecord(
                    receivedAt: F.t0 + Int64(i) * 1000, topic: "agri/p\(i)/telemetry", device: "p\(i)",
                    payload: payload, code: code, reason: "reason \(i)", field: field))
        }
        let result = try store.commit(F.batch([], rejects: rejects))
        #expect(result.rejects == 5)
        let listed = try store.rejects()
        #expect(listed.map(\.reason) == ["reason 4", "reason 3", "reason 2", "reason 1", "reason 0"])
        #expect(listed.first?.payload == rejects[4].payload && listed.first?.code == .malformedJSON && listed.first?.field == nil)
        #expect(listed.last?.topic == "agri/p0/telemetry" && listed.last?.field == "ph")
        #expect(try store.rejects(since: F.t0 + 3000).count == 2)
        #expect(try store.rejects(limit: 1).map(\.reason) == ["reason 4"])
    }

    @Test("rejects to replay: oldest first, by since, device and code or reason text, never a cut payload; a commit replacing rejects deletes them with its readings", arguments: StoreEngine.all)
    func rejectsToReplay(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        func reject(_ i: Int64, _ device: String, _ code: RejectCode, _ reason: String) -> RejectRecord {
            RejectRecord(
                receivedAt: F.t0 + i * 1000, topic: "agri/\(device)/telemetry", device: i == 2 ? nil : device,
                payload: Array("{\"n\": \(i)}".utf8), code: code, reason: reason, field: "n")
        }
        try store.commit(
            F.batch([], devices: [F.device("p1")], rejects: [
                reject(0, "p1", .unknownMetric, "field n is not a known metric"),
                reject(1, "p2", .outOfRange, "n = 900 is out of range"),
                reject(2, "p1", .unknownMetric, "field n is not a known metric"),
                reject(3, "p1", .payloadTooLarge, "payload too large"),
            ]))
        let all = try store.rejectsToReplay(since: 0, reason: nil, device: nil, limit: 100)
        #expect(all.map(\.receivedAt) == [F.t0, F.t0 + 1000, F.t0 + 2000])
        // The device by its column or, when the reject has none, by its topic.
        #expect(try store.rejectsToReplay(since: 0, reason: nil, device: "p1", limit: 100).map(\.receivedAt) == [F.t0, F.t0 + 2000])
        #expect(try store.rejectsToReplay(since: 0, reason: "out_of_range", device: nil, limit: 100).map(\.device) == ["p2"])
        #expect(try store.rejectsToReplay(since: 0, reason: "not a known", device: nil, limit: 100).count == 2)
        #expect(try store.rejectsToReplay(since: F.t0 + 1000, reason: nil, device: nil, limit: 1).map(\.receivedAt) == [F.t0 + 1000])

        // A replay burst: the first two replaced, one of them still failing under a new reason.
        var batch = F.batch([F.reading("p1", "ph", F.t0, 7.1)])
        batch.replacedRejects = all.prefix(2).compactMap(\.id)
        batch.rejects = [reject(1, "p2", .outOfRange, "n = 900 is still out of range")]
        let result = try store.commit(batch)
        #expect(result.inserted == 1 && result.rejects == 1)
        let left = try store.rejects()
        #expect(left.map(\.reason) == ["payload too large", "field n is not a known metric", "n = 900 is still out of range"])
        #expect(try store.readings(device: "p1", metric: "ph", from: 0, to: .max).count == 1)
    }
}
