import ShennongCore
import Crypto
import Foundation

/// Kinds of chained records.
public enum TraceRecordKind: String, Sendable, Codable, CaseIterable {
    case producer, plot, batch, certificate, inspection, event, environment, codes, recall, seal
}

/// The envelope every chained record's payload is: what, where in which chain, when, by
/// whom, and the data. Its canonical JSON (sorted keys, no whitespace, snake_case) is the
/// payload that is hashed and stored.
public struct TraceEnvelope<Data: Codable & Sendable>: Codable, Sendable {
    public var chain: String
    public var seq: Int64
    public var kind: TraceRecordKind
    public var subject: String
    public var batch: String?
    public var item: String?
    public var recordedAt: Int64
    public var recordedBy: String
    public var data: Data

    enum CodingKeys: String, CodingKey {
        case chain, seq, kind, subject, batch, item, data
        case recordedAt = "recorded_at"
        case recordedBy = "recorded_by"
    }
}

/// Canonical JSON and the hashes of the chain.
///
/// - `content_hash = SHA-256(payload)`, the payload being the record's canonical JSON
///   (UTF-8, keys sorted, no whitespace);
/// - `hash = SHA-256(prev_hash ‖ content_hash)` over the two lower-case hex strings (ASCII),
///   `prev_hash` being the hash of the record before (64 zeros for the first).
///
/// Anyone holding the payloads can recompute both without Shennong (README, "Traceability").
public enum TraceHashing {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// Plain: every payload type spells its snake_case keys (`CodingKeys`), which the
    /// encoder's key strategy leaves as they are.
    static let decoder = JSONDecoder()

    /// Canonical JSON of `value`.
    public static func canonicalJSON(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes a canonical JSON payload.
    public static func decode<T: Decodable>(_ type: T.Type, from payload: String) throws -> T {
        try decoder.decode(type, from: Foundation.Data(payload.utf8))
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).map { hex2($0) }.joined()
    }

    /// The link hash of a record.
    public static func linkHash(prev: String, content: String) -> String {
        sha256Hex(Array((prev + content).utf8))
    }

    /// SHA-256 over the sorted canonical codes, one per line: what a `codes` record holds.
    public static func codesDigest(_ codes: [String]) -> String {
        var hash = SHA256()
        for code in codes.sorted() {
            hash.update(data: Array(code.utf8))
            hash.update(data: [0x0A])
        }
        return hash.finalize().map { hex2($0) }.joined()
    }

    static func hex2(_ b: UInt8) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    /// Builds the stored row of a record continuing a chain at `seq` after `prev`.
    static func row<D: Codable & Sendable>(
        chain: String, seq: Int64, prev: String, kind: TraceRecordKind, subject: String, batch: String?,
        item: String?, at: Int64, by: String, data: D
    ) throws -> TraceRecordRow {
        let envelope = TraceEnvelope(
            chain: chain, seq: seq, kind: kind, subject: subject, batch: batch, item: item, recordedAt: at,
            recordedBy: by, data: data)
        let payload = try canonicalJSON(envelope)
        let content = sha256Hex(Array(payload.utf8))
        return TraceRecordRow(
            chain: chain, seq: seq, kind: kind.rawValue, subject: subject, batch: batch, item: item, payload: payload,
            contentHash: content, prevHash: prev, hash: linkHash(prev: prev, content: content), recordedAt: at)
    }
}

/// The first broken link of a chain, as `trace verify` names it.
public struct ChainBreak: Sendable, Hashable, Codable, CustomStringConvertible {
    public var chain: String
    public var seq: Int64
    public var kind: String
    public var subject: String
    public var reason: String

    public var description: String { "\(chain) #\(seq) (\(kind) \(subject)): \(reason)" }
}

/// What `trace verify` found.
public struct VerifyReport: Sendable, Codable {
    public var chains: Int
    public var records: Int
    public var codes: Int
    public var seals: Int
    /// The first broken link of each broken chain (empty when everything holds).
    public var breaks: [ChainBreak]
    public var ok: Bool { breaks.isEmpty }
}

/// Header fields of any payload (the data left undecoded).
struct EnvelopeHeader: Decodable {
    var chain: String
    var seq: Int64
    var kind: TraceRecordKind
    var subject: String
    var batch: String?
    var item: String?
    var recordedAt: Int64

