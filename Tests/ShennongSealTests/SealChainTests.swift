import Crypto
import Foundation
import ShennongCore
import Synchronization
import Testing

@testable import ShennongSeal

/// The seal logic without I/O: the RFC 6962 tree, the signed chain, and the verifier over an
/// in-memory ledger.
@Suite("seals: Merkle tree, chain, verifier")
struct SealChainTests {
    static let key = Array(repeating: UInt8(7), count: 32)
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_763_683_200_000

    static func sha(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    @Test("the tree is RFC 6962's: empty, one leaf, a power-of-two left subtree, domain-separated leaves")
    func tree() {
        #expect(MerkleTree.root(leaves: []) == Self.sha([]))
        let a = MerkleTree.leafHash(key: "p1/ph", block: [1, 2, 3])
        let b = MerkleTree.leafHash(key: "p1/ph", block: [1, 2, 4])
        let c = MerkleTree.leafHash(key: "p2/ph", block: [1, 2, 3])
        #expect(a == Self.sha([0, 0, 0, 0, 5] + Array("p1/ph".utf8) + [1, 2, 3]))
        #expect(MerkleTree.root(leaves: [a]) == a)
        #expect(MerkleTree.root(leaves: [a, b, c]) == MerkleTree.nodeHash(MerkleTree.nodeHash(a, b), c))
        let five = (0..<5).map { MerkleTree.leafHash(key: "k\($0)", block: []) }
        let left = MerkleTree.nodeHash(MerkleTree.nodeHash(five[0], five[1]), MerkleTree.nodeHash(five[2], five[3]))
        #expect(MerkleTree.root(leaves: five) == MerkleTree.nodeHash(left, five[4]))
        #expect(MerkleTree.nodeHash(a, b) == Self.sha([1] + a + b))
        // The key length is hashed: moving a byte from the key into the block changes the leaf.
        #expect(MerkleTree.leafHash(key: "ab", block: [0x63]) != MerkleTree.leafHash(key: "a", block: Array("bc".utf8)))
        #expect(MerkleTree.root(leaves: [a, b]) != MerkleTree.root(leaves: [b, a]))
    }

    @Test("a seal is chained to the one before, signed, and its leaf list round-trips")
    func chain() throws {
        let chain = try SealChain(signingKey: Self.key)
        let blocks = [SealBlock(seriesKey: "p2/ph", data: [9], count: 1), SealBlock(seriesKey: "p1/ph", data: [1, 2], count: 2)]
        let first = try chain.seal(bucketStart: Self.t0, bucketUntil: Self.t0 + Self.day, blocks: blocks, previous: nil, sealedAt: 5)
        #expect(first.seal.sequence == 1 && first.seal.previous == SealChain.genesis)
        #expect(first.seal.series == 2 && first.seal.readings == 3)
        #expect(SealChain.hashMatches(first.seal) && SealChain.signatureValid(first.seal))
        let leaves = try #require(SealChain.decode(leaves: first.leaves))
        #expect(leaves.map(\.seriesKey) == ["p1/ph", "p2/ph"], "leaves are in key order")
        #expect(Hex.encode(MerkleTree.root(leaves: leaves.map(\.hash))) == first.seal.root)
        let second = try chain.seal(
            bucketStart: Self.t0 + Self.day, bucketUntil: Self.t0 + 2 * Self.day, blocks: [], previous: first.seal, sealedAt: 6)
        #expect(second.seal.sequence == 2 && second.seal.previous == first.seal.hash)
        #expect(second.seal.root == Hex.encode(Self.sha([])))
        // Any signed field changed: the signature no longer holds.
        var forged = first.seal
        forged.readings += 1
        #expect(!SealChain.signatureValid(forged) && !SealChain.hashMatches(forged))
        let other = try SealChain(signingKey: Array(repeating: UInt8(8), count: 32))
        #expect(!SealChain.signatureValid(first.seal, publicKey: other.publicKey))
        #expect(SealChain.decode(leaves: [2]) == nil && SealChain.decode(leaves: [1, 0, 5, 1]) == nil)
        // The Codable value a centre keeps round-trips.
        let json = try JSONEncoder().encode(second.seal)
        #expect(try JSONDecoder().decode(BucketSeal.self, from: json) == second.seal)
    }

    /// Two sealed buckets of two series each.
    static func ledger() throws -> MemoryLedger {
        var ledger = MemoryLedger()
        let chain = try SealChain(signingKey: key)
        for day in 0..<2 {
            let start = t0 + Int64(day) * Self.day
            let blocks = [
                SealBlock(seriesKey: "p1/dissolved_oxygen", data: [1, UInt8(day), 3], count: 3),
                SealBlock(seriesKey: "p1/ph", data: [4, 5, UInt8(day)], count: 288),
            ]
            ledger.blocks[start] = blocks
            ledger.buckets.append(SealedBucketState(start: start, until: start + Self.day, hasBlocks: true, hasRaw: false))
            ledger.records.append(
                try chain.seal(bucketStart: start, bucketUntil: start + Self.day, blocks: blocks, previous: ledger.records.last?.seal, sealedAt: 1))
        }
        return ledger
    }

    @Test("intact data verifies, with counts")
    func intact() throws {
        let result = try SealVerifier.verify(ledger: try Self.ledger(), publicKey: try SealChain(signingKey: Self.key).publicKey)
        #expect(result.ok && result.seals == 2 && result.buckets == 2 && result.series == 4 && result.readings == 582)
        #expect(result.firstBucket == Self.t0 && result.lastUntil == Self.t0 + 2 * Self.day)
        let one = try SealVerifier.verify(ledger: try Self.ledger(), publicKey: nil, from: Self.t0 + Self.day, to: nil)
        #expect(one.ok && one.buckets == 1)
    }

    @Test("an altered, deleted or added block is named by series and bucket")
    func tampering() throws {
        var altered = try Self.ledger()
        altered.blocks[Self.t0 + Self.day]![1].data[0] ^= 1
        let a = try SealVerifier.verify(ledger: altered, publicKey: nil)
        #expect(a.problem == SealProblem(kind: .altered, sequence: 2, bucketStart: Self.t0 + Self.day, bucketUntil: Self.t0 + 2 * Self.day, series: "p1/ph"))

        var deleted = try Self.ledger()
        deleted.blocks[Self.t0]!.remove(at: 0)
        let d = try SealVerifier.verify(ledger: deleted, publicKey: nil)
        #expect(d.problem?.kind == .deleted && d.problem?.series == "p1/dissolved_oxygen" && d.problem?.bucketStart == Self.t0)

        var added = try Self.ledger()
        added.blocks[Self.t0]!.append(SealBlock(seriesKey: "p9/ph", data: [1], count: 1))
        #expect(try SealVerifier.verify(ledger: added, publicKey: nil).problem?.kind == .added)

        // Every block of a bucket gone before retention reached it; after, it is retired.
        var gone = try Self.ledger()
        gone.buckets[0].hasBlocks = false
        #expect(try SealVerifier.verify(ledger: gone, publicKey: nil).problem?.kind == .deleted)
        gone.horizon = Self.t0 + Self.day
        let retired = try SealVerifier.verify(ledger: gone, publicKey: nil)
        #expect(retired.ok && retired.retired == 1 && retired.buckets == 1)

        // The stored leaf list rewritten to match altered data: it no longer gives the signed root.
        var leaves = try Self.ledger()
        leaves.blocks[Self.t0]![0].data = [0]
        leaves.records[0].leaves = SealChain.encode(leaves: SealChain.leaves(of: leaves.blocks[Self.t0]!))
        #expect(try SealVerifier.verify(ledger: leaves, publicKey: nil).problem?.kind == .leaves)
    }

    @Test("a forged signature, a broken link, a removed seal and a foreign key are caught")
    func chainBreaks() throws {
        let key = try SealChain(signingKey: Self.key).publicKey
        var forged = try Self.ledger()
        var signature = Array(Data(base64Encoded: forged.records[1].seal.signature)!)
        signature[0] ^= 1
        forged.records[1].seal.signature = Data(signature).base64EncodedString()
        #expect(try SealVerifier.verify(ledger: forged, publicKey: key).problem?.kind == .signature)

        var link = try Self.ledger()
        link.records[1].seal.previous = String(repeating: "1", count: 64)
        #expect(try SealVerifier.verify(ledger: link, publicKey: key).problem == SealProblem(
            kind: .chain, sequence: 2, bucketStart: Self.t0 + Self.day, bucketUntil: Self.t0 + 2 * Self.day))

