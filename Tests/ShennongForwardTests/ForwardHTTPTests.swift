import Foundation
import Logging
import ShennongAlerts
import ShennongCore
import ShennongForward
import ShennongRules
import ShennongSeal
import ShennongStore
import ShennongTestSupport
import Testing

/// An HTTP target against a real loopback receiver and a real SQLite store: gzip bodies whose
/// HMAC-SHA256 signature covers the bytes as sent, the filter, retries after refusals, the
/// cursor persisted and resumed by a new forwarder (a restart), late readings, alerts.
@Suite("forward: HTTP target", .serialized, .timeLimit(.minutes(3)))
struct ForwardHTTPTests {
    static let t0: Int64 = 1_763_683_200_000
    static let secret = "县中心-共享密钥"

    static func store() throws -> Store {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("forward-\(UUID().uuidString)")
        let store = try Store(path: dir.appendingPathComponent("s.db").path, durable: false)
        try store.upsertDevices([
            Device(id: "p1", profile: "generic", domain: .water, site: "鱼塘A", createdAt: 1),
            Device(id: "s1", profile: "generic", domain: .soil, site: "plot", createdAt: 1),
        ])
        return store
    }

    static func target(_ url: String, format: ForwardTarget.HTTP.Format = .ndjson) -> ForwardTarget {
        var t = ForwardTarget(
            name: "province", transport: .http(.init(url: url, format: format, gzip: true, secret: secret)), areaCode: "445302")
        t.domains = [.water]
        t.batchReadings = 50
        t.pollInterval = 20
        t.minBackoff = 20
        t.maxBackoff = 100
        return t
    }

    static func batch(_ readings: [Reading]) -> IngestBatch {
        var b = IngestBatch()
        b.readings = readings
        return b
    }

    struct Line: Decodable {
        var type: String
        var device: String
        var source: String
        var metric: String?
        var ts: Int64?
        var value: Double?
        var transition: Transition?
        struct Transition: Decodable { var kind: String }
    }

    /// The decoded lines of every request, checking each request's encoding and signature.
    static func lines(_ receiver: WebhookReceiver) throws -> [Line] {
        var out: [Line] = []
        for request in receiver.requests {
            #expect(request.method == "POST")
            #expect(request.headers["content-encoding"] == "gzip")
            #expect(request.headers["content-type"] == "application/x-ndjson")
            // Signed over the body as sent (compressed), so a receiver checks before it inflates.
            #expect(request.headers["x-shennong-signature"] == Webhook.signature(body: request.body, secret: secret))
            let plain = try Gzip.decompress(request.body)
            #expect(request.headers["x-shennong-signature"] != Webhook.signature(body: plain, secret: secret))
            for line in plain.split(separator: 0x0A) {
                out.append(try JSONDecoder().decode(Line.self, from: Data(line)))
            }
        }
        return out
    }

    static func run(_ forwarder: Forwarder) -> Task<Void, Never> {
        Task { try? await forwarder.run() }
    }

