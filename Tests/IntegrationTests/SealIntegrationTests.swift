import Foundation
import ShennongCore
import ShennongStore
import ShennongTestSupport
import Testing

/// Sealed monitoring data through the real CLI on a real SQLite file: `db compact` seals,
/// `db verify` recomputes, and changes made by hand with the sqlite3 tool are named by series
/// and bucket with exit 1.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SealIntegrationTests {
    static let day: Int64 = 86_400_000
    /// 2025-11-21T00:00:00Z.
    static let t0: Int64 = 1_763_683_200_000
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seal-\(UUID().uuidString)")
    var path: String { directory.appendingPathComponent("s.db").path }
    /// No configuration file: the defaults, the signing key beside the database.
    var common: [String] { ["--db", path, "--config", directory.appendingPathComponent("none.yaml").path] }

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Three days of readings every 5 minutes for two ponds, two metrics each.
    func fill() throws {
        let store = try Store(path: path)
        var batch = IngestBatch()
        for i in 0..<(3 * 288) {
            let t = Self.t0 + Int64(i) * 300_000
            for pond in ["p1", "p2"] {
                batch.readings.append(Reading(device: pond, metric: "dissolved_oxygen", timestamp: t, value: 5 + Double(i % 40) / 10))
                batch.readings.append(Reading(device: pond, metric: "ph", timestamp: t, value: 7 + Double(i % 9) / 100))
            }
        }
        batch.newDevices = ["p1", "p2"].map { Device(id: $0, profile: "generic", domain: .water, createdAt: 1) }
        try store.commit(batch)
        try store.close()
    }

    @discardableResult
    func sqlite(_ script: String) throws -> String {
        try sqlite3(path, script).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func series(_ device: String, _ metric: String) -> String {
        "(SELECT id FROM series WHERE device = '\(device)' AND metric = '\(metric)')"
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// A value of a `db verify` item.
    enum Value: Decodable, Equatable {
        case string(String), number(Double), null

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let n = try? c.decode(Double.self) {
                self = .number(n)
            } else {
                self = .string(try c.decode(String.self))
            }
        }
    }

    struct Item: Decodable {
        var item: String
        var value: Value?
    }

    /// `db verify` as JSON: its items by name, and the exit status.
    func verify(_ extra: [String] = []) throws -> (status: Int32, items: [String: Value], output: String) {
        let result = try ShennongBinary.run(["db", "verify", "--format", "json"] + common + extra)
        let rows = try JSONDecoder().decode([Item].self, from: Data(result.output.utf8))
        var items: [String: Value] = [:]
        for row in rows { items[row.item] = row.value ?? .null }
        return (result.status, items, result.output)
    }

    @Test("db compact seals; a value changed by hand, a deleted block, a forged signature and a broken link fail db verify")
    func tamperingIsNamed() throws {
        try fill()
        let compact = try ShennongBinary.run(["db", "compact", "--format", "json"] + common)
        #expect(compact.status == 0, "\(compact.output)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("trace-signing-key").path))
        #expect(try sqlite("SELECT count(*) FROM bucket_seals;") == "3")

        let intact = try ShennongBinary.run(["db", "verify"] + common)
        #expect(intact.status == 0, "\(intact.output)")
        #expect(intact.output.contains("监测数据封存完好：3 个分桶、12 个序列数据块、3456 条读数"), "\(intact.output)")
        let english = try ShennongBinary.run(["db", "verify"] + common, environment: ["SHENNONG_LANG": "en"])
        #expect(english.status == 0 && english.output.contains("Sealed monitoring data intact: 3 buckets"), "\(english.output)")

        // One pH value of p1 on 22 November changed by hand: decode the blob, change, re-encode, write.
        let stamp = "20251122"
        let hex = try sqlite("SELECT hex(data) FROM blk_\(stamp) WHERE series_id = \(Self.series("p1", "ph"));")
        var points = try BlockCodec.decodePoints(Self.bytes(hex: hex))
        points[42] = Point(ts: points[42].ts, value: 9.99)
        let altered = BlockCodec.encode(points: points, maxPrecision: 2).map { String(format: "%02X", $0) }.joined()
        try sqlite("UPDATE blk_\(stamp) SET data = X'\(altered)' WHERE series_id = \(Self.series("p1", "ph"));")
        var result = try verify()
        #expect(result.status == 1, "\(result.output)")
        #expect(result.items["result"] == .string("altered") && result.items["series"] == .string("p1/ph"))
        #expect(result.items["bucket_ms"] == .number(Double(Self.t0 + Self.day)), "\(result.output)")
        let table = try ShennongBinary.run(["db", "verify"] + common)
        #expect(table.status == 1 && table.output.contains("封存数据被改动：序列 p1/ph，分桶 2025-11-22"), "\(table.output)")
        // Outside the range asked for, the change is not looked at.
        #expect(try verify(["--from", "2025-11-23T00:00:00Z"]).status == 0)

        try sqlite("UPDATE blk_\(stamp) SET data = X'\(hex)' WHERE series_id = \(Self.series("p1", "ph"));")
        #expect(try verify().status == 0, "the original bytes verify again")

        // A block deleted.
        try sqlite("DELETE FROM blk_20251123 WHERE series_id = \(Self.series("p2", "dissolved_oxygen"));")
        result = try verify()
        #expect(result.status == 1 && result.items["result"] == .string("deleted"))
        #expect(result.items["series"] == .string("p2/dissolved_oxygen") && result.items["bucket_ms"] == .number(Double(Self.t0 + 2 * Self.day)))
        #expect(try verify(["--to", "2025-11-23T00:00:00Z"]).status == 0, "the first two days are intact")

        // A forged signature, then a broken link, in the first two days.
        let signature = try sqlite("SELECT signature FROM bucket_seals WHERE seq = 1;")
        let forged = (signature.first == "A" ? "B" : "A") + signature.dropFirst()
        try sqlite("UPDATE bucket_seals SET signature = '\(forged)' WHERE seq = 1;")
        result = try verify(["--to", "2025-11-23T00:00:00Z"])
        #expect(result.status == 1 && result.items["result"] == .string("signature") && result.items["seal"] == .number(1))
        try sqlite("UPDATE bucket_seals SET signature = '\(signature)' WHERE seq = 1;")
        try sqlite("UPDATE bucket_seals SET prev = '\(String(repeating: "f", count: 64))' WHERE seq = 2;")
        result = try verify(["--to", "2025-11-23T00:00:00Z"])
        #expect(result.status == 1 && result.items["result"] == .string("chain") && result.items["seal"] == .number(2))
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("a database compacted before seals is sealed by db seal (or the maintenance pass), in bucket order, and then verifies")
    func sealExisting() throws {
        try fill()
        let store = try Store(path: path)
        try store.compact(now: Self.t0 + 10 * Self.day)
        try store.close()
        #expect(try sqlite("SELECT count(*) FROM bucket_seals;") == "0")
        var result = try verify()
        #expect(result.status == 0 && result.items["unsealed"] == .number(3), "\(result.output)")

        let sealed = try ShennongBinary.run(["db", "seal", "--format", "json"] + common)
        #expect(sealed.status == 0, "\(sealed.output)")
        #expect(try sqlite("SELECT group_concat(bucket) FROM (SELECT bucket FROM bucket_seals ORDER BY seq);")
            == "\(Self.t0),\(Self.t0 + Self.day),\(Self.t0 + 2 * Self.day)")
        let again = try ShennongBinary.run(["db", "seal"] + common)
        #expect(again.status == 0 && again.output.contains("没有待封存的分桶"), "\(again.output)")
        result = try verify()
        #expect(result.status == 0 && result.items["buckets"] == .number(3) && result.items["unsealed"] == .number(0))

        // A fourth day compacted without the key: the maintenance pass (`db compact`) seals it.
        let later = try Store(path: path)
        var batch = IngestBatch()
        batch.readings = (0..<288).map {
            Reading(device: "p1", metric: "ph", timestamp: Self.t0 + 3 * Self.day + Int64($0) * 300_000, value: 7.1)
        }
        try later.commit(batch)
        try later.compact(now: Self.t0 + 10 * Self.day)
        try later.close()
        #expect(try verify().items["unsealed"] == .number(1))
        let compact = try ShennongBinary.run(["db", "compact"] + common)
        #expect(compact.status == 0, "\(compact.output)")
        #expect(try sqlite("SELECT seq || ':' || bucket || ':' || readings FROM bucket_seals ORDER BY seq DESC LIMIT 1;")
            == "4:\(Self.t0 + 3 * Self.day):288")
        result = try verify()
        #expect(result.status == 0 && result.items["buckets"] == .number(4) && result.items["unsealed"] == .number(0))
        try? FileManager.default.removeItem(at: directory)
    }
}
