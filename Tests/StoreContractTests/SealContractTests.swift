import Foundation
import ShennongCore
import ShennongSeal
import Testing

/// Sealed monitoring data on every engine: compaction seals each bucket it closes in the same
/// transaction, the chain verifies from what is stored, late data is sealed again, buckets
/// compacted without a key are sealed later in bucket order, and changes made past the doors
/// are named by series and bucket.
@Suite("store contract: seals")
struct SealContractTests {
    typealias F = Fixture
    static let chain = try! SealChain(signingKey: Array(repeating: 42, count: 32))

    static func sealed() -> StoreOptions {
        var options = StoreOptions()
        options.sealer = chain.storeSealer
        return options
    }

    static func verify(_ store: any ContractStore, from: Int64? = nil, to: Int64? = nil) throws -> SealVerification {
        try SealVerifier.verify(ledger: store, publicKey: chain.publicKey, from: from, to: to)
    }

    @Test("compaction seals each bucket it closes; the chain verifies; a late reading is sealed again", arguments: StoreEngine.all)
    func compactionSeals(engine: StoreEngine) throws {
        let store = try engine.open(Self.sealed())
        let readings = MaintenanceContractTests.threeDays()
        try store.commit(F.batch(readings, devices: [F.device("p1")]))
        let now = F.t0 + 10 * F.day
        try store.compact(now: now, shouldContinue: { true })
        let seals = try store.seals(after: 0, limit: 100)
        #expect(seals.map(\.sequence) == [1, 2, 3])
        #expect(seals.map(\.bucketStart) == [F.t0, F.t0 + F.day, F.t0 + 2 * F.day])
        #expect(seals.allSatisfy { $0.series == 2 && $0.readings == 576 && $0.sealedAt == now && $0.publicKey == Self.chain.publicKey })
        #expect(seals[1].previous == seals[0].hash && seals[2].previous == seals[1].hash)
        #expect(try store.seals(after: 2, limit: 100) == [seals[2]], "the forwarding cursor lists what follows")
        var result = try Self.verify(store)
        #expect(result.ok && result.seals == 3 && result.buckets == 3 && result.series == 6 && result.readings == 1728)
        #expect(result.firstBucket == F.t0 && result.lastUntil == F.t0 + 3 * F.day)
        #expect(try store.sealClosedBuckets(with: Self.chain, now: nil).isEmpty, "every closed bucket is sealed already")

        // A late reading reopens day 2 (its block goes back to raw rows): waiting, not failed;
        // then compacted and sealed again.
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + F.day + 150_000, 6.5)]))
        let waiting = try Self.verify(store)
        #expect(waiting.ok && waiting.reopened == [F.t0 + F.day] && waiting.buckets == 2)
        try store.compact(now: now + 1, shouldContinue: { true })
        let again = try store.seals(after: 3, limit: 100)
        #expect(again.count == 1 && again[0].bucketStart == F.t0 + F.day && again[0].readings == 577)
        #expect(again[0].previous == seals[2].hash)
        result = try Self.verify(store)
        #expect(result.ok && result.seals == 4 && result.readings == 1729)
        #expect(try Self.verify(store, from: F.t0 + F.day, to: F.t0 + 2 * F.day).buckets == 1)
    }

    @Test("a value changed in a block, a deleted block, a forged signature and a broken link are named", arguments: StoreEngine.all)
    func tampering(engine: StoreEngine) throws {
        let store = try engine.open(Self.sealed())
        try store.commit(F.batch(MaintenanceContractTests.threeDays(), devices: [F.device("p1")]))
        try store.compact(now: F.t0 + 10 * F.day, shouldContinue: { true })
        let day2 = F.t0 + F.day
        let original = try #require(try store.sealBlocks(bucketStart: day2)?.first { $0.seriesKey == "p1/ph" })

        // One value changed by hand, the block re-encoded so it still decodes.
        var points = try BlockCodec.decodePoints(original.data)
        points[100] = Point(ts: points[100].ts, value: points[100].value + 0.5)
        try engine.intruder.replaceBlock(store, day2, "p1", "ph", BlockCodec.encode(points: points, maxPrecision: 2))
        #expect(try store.readings(device: "p1", metric: "ph", from: points[100].ts, to: points[100].ts + 1).first?.value == points[100].value)
        var problem = try Self.verify(store).problem
        #expect(problem?.kind == .altered && problem?.series == "p1/ph" && problem?.bucketStart == day2 && problem?.sequence == 2)
        #expect(try Self.verify(store, from: F.t0 + 2 * F.day).ok, "a range without the bucket does not see it")

        try engine.intruder.replaceBlock(store, day2, "p1", "ph", original.data)
        #expect(try Self.verify(store).ok, "the original bytes verify again")

        try engine.intruder.deleteBlock(store, F.t0 + 2 * F.day, "p1", "dissolved_oxygen")
        problem = try Self.verify(store).problem
        #expect(problem?.kind == .deleted && problem?.series == "p1/dissolved_oxygen" && problem?.bucketStart == F.t0 + 2 * F.day)

        // The chain itself: a forged signature, then a broken link.
        let fresh = try engine.open(Self.sealed())
        try fresh.commit(F.batch(MaintenanceContractTests.threeDays(), devices: [F.device("p1")]))
        try fresh.compact(now: F.t0 + 10 * F.day, shouldContinue: { true })
        let seal = try fresh.seals(after: 1, limit: 1)[0]
        var signature = Array(Data(base64Encoded: seal.signature)!)
        signature[10] ^= 0x40
        try engine.intruder.setSeal(fresh, 2, "signature", Data(signature).base64EncodedString())
        #expect(try Self.verify(fresh).problem?.kind == .signature)
        try engine.intruder.setSeal(fresh, 2, "signature", seal.signature)
        #expect(try Self.verify(fresh).ok)
        try engine.intruder.setSeal(fresh, 3, "prev", String(repeating: "0", count: 64))
        problem = try Self.verify(fresh).problem
        #expect(problem?.kind == .chain && problem?.sequence == 3)
    }

    @Test("buckets compacted without a key are sealed later, in bucket order, once", arguments: StoreEngine.all)
    func sealLater(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        try store.commit(F.batch(MaintenanceContractTests.threeDays(), devices: [F.device("p1")]))
        try store.compact(now: F.t0 + 10 * F.day, shouldContinue: { true })
        #expect(try store.seals(after: 0, limit: 10).isEmpty)
        let before = try Self.verify(store)
        #expect(before.ok && before.seals == 0 && before.unsealed == [F.t0, F.t0 + F.day, F.t0 + 2 * F.day])
        let written = try store.sealClosedBuckets(with: Self.chain, now: nil)
        #expect(written.map(\.bucketStart) == [F.t0, F.t0 + F.day, F.t0 + 2 * F.day])
        #expect(written.map(\.sequence) == [1, 2, 3])
        #expect(try store.sealClosedBuckets(with: Self.chain, now: nil).isEmpty)
        let after = try Self.verify(store)
        #expect(after.ok && after.buckets == 3 && after.unsealed.isEmpty)

    }

    @Test("blocks that retention dropped retire their seals; the rest still verifies", arguments: StoreEngine.all)
    func retention(engine: StoreEngine) throws {
        var options = Self.sealed()
        options.retention.raw = 2 * F.day
        let store = try engine.open(options)
        try store.commit(F.batch(MaintenanceContractTests.threeDays(), devices: [F.device("p1")]))
        let now = F.t0 + 4 * F.day + 3_600_000
        try store.compact(now: now, shouldContinue: { true })
        _ = try store.retention(now: now, dryRun: false)
        #expect(try store.sealRetentionHorizon() == F.t0 + 2 * F.day)
        let result = try Self.verify(store)
        #expect(result.ok && result.retired == 2 && result.buckets == 1 && result.seals == 3)
    }
}