    @Test("ndjson + gzip + HMAC: filtered readings in order, retried after refusals, resumed by a new forwarder, alerts")
    func ndjsonDelivery() async throws {
        let store = try Self.store()
        let receiver = try WebhookReceiver(failFirst: 2)
        defer { receiver.stop() }
        let logger = Logger(label: "test.forward")
        let forwarder = Forwarder(targets: [Self.target("http://127.0.0.1:\(receiver.port)/ingest")], store: store, logger: logger)
        var task = Self.run(forwarder)
        // The new target starts at the end of the feed: wait until its cursor is stored.
        #expect(await eventually(timeout: 10) { (try? store.feedState(consumer: "province", key: "cursor")) != nil })

        try store.commit(Self.batch((0..<120).map { Reading(device: "p1", metric: "ph", timestamp: Self.t0 + Int64($0) * 1000, value: 7 + Double($0) / 1000) }
            + (0..<30).map { Reading(device: "s1", metric: "soil_moisture", timestamp: Self.t0 + Int64($0) * 1000, value: 30) }))
        #expect(await eventually(timeout: 20) { ((try? Self.lines(receiver)) ?? []).filter { $0.type == "reading" }.count >= 120 })
        #expect(receiver.attempts >= 3)  // two refusals, then deliveries
        var lines = try Self.lines(receiver)
        let readings = lines.filter { $0.type == "reading" }
        #expect(readings.allSatisfy { $0.device == "445302.p1" && $0.source == "p1" && $0.metric == "ph" })
        #expect(readings.map { $0.ts! } == (0..<120).map { Self.t0 + Int64($0) * 1000 })
        #expect(lines.filter { $0.type == "device" }.map(\.device) == ["445302.p1"])
        #expect(receiver.requests.allSatisfy { $0.headers["x-shennong-delivery"]?.hasPrefix("province-") == true })

        // An alert transition of a wanted device goes too.
        _ = try store.applyRuleEvaluation(
            states: [],
            changes: [
                AlertLevelChange(
                    rule: "do-low", device: "p1", domain: "water", metric: "ph", from: nil, to: .orange, value: 9.5, threshold: 9,
                    at: Self.t0, late: false, title: "pH 偏高", message: "m")
            ], now: Self.t0)
        #expect(await eventually(timeout: 10) { ((try? Self.lines(receiver)) ?? []).contains { $0.type == "alert" } })
        lines = try Self.lines(receiver)
        #expect(lines.first { $0.type == "alert" }?.device == "445302.p1")
        #expect(lines.first { $0.type == "alert" }?.transition?.kind == "raised")

        // A restart: a new forwarder on the same store resumes at the stored cursor.
        task.cancel()
        await task.value
        let before = receiver.requests.count
        try store.commit(Self.batch((120..<130).map { Reading(device: "p1", metric: "ph", timestamp: Self.t0 + Int64($0) * 1000, value: 8) }))
        // A late reading, below everything already forwarded: forwarded too.
        try store.commit(Self.batch([Reading(device: "p1", metric: "ph", timestamp: Self.t0 - 60_000, value: 6.5)]))
        let again = Forwarder(targets: [Self.target("http://127.0.0.1:\(receiver.port)/ingest")], store: store, logger: logger)
        task = Self.run(again)
        #expect(await eventually(timeout: 20) { receiver.requests.count > before && ((try? Self.lines(receiver)) ?? []).filter { $0.type == "reading" }.count >= 131 })
        let after = try Self.lines(receiver).filter { $0.type == "reading" }.dropFirst(120)
        #expect(after.map { $0.ts! } == (120..<130).map { Self.t0 + Int64($0) * 1000 } + [Self.t0 - 60_000])
        // Caught up: the health line says so, and the lag is 0.
        #expect(await eventually(timeout: 10) { again.health()["forward.province"]?.hasPrefix("ok (lag 0 s, 0 readings") == true }, "\(again.health())")
        // Feed entries the target has passed are pruned (every 5 s).
        #expect(await eventually(timeout: 15) { (try? store.commitFeed(after: 0, limit: 10).isEmpty) == true })
        #expect(try store.commitFeedHead() > 0)
        task.cancel()
        await task.value
    }

    @Test("seals: every bucket seal goes upstream in chain order, from the first, and the received chain verifies with the key")
    func sealsForwarded() async throws {
        let chain = try SealChain(signingKey: Array(repeating: 42, count: 32))
        var options = StoreOptions()
        options.sealer = chain.storeSealer
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("forward-seal-\(UUID().uuidString)")
        let store = try Store(path: dir.appendingPathComponent("s.db").path, durable: false, options: options)
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.upsertDevices([Device(id: "p1", profile: "generic", domain: .water, site: "鱼塘A", createdAt: 1)])
        let day: Int64 = 86_400_000
        // Three days of readings, compacted (and sealed) before the target exists.
        try store.commit(Self.batch((0..<3 * 24).map {
            Reading(device: "p1", metric: "ph", timestamp: Self.t0 + Int64($0) * 3_600_000, value: 7 + Double($0 % 5) / 10)
        }))
        try store.compact(now: Self.t0 + 10 * day, shouldContinue: { true })
        let stored = try store.seals(after: 0, limit: 100)
        #expect(stored.count == 3)

        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        var target = Self.target("http://127.0.0.1:\(receiver.port)/ingest")
        target.carries = [.seals]
        let forwarder = Forwarder(targets: [target], store: store, logger: Logger(label: "test.forward"))
        let task = Self.run(forwarder)
        struct SealLine: Decodable {
            var type: String
            var area_code: String
            var seal: BucketSeal
        }
        func received() -> [SealLine] {
            receiver.requests.flatMap { request in
                ((try? Gzip.decompress(request.body)) ?? []).split(separator: 0x0A).compactMap {
                    try? JSONDecoder().decode(SealLine.self, from: Data($0))
                }
            }
        }
        #expect(await eventually(timeout: 15) { received().count >= 3 })
        #expect(received().allSatisfy { $0.type == "seal" && $0.area_code == "445302" })
        #expect(received().map(\.seal) == stored)
        #expect(SealVerifier.checkChain(received().map(\.seal), publicKey: chain.publicKey) == nil)
        #expect(receiver.requests.allSatisfy { $0.headers["x-shennong-signature"] == Webhook.signature(body: $0.body, secret: Self.secret) })

        // A late reading reopens day 2; compacted again, its new seal follows, and only it.
        try store.commit(Self.batch([Reading(device: "p1", metric: "ph", timestamp: Self.t0 + day + 60_000, value: 6.5)]))
        try store.compact(now: Self.t0 + 11 * day, shouldContinue: { true })
        #expect(await eventually(timeout: 15) { received().count >= 4 })
        #expect(received().map(\.seal.sequence) == [1, 2, 3, 4])
        #expect(received().last?.seal.bucketStart == Self.t0 + day)
        task.cancel()
        await task.value
    }

