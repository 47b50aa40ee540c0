import Crypto
import Foundation
import ShennongCore

/// Makes and checks bucket seals: the Merkle root over a bucket's blocks, chained to the seal
/// before it and signed with the server's Ed25519 key (the trace signing key).
///
/// The signed statement is ASCII lines, each ending in `\n`:
/// `shennong-seal/1`, sequence, bucket start, bucket end, series, readings, root (hex),
/// previous hash (hex), sealed at — integers in decimal. The seal's hash is SHA-256 of the
/// statement; the signature is Ed25519 over the statement.
public struct SealChain: BucketSealing {
    let key: Curve25519.Signing.PrivateKey

    /// The seal chain of the 32-byte Ed25519 private key `signingKey`.
    public init(signingKey: [UInt8]) throws {
        key = try Curve25519.Signing.PrivateKey(rawRepresentation: signingKey)
    }

    /// The public key, lowercase hex (as in every seal it signs).
    public var publicKey: String { Hex.encode(Array(key.publicKey.rawRepresentation)) }

    /// The store's sealer of this key (``StoreOptions/sealer``).
    public var storeSealer: StoreSealer { StoreSealer(publicKey: publicKey, sealing: self) }

    /// The previous hash of the first seal.
    public static let genesis = String(repeating: "0", count: 64)

    public func seal(bucketStart: Int64, bucketUntil: Int64, blocks: [SealBlock], previous: BucketSeal?, sealedAt: Int64)
        throws -> SealRecord
    {
        let leaves = Self.leaves(of: blocks)
        var seal = BucketSeal(
            sequence: (previous?.sequence ?? 0) + 1, bucketStart: bucketStart, bucketUntil: bucketUntil, series: blocks.count,
            readings: blocks.reduce(0) { $0 + $1.count }, root: Hex.encode(MerkleTree.root(leaves: leaves.map(\.hash))),
            previous: previous?.hash ?? Self.genesis, hash: "", sealedAt: sealedAt, publicKey: publicKey, signature: "")
        let statement = Self.statement(seal)
        seal.hash = Hex.encode(Array(SHA256.hash(data: statement)))
        seal.signature = try key.signature(for: statement).base64EncodedString()
        return SealRecord(seal: seal, leaves: Self.encode(leaves: leaves))
    }

    /// The bytes a seal signs and hashes.
    public static func statement(_ seal: BucketSeal) -> [UInt8] {
        let lines = [
            "shennong-seal/1", "\(seal.sequence)", "\(seal.bucketStart)", "\(seal.bucketUntil)", "\(seal.series)",
            "\(seal.readings)", seal.root, seal.previous, "\(seal.sealedAt)",
        ]
        return Array(lines.map { $0 + "\n" }.joined().utf8)
    }

    /// True when `seal.hash` is the hash of its statement.
    public static func hashMatches(_ seal: BucketSeal) -> Bool {
        Hex.encode(Array(SHA256.hash(data: statement(seal)))) == seal.hash
    }

    /// True when `seal.signature` is a valid Ed25519 signature of its statement by `publicKey`
    /// (hex; default: the key the seal names).
    public static func signatureValid(_ seal: BucketSeal, publicKey: String? = nil) -> Bool {
        guard let keyBytes = Hex.decode(publicKey ?? seal.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes),
            let signature = Data(base64Encoded: seal.signature)
        else { return false }
        return key.isValidSignature(signature, for: Data(statement(seal)))
    }

    /// One leaf: a series key and its leaf hash.
    public struct Leaf: Sendable, Hashable {
        public var seriesKey: String
        public var hash: [UInt8]

        public init(seriesKey: String, hash: [UInt8]) {
            self.seriesKey = seriesKey
            self.hash = hash
        }
    }

    /// The leaves of `blocks` in tree order.
    public static func leaves(of blocks: [SealBlock]) -> [Leaf] {
        blocks.sorted { MerkleTree.precedes($0.seriesKey, $1.seriesKey) }.map {
            Leaf(seriesKey: $0.seriesKey, hash: MerkleTree.leafHash(key: $0.seriesKey, block: $0.data))
        }
    }

    /// The stored form of a leaf list: version byte 1, then per leaf u16be key length, the
    /// key (UTF-8) and the 32-byte hash.
    public static func encode(leaves: [Leaf]) -> [UInt8] {
        var out: [UInt8] = [1]
        for leaf in leaves {
            let key = Array(leaf.seriesKey.utf8.prefix(Int(UInt16.max)))
            out.append(UInt8(key.count >> 8))
            out.append(UInt8(key.count & 0xFF))
            out += key
            out += leaf.hash
        }
        return out
    }

    /// The leaf list of ``encode(leaves:)``, or `nil` if the bytes are not one.
    public static func decode(leaves bytes: [UInt8]) -> [Leaf]? {
        guard bytes.first == 1 else { return nil }
        var leaves: [Leaf] = []
        var i = 1
        while i < bytes.count {
            guard i + 2 <= bytes.count else { return nil }
            let n = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            i += 2
            guard i + n + 32 <= bytes.count else { return nil }
            leaves.append(Leaf(seriesKey: String(decoding: bytes[i..<i + n], as: UTF8.self), hash: Array(bytes[i + n..<i + n + 32])))
            i += n + 32
        }
        return leaves
    }
}
