import ShennongCore

/// What went wrong first in a seal check.
public struct SealProblem: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A block's bytes differ from what was sealed.
        case altered
        /// A sealed block is gone.
        case deleted
        /// A block is there that was not sealed.
        case added
        /// The stored leaf list does not give the signed root.
        case leaves
        /// A seal's hash, sequence or previous hash does not follow the seal before it.
        case chain
        /// A seal's signature is not valid.
        case signature
        /// A seal is signed by another key than the server's.
        case key
    }

    public var kind: Kind
    /// The seal concerned.
    public var sequence: Int64
    public var bucketStart: Int64
    public var bucketUntil: Int64
    /// The series (`device/metric`) for `altered`, `deleted` and `added`.
    public var series: String?

    public init(kind: Kind, sequence: Int64, bucketStart: Int64, bucketUntil: Int64, series: String? = nil) {
        self.kind = kind
        self.sequence = sequence
        self.bucketStart = bucketStart
        self.bucketUntil = bucketUntil
        self.series = series
    }
}

/// The outcome of ``SealVerifier/verify(ledger:publicKey:from:to:)``.
public struct SealVerification: Sendable, Hashable, Codable {
    /// Seals in the chain (all checked for hash, link and signature).
    public var seals = 0
    /// Buckets whose blocks were recomputed against their latest seal.
    public var buckets = 0
    /// Blocks (series-buckets) recomputed.
    public var series = 0
    /// Readings in the verified buckets, as sealed.
    public var readings: Int64 = 0
    /// Sealed buckets whose blocks retention has dropped (nothing left to recompute).
    public var retired = 0
    /// Starts of compacted buckets in range with no seal yet (`shennong db seal`).
    public var unsealed: [Int64] = []
    /// Starts of sealed buckets that late readings reopened: their blocks are being rewritten
    /// and are checked again once compaction seals them anew.
    public var reopened: [Int64] = []
    /// Start of the first and end of the last verified bucket.
    public var firstBucket: Int64?
    public var lastUntil: Int64?
    /// The first problem, in chain order then bucket order then series order; `nil`: intact.
    public var problem: SealProblem?

    public var ok: Bool { problem == nil }

    public init() {}
}

/// Recomputes seals from what an engine stores now: the whole chain (hashes, links,
/// signatures) and, for each bucket in range, the Merkle root of its current blocks against
/// its latest seal, naming the first altered, deleted or added series.
public enum SealVerifier {
    /// Checks the seals of `ledger`. `publicKey` (hex) is the server's: a seal signed by
    /// another is refused; `nil` checks each signature against the key the seal names.
    /// Buckets are checked when they overlap `[from, to)`.
    public static func verify(
        ledger: any SealLedger, publicKey: String?, from: Int64? = nil, to: Int64? = nil
    ) throws -> SealVerification {
        var result = SealVerification()
        var chain: [BucketSeal] = []
        while true {
            let page = try ledger.seals(after: chain.last?.sequence ?? 0, limit: 1000)
            guard !page.isEmpty else { break }
            chain += page
        }
        result.seals = chain.count
        if let problem = checkChain(chain, publicKey: publicKey) {
            result.problem = problem
            return result
        }
        var latest: [Int64: BucketSeal] = [:]
        for seal in chain { latest[seal.bucketStart] = seal }
        let inRange = { (start: Int64, until: Int64) in until > (from ?? .min) && start < (to ?? .max) }
        let buckets = try ledger.sealableBuckets()
        let horizon = try ledger.sealRetentionHorizon()
        let state = Dictionary(buckets.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
        for bucket in buckets where bucket.hasBlocks && latest[bucket.start] == nil && inRange(bucket.start, bucket.until) {
            result.unsealed.append(bucket.start)
        }
        for seal in latest.values.sorted(by: { $0.bucketStart < $1.bucketStart })
        where inRange(seal.bucketStart, seal.bucketUntil) {
            guard state[seal.bucketStart]?.hasBlocks == true else {
                // Blocks gone: retention's doing only for a bucket it has passed.
                guard seal.bucketUntil <= horizon else {
                    result.problem = SealProblem(
                        kind: .deleted, sequence: seal.sequence, bucketStart: seal.bucketStart, bucketUntil: seal.bucketUntil)
                    return result
                }
                result.retired += 1
                continue
            }
            if state[seal.bucketStart]?.hasRaw == true {
                result.reopened.append(seal.bucketStart)
                continue
            }
            if let problem = try checkBucket(seal, ledger: ledger) {
                result.problem = problem
                return result
            }
            result.buckets += 1
            result.series += seal.series
            result.readings += seal.readings
            result.firstBucket = min(result.firstBucket ?? seal.bucketStart, seal.bucketStart)
            result.lastUntil = max(result.lastUntil ?? seal.bucketUntil, seal.bucketUntil)
        }
        return result
    }

    /// The first break in `chain` (sequence, previous hash, statement hash, signature, key).
    public static func checkChain(_ chain: [BucketSeal], publicKey: String?) -> SealProblem? {
        var previous: BucketSeal?
        for seal in chain {
            func problem(_ kind: SealProblem.Kind) -> SealProblem {
                SealProblem(kind: kind, sequence: seal.sequence, bucketStart: seal.bucketStart, bucketUntil: seal.bucketUntil)
            }
            guard seal.sequence == (previous?.sequence ?? 0) + 1, seal.previous == (previous?.hash ?? SealChain.genesis),
                SealChain.hashMatches(seal)
            else { return problem(.chain) }
            if let publicKey, seal.publicKey != publicKey { return problem(.key) }
            guard SealChain.signatureValid(seal) else { return problem(.signature) }
            previous = seal
        }
        return nil
    }

    /// Recomputes the bucket of `seal` from its current blocks: nil when they match.
    static func checkBucket(_ seal: BucketSeal, ledger: any SealLedger) throws -> SealProblem? {
        func problem(_ kind: SealProblem.Kind, _ series: String? = nil) -> SealProblem {
            SealProblem(
                kind: kind, sequence: seal.sequence, bucketStart: seal.bucketStart, bucketUntil: seal.bucketUntil,
                series: series)
        }
        guard let bytes = try ledger.sealLeaves(sequence: seal.sequence), let sealed = SealChain.decode(leaves: bytes),
            Hex.encode(MerkleTree.root(leaves: sealed.map(\.hash))) == seal.root, sealed.count == seal.series
        else { return problem(.leaves) }
        let current = SealChain.leaves(of: try ledger.sealBlocks(bucketStart: seal.bucketStart) ?? [])
        if Hex.encode(MerkleTree.root(leaves: current.map(\.hash))) == seal.root { return nil }
        // Walk both lists in key order: the first difference names the series.
        var i = 0
        var j = 0
        while i < sealed.count || j < current.count {
            if j == current.count || (i < sealed.count && MerkleTree.precedes(sealed[i].seriesKey, current[j].seriesKey)) {
                return problem(.deleted, sealed[i].seriesKey)
            }
            if i == sealed.count || MerkleTree.precedes(current[j].seriesKey, sealed[i].seriesKey) {
                return problem(.added, current[j].seriesKey)
            }
            if sealed[i].hash != current[j].hash { return problem(.altered, sealed[i].seriesKey) }
            i += 1
            j += 1
        }
        return problem(.leaves)
    }
}