    @Test("senml: readings as a SenML pack (gzip, signed), base names namespaced")
    func senmlDelivery() async throws {
        let store = try Self.store()
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        var target = Self.target("http://127.0.0.1:\(receiver.port)/senml", format: .senml)
        target.carries = [.readings]
        let forwarder = Forwarder(targets: [target], store: store, logger: Logger(label: "test.forward"))
        let task = Self.run(forwarder)
        #expect(await eventually(timeout: 10) { (try? store.feedState(consumer: "province", key: "cursor")) != nil })
        try store.commit(Self.batch([Reading(device: "p1", metric: "ph", timestamp: Self.t0 + 1500, value: 7.25)]))
        #expect(await eventually(timeout: 10) { !receiver.requests.isEmpty })
        task.cancel()
        await task.value
        let request = try #require(receiver.requests.first)
        #expect(request.headers["content-type"] == "application/senml+json")
        #expect(request.headers["x-shennong-signature"] == Webhook.signature(body: request.body, secret: Self.secret))
        struct Record: Decodable {
            var bn: String?
            var n: String
            var t: Double
            var v: Double
        }
        let pack = try JSONDecoder().decode([Record].self, from: Data(try Gzip.decompress(request.body)))
        #expect(pack.count == 1)
        #expect(pack.first?.bn == "445302.p1/" && pack.first?.n == "ph" && pack.first?.t == 1_763_683_201.5 && pack.first?.v == 7.25)
    }

    @Test("an upstream away: the feed is compacted to about one entry per series, and everything still arrives afterwards")
    func compactionWhileAway() async throws {
        let store = try Self.store()
        let away = try WebhookReceiver(failFirst: 1_000_000)
        defer { away.stop() }
        var target = Self.target("http://127.0.0.1:\(away.port)/ingest")
        target.carries = [.readings]
        let logger = Logger(label: "test.forward")
        let first = Forwarder(targets: [target], store: store, logger: logger)
        var task = Self.run(first)
        #expect(await eventually(timeout: 10) { (try? store.feedState(consumer: "province", key: "cursor")) != nil })
        for i in 0..<400 {
            try store.commit(Self.batch([Reading(device: "p1", metric: "ph", timestamp: Self.t0 + Int64(i) * 1000, value: 7)]))
        }
        try store.commit(Self.batch([Reading(device: "p1", metric: "ph", timestamp: Self.t0 - 5000, value: 6)]))  // late
        #expect(try store.commitFeed(after: 0, limit: 1000).count == 401)
        // Compacted on the forwarder's next pass: the entry it may be in, and one merged entry.
        #expect(await eventually(timeout: 15) { ((try? store.commitFeed(after: 0, limit: 1000).count) ?? 999) <= 2 })
        #expect(try store.commitFeedBacklog(after: 0).readings == 401)
        #expect(away.requests.isEmpty && away.attempts > 0)
        task.cancel()
        await task.value

        // The upstream is back (a new address, the same target and cursor): all of it arrives.
        let back = try WebhookReceiver()
        defer { back.stop() }
        target.transport = .http(.init(url: "http://127.0.0.1:\(back.port)/ingest", secret: Self.secret))
        task = Self.run(Forwarder(targets: [target], store: store, logger: logger))
        let expected = Set((0..<400).map { Self.t0 + Int64($0) * 1000 } + [Self.t0 - 5000])
        #expect(await eventually(timeout: 20) { Set(((try? Self.lines(back)) ?? []).compactMap(\.ts)) == expected })
        #expect(back.requests.count <= 12)
        task.cancel()
        await task.value
    }
}