        var removed = try Self.ledger()
        removed.records.remove(at: 0)
        #expect(try SealVerifier.verify(ledger: removed, publicKey: key).problem?.kind == .chain)

        // Re-sealed by an intruder with their own key: every link and signature holds, but not ours.
        var foreign = MemoryLedger()
        let intruder = try SealChain(signingKey: Array(repeating: UInt8(9), count: 32))
        foreign.buckets = try Self.ledger().buckets
        foreign.blocks = try Self.ledger().blocks
        for b in foreign.buckets {
            foreign.records.append(try intruder.seal(
                bucketStart: b.start, bucketUntil: b.until, blocks: foreign.blocks[b.start]!, previous: foreign.records.last?.seal, sealedAt: 1))
        }
        #expect(try SealVerifier.verify(ledger: foreign, publicKey: nil).ok)
        #expect(try SealVerifier.verify(ledger: foreign, publicKey: key).problem?.kind == .key)
    }

    @Test("a bucket reopened by late readings waits for its new seal")
    func reopened() throws {
        var ledger = try Self.ledger()
        ledger.buckets[1].hasRaw = true
        ledger.blocks[Self.t0 + Self.day]!.remove(at: 1)
        let result = try SealVerifier.verify(ledger: ledger, publicKey: nil)
        #expect(result.ok && result.reopened == [Self.t0 + Self.day] && result.buckets == 1)
    }

    @Test("a compacted bucket without a seal is counted, not failed")
    func unsealed() throws {
        var ledger = try Self.ledger()
        ledger.buckets.append(SealedBucketState(start: Self.t0 + 2 * Self.day, until: Self.t0 + 3 * Self.day, hasBlocks: true, hasRaw: false))
        let result = try SealVerifier.verify(ledger: ledger, publicKey: nil)
        #expect(result.ok && result.unsealed == [Self.t0 + 2 * Self.day])
    }
}