    enum CodingKeys: String, CodingKey {
        case chain, seq, kind, subject, batch, item
        case recordedAt = "recorded_at"
    }
}

enum ChainVerifier {
    /// Recomputes every hash of `rows` (one chain, in order) and checks that the columns
    /// agree with the payload; for batch chains also the codes of each issue and the seals.
    static func verify(
        chain: String, rows: [TraceRecordRow], store: any TraceLedger, publicKey: Curve25519.Signing.PublicKey?
    ) throws -> (codes: Int, seals: Int, broken: ChainBreak?) {
        var prev = traceGenesisHash
        var codes = 0
        var seals = 0
        var hashes: [Int64: String] = [:]
        func broken(_ row: TraceRecordRow, _ reason: String) -> (Int, Int, ChainBreak?) {
            (codes, seals, ChainBreak(chain: chain, seq: row.seq, kind: row.kind, subject: row.subject, reason: reason))
        }
        let counts = chain.hasPrefix("batch:") ? try store.traceCodeCounts(batch: String(chain.dropFirst(6))) : [:]
        var issued: Set<Int64> = []
        for (i, row) in rows.enumerated() {
            guard row.seq == Int64(i) else { return broken(row, "expected record #\(i) here: a record is missing") }
            guard row.prevHash == prev else {
                return broken(row, "prev_hash \(row.prevHash.prefix(12))… does not match the hash of #\(i - 1)")
            }
            let content = TraceHashing.sha256Hex(Array(row.payload.utf8))
            guard content == row.contentHash else {
                return broken(row, "content changed: SHA-256 of the payload is \(content.prefix(12))…, recorded \(row.contentHash.prefix(12))…")
            }
            guard TraceHashing.linkHash(prev: prev, content: content) == row.hash else {
                return broken(row, "link hash does not match SHA-256(prev_hash ‖ content_hash)")
            }
            guard let header = try? TraceHashing.decode(EnvelopeHeader.self, from: row.payload) else {
                return broken(row, "payload is not a trace record")
            }
            guard header.chain == row.chain, header.seq == row.seq, header.kind.rawValue == row.kind,
                header.subject == row.subject, header.batch == row.batch, header.item == row.item,
                header.recordedAt == row.recordedAt
            else {
                return broken(row, "columns differ from the hashed payload (chain, seq, kind, subject, batch, item or time)")
            }
            hashes[row.seq] = row.hash
            if header.kind == .codes, let batch = row.batch {
                guard let issue = try? TraceHashing.decode(TraceEnvelope<CodeIssue>.self, from: row.payload).data else {
                    return broken(row, "payload is not a code issue")
                }
                let stored = try store.traceCodes(batch: batch, issueSeq: row.seq)
                guard stored.count == issue.count, TraceHashing.codesDigest(stored) == issue.digest else {
                    return broken(row, "codes of this issue changed: \(stored.count) in the table, \(issue.count) issued, digest differs")
                }
                codes += stored.count
                issued.insert(row.seq)
            }
            if header.kind == .seal, let batch = row.batch {
                guard let seal = try? TraceHashing.decode(TraceEnvelope<Seal>.self, from: row.payload).data,
                    let signature = Foundation.Data(base64Encoded: seal.signature),
                    let keyBytes = Foundation.Data(base64Encoded: seal.publicKey),
                    let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
                else { return broken(row, "seal is unreadable") }
                guard hashes[seal.headSeq] == seal.head else {
                    return broken(row, "seal covers #\(seal.headSeq) with hash \(seal.head.prefix(12))…, which is not the chain's")
                }
                let message = Seal.message(batch: batch, headSeq: seal.headSeq, head: seal.head, sealedAt: seal.sealedAt)
                guard key.isValidSignature(signature, for: message) else {
                    return broken(row, "Ed25519 signature does not verify")
                }
                if let publicKey, publicKey.rawRepresentation != key.rawRepresentation {
                    return broken(row, "sealed with a key that is not this server's")
                }
                seals += 1
            }
            prev = row.hash
        }
        if let stray = counts.keys.sorted().first(where: { !issued.contains($0) }), let last = rows.last {
            return broken(last, "\(counts[stray]!) codes in the table claim issue #\(stray), which is not a code issue of this chain")
        }
        return (codes, seals, nil)
    }
}
