import Foundation
import ShennongAlerts
import ShennongCore
import ShennongForward
import ShennongRules
import Testing

/// The pure parts of forwarding: the batch planner and cursor, backoff, templates, encodings,
/// gzip and the signature.
@Suite("forward: pure parts")
struct ForwardUnitTests {
    static func entry(_ seq: Int64, _ ranges: [CommittedRange]) -> CommitFeedEntry {
        CommitFeedEntry(seq: seq, committedAt: seq * 1000, ranges: ranges)
    }

    static func range(_ device: String, _ from: Int64, _ to: Int64, metric: String = "ph") -> CommittedRange {
        CommittedRange(device: device, metric: metric, from: from, to: to, count: Int(to - from + 1))
    }

    /// A fake store of readings: every integer timestamp in a range holds one reading.
    static func read(_ r: RangeRead) -> [Reading] {
        (r.from...r.to).prefix(r.limit).map { Reading(device: r.device, metric: r.metric, timestamp: $0, value: Double($0)) }
    }

    static func drain(_ planner: inout ReadingBatchPlanner) {
        while let r = planner.nextRead() { planner.take(read(r)) }
    }

    @Test("a batch takes whole entries up to its bound, then resumes mid-range without loss or repetition")
    func plannerBoundsAndResumes() {
        let entries = [Self.entry(1, [Self.range("a", 1, 3), Self.range("b", 1, 2)]), Self.entry(2, [Self.range("a", 4, 10)])]
        var cursor = ForwardCursor(seq: 0)
        var seen: [String] = []
        var batches = 0
        while true {
            var planner = ReadingBatchPlanner(cursor: cursor, entries: entries, capacity: 4, wants: { _ in true })
            Self.drain(&planner)
            if planner.readings.isEmpty && planner.cursor == cursor { break }
            #expect(planner.readings.count <= 4)
            seen += planner.readings.map { "\($0.device)\($0.timestamp)" }
            cursor = planner.cursor
            batches += 1
            if batches > 10 { break }
        }
        #expect(seen == ["a1", "a2", "a3", "b1", "b2", "a4", "a5", "a6", "a7", "a8", "a9", "a10"])
        #expect(cursor == ForwardCursor(seq: 2))
        #expect(batches == 3)
    }

    @Test("a cut range leaves a partial cursor naming the entry, range and last timestamp")
    func partialCursor() {
        let entries = [Self.entry(5, [Self.range("a", 100, 199)])]
        var planner = ReadingBatchPlanner(cursor: ForwardCursor(seq: 4), entries: entries, capacity: 10, wants: { _ in true })
        Self.drain(&planner)
        #expect(planner.readings.map(\.timestamp) == Array(100...109))
        #expect(planner.cursor == ForwardCursor(seq: 4, partial: .init(seq: 5, range: 0, ts: 109)))
        // A cursor whose partial entry is not the next one (already passed) is ignored.
        var other = ReadingBatchPlanner(
            cursor: ForwardCursor(seq: 5, partial: .init(seq: 5, range: 0, ts: 109)), entries: entries, capacity: 10,
            wants: { _ in true })
        Self.drain(&other)
        #expect(other.readings.isEmpty && other.cursor == ForwardCursor(seq: 5))
    }

    @Test("ranges of unwanted devices are passed over: the cursor moves, nothing is read")
    func filteredRanges() {
        let entries = [Self.entry(1, [Self.range("soil-1", 1, 5)]), Self.entry(2, [Self.range("pond-1", 7, 8), Self.range("soil-1", 6, 9)])]
        var planner = ReadingBatchPlanner(cursor: ForwardCursor(seq: 0), entries: entries, capacity: 100, wants: { $0.hasPrefix("pond") })
        var reads = 0
        while let r = planner.nextRead() {
            reads += 1
            planner.take(Self.read(r))
        }
        #expect(reads == 1)
        #expect(planner.readings.map(\.timestamp) == [7, 8])
        #expect(planner.cursor == ForwardCursor(seq: 2))
    }

