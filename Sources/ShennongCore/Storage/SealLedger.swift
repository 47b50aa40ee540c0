/// One seal of a closed (compacted) time bucket (监测数据"上链"): the Merkle root over the
/// bucket's compacted blocks, the hash of the seal before it in the chain, and the server's
/// Ed25519 signature over both.
///
/// Seals form one append-only chain in `sequence` order. A bucket reopened by late readings
/// and compacted again gets a further seal; its latest seal is the one its blocks must match.
/// The value is what a second party keeps (forwarded upstream): the leaf hashes stay home.
/// How roots, hashes and signatures are made and checked is ShennongSeal's business; the
/// engines store and return these.
public struct BucketSeal: Sendable, Hashable, Codable {
    /// Position in the chain, from 1.
    public var sequence: Int64
    /// Start of the bucket (ms, UTC).
    public var bucketStart: Int64
    /// End of the bucket (exclusive).
    public var bucketUntil: Int64
    /// Series (blocks) in the bucket.
    public var series: Int
    /// Readings in those blocks.
    public var readings: Int64
    /// Merkle root over the blocks (RFC 6962 tree hash), lowercase hex.
    public var root: String
    /// ``hash`` of the seal before this one, or 64 zeros for the first.
    public var previous: String
    /// SHA-256 of the signed statement (lowercase hex): what the next seal carries.
    public var hash: String
    /// When it was sealed (ms).
    public var sealedAt: Int64
    /// The signer's Ed25519 public key, lowercase hex.
    public var publicKey: String
    /// Ed25519 signature over the statement, base64.
    public var signature: String

    /// snake_case, as every JSON edge of the server spells its keys.
    enum CodingKeys: String, CodingKey {
        case sequence, series, readings, root, previous, hash, signature
        case bucketStart = "bucket_start"
        case bucketUntil = "bucket_until"
        case sealedAt = "sealed_at"
        case publicKey = "public_key"
    }

    public init(
        sequence: Int64, bucketStart: Int64, bucketUntil: Int64, series: Int, readings: Int64, root: String,
        previous: String, hash: String, sealedAt: Int64, publicKey: String, signature: String
    ) {
        self.sequence = sequence
        self.bucketStart = bucketStart
        self.bucketUntil = bucketUntil
        self.series = series
        self.readings = readings
        self.root = root
        self.previous = previous
        self.hash = hash
        self.sealedAt = sealedAt
        self.publicKey = publicKey
        self.signature = signature
    }
}

/// A seal as an engine stores it: the seal and its leaf list (series key and leaf hash of
/// every block, in tree order, encoded by ShennongSeal), which names an altered series.
public struct SealRecord: Sendable, Hashable {
    public var seal: BucketSeal
    public var leaves: [UInt8]

    public init(seal: BucketSeal, leaves: [UInt8]) {
        self.seal = seal
        self.leaves = leaves
    }
}

/// One compacted block as the seal covers it: the series key (`device/metric`), the
/// encoded block bytes exactly as stored, and its reading count.
public struct SealBlock: Sendable, Hashable {
    public var seriesKey: String
    public var data: [UInt8]
    public var count: Int64

    public init(seriesKey: String, data: [UInt8], count: Int64) {
        self.seriesKey = seriesKey
        self.data = data
        self.count = count
    }
}

/// The sealer a store seals closed buckets with (``StoreOptions/sealer``), compared by the
/// signer's public key.
public struct StoreSealer: Sendable, Hashable {
    /// The signer's public key, lowercase hex.
    public let publicKey: String
    public let sealing: any BucketSealing

    public init(publicKey: String, sealing: any BucketSealing) {
        self.publicKey = publicKey
        self.sealing = sealing
    }

    public static func == (a: StoreSealer, b: StoreSealer) -> Bool { a.publicKey == b.publicKey }
    public func hash(into hasher: inout Hasher) { hasher.combine(publicKey) }
}

/// Makes the seal of a bucket from its blocks and the seal before it (ShennongSeal's
/// `SealChain`); the engines call it inside the transaction that closes the bucket.
public protocol BucketSealing: Sendable {
    func seal(bucketStart: Int64, bucketUntil: Int64, blocks: [SealBlock], previous: BucketSeal?, sealedAt: Int64) throws
        -> SealRecord
}

/// A compacted bucket as the seals see it.
public struct SealedBucketState: Sendable, Hashable {
    public var start: Int64
    public var until: Int64
    /// Blocks exist (false: retention dropped them, or nothing was compacted).
    public var hasBlocks: Bool
    /// Raw readings wait (not compacted yet, or late ones reopened it).
    public var hasRaw: Bool

    public init(start: Int64, until: Int64, hasBlocks: Bool, hasRaw: Bool) {
        self.start = start
        self.until = until
        self.hasBlocks = hasBlocks
        self.hasRaw = hasRaw
    }
}

/// The seal chain of monitoring data in an engine: seals are written in the transaction that
/// closes a bucket when the store has a sealer (``StoreOptions/sealer``); this door lists them
/// (for forwarding and checks), hands out what a verifier recomputes, and seals closed
/// buckets that have none yet (databases from before seals, or compacted without a key).
public protocol SealLedger: Sendable {
    /// Seals after `sequence` (0: from the first), oldest first, at most `limit`: a durable
    /// forwarding cursor is the last sequence sent.
    func seals(after sequence: Int64, limit: Int) throws -> [BucketSeal]
    /// The leaf list stored with seal `sequence`, or `nil` if there is no such seal.
    func sealLeaves(sequence: Int64) throws -> [UInt8]?
    /// The blocks of the bucket starting at `start` as stored now (any order), or `nil`
    /// when the bucket has no blocks.
    func sealBlocks(bucketStart start: Int64) throws -> [SealBlock]?
    /// Every bucket registered, oldest first.
    func sealableBuckets() throws -> [SealedBucketState]
    /// Raw readings (and blocks) of buckets ending at or before this time (ms) were dropped
    /// by retention; `Int64.min` if none were.
    func sealRetentionHorizon() throws -> Int64
    /// Seals, in bucket order and one transaction each, every compacted bucket with no raw
    /// readings waiting whose blocks have no seal yet or changed since its latest seal.
    /// Returns the seals written.
    @discardableResult
    func sealClosedBuckets(with sealer: any BucketSealing, now: Int64?) throws -> [BucketSeal]
    /// Seals the oldest such bucket, in one write transaction; `nil` when there is none.
    /// Compaction runs this between its batches when it has a sealer.
    func sealNextPending(with sealer: any BucketSealing, now: Int64?) throws -> BucketSeal?
}

extension SealLedger {
    /// ``sealNextPending(with:now:)`` until there is nothing left to seal.
    @discardableResult
    public func sealClosedBuckets(with sealer: any BucketSealing, now: Int64?) throws -> [BucketSeal] {
        var written: [BucketSeal] = []
        while let seal = try sealNextPending(with: sealer, now: now) { written.append(seal) }
        return written
    }
}