extension SealChainTests {
    @Test("what pages say over a period: verified, partly sealed, unsealed, failed, not checked yet")
    func coverage() throws {
        let day = Self.day
        let ok = try SealVerifier.verify(ledger: try Self.ledger(), publicKey: nil)
        #expect(SealWatch.coverage(nil, from: 0, to: 1) == .checking)
        #expect(SealWatch.coverage(ok, from: Self.t0 + 3_600_000, to: Self.t0 + day) == .verified(from: Self.t0 + 3_600_000, to: Self.t0 + day))
        #expect(SealWatch.coverage(ok, from: Self.t0 - day, to: Self.t0 + 5 * day) == .partly(from: Self.t0, through: Self.t0 + 2 * day - 1))
        #expect(SealWatch.coverage(ok, from: Self.t0 + 2 * day, to: Self.t0 + 5 * day) == .unsealed)
        #expect(SealWatch.coverage(SealVerification(), from: 0, to: 1) == .unsealed)
        var altered = try Self.ledger()
        altered.blocks[Self.t0]![0].data = [0]
        let failed = try SealVerifier.verify(ledger: altered, publicKey: nil)
        guard case .failed(let problem) = SealWatch.coverage(failed, from: 0, to: 1) else {
            Issue.record("not failed")
            return
        }
        #expect(problem.series == "p1/dissolved_oxygen")

        // The watch: nothing until the first check, then the verification; a new seal is seen.
        let watch = SealWatch(ledger: try Self.ledger(), publicKey: nil)
        #expect(watch.current() == nil, "nothing checked yet (a check starts in the background)")
        #expect(watch.refresh()?.buckets == 2 && watch.current()?.seals == 2)
    }
}

extension SealChainTests {
    /// Counts the "anything new?" queries a watch makes.
    final class CountingLedger: SealLedger {
        let inner: MemoryLedger
        let polled = Mutex(0)
        var polls: Int { polled.withLock { $0 } }
        init(_ inner: MemoryLedger) { self.inner = inner }
        func seals(after sequence: Int64, limit: Int) throws -> [BucketSeal] {
            if limit == 1 { polled.withLock { $0 += 1 } }
            return try inner.seals(after: sequence, limit: limit)
        }
        func sealLeaves(sequence: Int64) throws -> [UInt8]? { try inner.sealLeaves(sequence: sequence) }
        func sealBlocks(bucketStart start: Int64) throws -> [SealBlock]? { try inner.sealBlocks(bucketStart: start) }
        func sealableBuckets() throws -> [SealedBucketState] { try inner.sealableBuckets() }
        func sealRetentionHorizon() throws -> Int64 { try inner.sealRetentionHorizon() }
        func sealNextPending(with sealer: any BucketSealing, now: Int64?) throws -> BucketSeal? { nil }
    }

    @Test("page views ask the ledger for new seals at most once per poll interval")
    func watchPollsAtMostOncePerInterval() throws {
        let ledger = CountingLedger(try Self.ledger())
        let now = Mutex<Int64>(1_000_000)
        let watch = SealWatch(ledger: ledger, publicKey: nil, pollInterval: 1_000, clock: WallClock { now.withLock { $0 } })
        watch.refresh()
        let before = ledger.polls
        for _ in 0..<50 { #expect(watch.current()?.seals == 2) }
        #expect(ledger.polls == before + 1, "one query for 50 views within a second")
        now.withLock { $0 += 1_000 }
        for _ in 0..<50 { _ = watch.current() }
        #expect(ledger.polls == before + 2)
    }
}

/// A ledger in memory.
struct MemoryLedger: SealLedger {
    var records: [SealRecord] = []
    var blocks: [Int64: [SealBlock]] = [:]
    var buckets: [SealedBucketState] = []
    var horizon = Int64.min

    func seals(after sequence: Int64, limit: Int) throws -> [BucketSeal] {
        Array(records.map(\.seal).filter { $0.sequence > sequence }.prefix(limit))
    }
    func sealLeaves(sequence: Int64) throws -> [UInt8]? { records.first { $0.seal.sequence == sequence }?.leaves }
    func sealBlocks(bucketStart start: Int64) throws -> [SealBlock]? {
        buckets.first { $0.start == start }?.hasBlocks == true ? blocks[start] : nil
    }
    func sealableBuckets() throws -> [SealedBucketState] { buckets }
    func sealRetentionHorizon() throws -> Int64 { horizon }
    func sealNextPending(with sealer: any BucketSealing, now: Int64?) throws -> BucketSeal? { nil }
}