    @Test("a late reading below what was already forwarded is forwarded again (its own feed entry)")
    func lateReading() {
        // Entry 1 forwarded 10…20; entry 2 is a late reading at 3.
        var planner = ReadingBatchPlanner(
            cursor: ForwardCursor(seq: 1), entries: [Self.entry(1, [Self.range("a", 10, 20)]), Self.entry(2, [Self.range("a", 3, 3)])],
            capacity: 100, wants: { _ in true })
        Self.drain(&planner)
        #expect(planner.readings.map(\.timestamp) == [3])
        #expect(planner.cursor.seq == 2)
    }

    @Test("the cursor round-trips through JSON as stored")
    func cursorJSON() throws {
        let cursor = ForwardCursor(seq: 42, partial: .init(seq: 43, range: 2, ts: 1_763_683_200_000), alertTransition: 7)
        let data = try JSONEncoder().encode(cursor)
        #expect(try JSONDecoder().decode(ForwardCursor.self, from: data) == cursor)
    }

    @Test("backoff doubles from the minimum to the maximum and starts over after a success")
    func backoff() {
        var b = Backoff(minimum: 200, maximum: 3000)
        #expect((0..<6).map { _ in b.failed() } == [200, 400, 800, 1600, 3000, 3000])
        b.succeeded()
        #expect(b.failed() == 200)
        var big = Backoff(minimum: 1000, maximum: .max)
        for _ in 0..<100 { _ = big.failed() }
        #expect(big.failed() > 0)
    }

    @Test("topic templates: placeholders filled, MQTT wildcards and separators in values neutralised")
    func templates() {
        let v = TopicTemplate.Values(device: "pond-1", deviceID: "445302.pond-1", areaCode: "445302", domain: "water", site: nil)
        #expect(TopicTemplate("agri/{device_id}/telemetry").render(v) == "agri/445302.pond-1/telemetry")
        #expect(TopicTemplate("c/{area_code}/{domain}/{site}/{device}").render(v) == "c/445302/water/-/pond-1")
        let evil = TopicTemplate.Values(device: "a/#", deviceID: "x+y", areaCode: "4/4")
        #expect(TopicTemplate("t/{device}/{device_id}/{area_code}").render(evil) == "t/a__/x_y/4_4")
        #expect(TopicTemplate("t/{nope}/{device}").unknownPlaceholders == ["nope"])
        #expect(TopicTemplate("t/{nope}").render(v) == "t/{nope}")
        var target = ForwardTarget(name: "c", transport: .http(.init(url: "http://x")), areaCode: "445302")
        #expect(target.upstreamID(of: nil, id: "pond-1") == "445302.pond-1")
        target.deviceID = "yf-{area_code}-{device}"
        #expect(target.upstreamID(of: nil, id: "pond-1") == "yf-445302-pond-1")
    }

    static let target = ForwardTarget(name: "centre", transport: .http(.init(url: "http://127.0.0.1:1/")), areaCode: "445302")
    static let readings = [
        Reading(device: "p1", metric: "ph", timestamp: 1_763_683_200_000, value: 7.1),
        Reading(device: "p1", metric: "water_temp", timestamp: 1_763_683_200_000, value: 21.5),
        Reading(device: "p2", metric: "ph", timestamp: 1_763_683_201_000, value: 6.9),
        Reading(device: "p1", metric: "ph", timestamp: 1_763_683_260_000, value: 7.2),
    ]

    @Test("telemetry messages: per device, device-timestamped array form, namespaced topic, order kept")
    func telemetry() throws {
        let encoder = ForwardEncoder(target: Self.target, devices: [:])
        let messages = encoder.telemetryMessages(Self.readings, topic: "agri/{device_id}/telemetry")
        #expect(messages.map(\.topic) == ["agri/445302.p1/telemetry", "agri/445302.p2/telemetry"])
        #expect(
            String(decoding: messages[0].payload, as: UTF8.self)
                == #"[{"ts":1763683200000,"values":{"ph":7.1,"water_temp":21.5}},{"ts":1763683260000,"values":{"ph":7.2}}]"#)
        // The payload is one the ingest accepts: form 3 of PayloadDecoder.
        var small = encoder
        small.readingsPerMessage = 1
        #expect(small.telemetryMessages(Self.readings, topic: "t/{device}").count == 3)
    }

    @Test("NDJSON: one object a line with the namespaced id, the source id and the area code")
    func ndjson() throws {
        let encoder = ForwardEncoder(target: Self.target, devices: [:])
        let text = String(decoding: encoder.ndjson(ForwardBatch(readings: Self.readings)), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 4 && text.hasSuffix("\n"))
        #expect(
            lines[0]
                == #"{"area_code":"445302","device":"445302.p1","metric":"ph","source":"p1","ts":1763683200000,"type":"reading","value":7.1}"#)
    }

    @Test("NDJSON device lines: the namespaced id, the source id, both area codes and what the device is; absent fields left out")
    func ndjsonDevices() {
        let full = Device(
            id: "p1", profile: "pond-do", domain: .water, site: "pond-3", name: "3号塘", latitude: 22.9, longitude: 112.04,
            areaCode: "445302001", owner: "farm", createdAt: 1, attributes: ["depth_cm": 120])
        let bare = Device(id: "s2", profile: "soil", domain: .soil, createdAt: 2)
        let encoder = ForwardEncoder(target: Self.target, devices: [:])
        let lines = String(decoding: encoder.ndjson(ForwardBatch(devices: [full, bare])), as: UTF8.self).split(separator: "\n")
        #expect(
            lines == [
                #"{"area_code":"445302","attributes":{"depth_cm":120},"device":"445302.p1","device_area_code":"445302001","domain":"water","latitude":22.9,"longitude":112.04,"name":"3号塘","profile":"pond-do","site":"pond-3","source":"p1","type":"device"}"#,
                #"{"area_code":"445302","attributes":{},"device":"445302.s2","domain":"soil","profile":"soil","source":"s2","type":"device"}"#,
            ])
    }

    @Test("SenML: a pack with a base name where the device changes, times in seconds")
    func senml() throws {
        let encoder = ForwardEncoder(target: Self.target, devices: [:])
        let pack = try JSONDecoder().decode([[String: JSONAny]].self, from: Data(encoder.senml(Self.readings)))
        #expect(pack.count == 4)
        #expect(pack[0]["bn"] == .string("445302.p1/") && pack[1]["bn"] == nil && pack[2]["bn"] == .string("445302.p2/"))
        #expect(pack[3]["bn"] == .string("445302.p1/"))
        #expect(pack[0]["t"] == .number(1_763_683_200) && pack[0]["n"] == .string("ph") && pack[0]["v"] == .number(7.1))
        let bodies = encoder.httpBodies(ForwardBatch(readings: Self.readings), format: .senml)
        #expect(bodies.map(\.contentType) == ["application/senml+json"])
    }

    @Test("gzip: zlib's gzip member, read back by the system gunzip")
    func gzip() throws {
        let input = Array(String(repeating: "溶解氧 dissolved oxygen 5.2\n", count: 500).utf8)
        let packed = try Gzip.compress(input)
        #expect(packed.count < input.count / 5)
        #expect(Array(packed.prefix(2)) == [0x1F, 0x8B])
        #expect(try Gzip.decompress(packed) == input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc"]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(packed))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(Array(out) == input)
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array("not gzip".utf8)) }
    }

    @Test("the signature is HMAC-SHA256 of the body as sent (RFC 4231 case 2)")
    func signature() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        #expect(
            Webhook.signature(body: Array("what do ya want for nothing?".utf8), secret: "Jefe")
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("the filter: domains and sites; an unknown device passes only an empty filter")
    func filter() {
        var t = Self.target
        let pond = Device(id: "p1", profile: "generic", domain: .water, site: "鱼塘A", createdAt: 1)
        let plot = Device(id: "s1", profile: "generic", domain: .soil, site: "plot", createdAt: 1)
        #expect(t.wants(pond) && t.wants(plot) && t.wants(nil))
        t.domains = [.water]
        #expect(t.wants(pond) && !t.wants(plot) && !t.wants(nil))
        t.sites = ["plot"]
        #expect(!t.wants(pond))
    }
}

/// Just enough JSON to compare decoded values.
enum JSONAny: Decodable, Equatable {
    case string(String)
    case number(Double)
    case other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else {
            self = .other
        }
    }
}
