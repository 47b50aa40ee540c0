import Foundation
import ShennongAlerts
import ShennongCore
import Testing

extension StoreEngine {
    /// A fresh store of this engine with its feed doors; an engine without them fails by name.
    func openFeed(_ options: StoreOptions = StoreOptions()) throws -> (any ContractStore, any CommitFeed & AlertFeed) {
        let store = try open(options)
        guard let feed = store as? any CommitFeed & AlertFeed else {
            throw StoreError(.invalidArgument, "engine \(name) does not implement CommitFeed and AlertFeed")
        }
        return (store, feed)
    }
}

/// The committed-data feed on every engine: off until enabled, one entry per burst in commit
/// order with each series' inserted range (duplicates are not in it), late readings as their
/// own entries, backlog and pruning, consumer state, and the alert feed.
@Suite("store contract: commit feed")
struct CommitFeedContractTests {
    typealias F = Fixture

    @Test("off until enabled: bursts before leave no entries", arguments: StoreEngine.all)
    func offByDefault(engine: StoreEngine) throws {
        let (store, feed) = try engine.openFeed()
        try store.commit(F.batch([F.reading("p1", "ph", F.t0, 7)], devices: [F.device("p1")]))
        #expect(try feed.commitFeed(after: 0, limit: 100).isEmpty)
        #expect(try feed.commitFeedHead() == 0)
        feed.enableCommitFeed()
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 1000, 7.1)]))
        let entries = try feed.commitFeed(after: 0, limit: 100)
        #expect(entries.count == 1)
        #expect(entries.first?.ranges == [CommittedRange(device: "p1", metric: "ph", from: F.t0 + 1000, to: F.t0 + 1000, count: 1)])
        #expect(try feed.commitFeedHead() == entries.first?.seq)
    }

    @Test("one entry per burst, in commit order, each series' range of what was inserted", arguments: StoreEngine.all)
    func entriesPerBurst(engine: StoreEngine) throws {
        let (store, feed) = try engine.openFeed()
        feed.enableCommitFeed()
        try store.commit(
            F.batch(
                [
                    F.reading("p1", "ph", F.t0 + 2000, 7.2), F.reading("p1", "ph", F.t0, 7.0),
                    F.reading("p1", "water_temp", F.t0, 20), F.reading("p2", "ph", F.t0 + 5000, 6.5),
                ], devices: [F.device("p1"), F.device("p2")]))
        // Only duplicates: nothing inserted, no entry.
        try store.commit(F.batch([F.reading("p1", "ph", F.t0, 9.9)]))
        // A late reading below what was committed: its own entry.
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 - 60_000, 6.8), F.reading("p1", "ph", F.t0, 9.9)]))
        let entries = try feed.commitFeed(after: 0, limit: 100)
        #expect(entries.count == 2)
        #expect(entries.map(\.seq) == entries.map(\.seq).sorted() && Set(entries.map(\.seq)).count == 2)
        let first = Set(entries[0].ranges)
        #expect(
            first == [
                CommittedRange(device: "p1", metric: "ph", from: F.t0, to: F.t0 + 2000, count: 2),
                CommittedRange(device: "p1", metric: "water_temp", from: F.t0, to: F.t0, count: 1),
                CommittedRange(device: "p2", metric: "ph", from: F.t0 + 5000, to: F.t0 + 5000, count: 1),
            ])
        #expect(entries[0].readingCount == 4)
        #expect(entries[1].ranges == [CommittedRange(device: "p1", metric: "ph", from: F.t0 - 60_000, to: F.t0 - 60_000, count: 1)])
        // The readings themselves come from the store, not the feed.
        let r = entries[0].ranges.first { $0.device == "p1" && $0.metric == "ph" }!
        #expect(try store.readings(device: "p1", metric: "ph", from: r.from, to: r.to + 1).map(\.value) == [7.0, 7.2])
        #expect(try feed.commitFeed(after: entries[0].seq, limit: 100).map(\.seq) == [entries[1].seq])
        #expect(try feed.commitFeed(after: 0, limit: 1).count == 1)
    }

    @Test("backlog after a position, pruning, and a head that survives pruning", arguments: StoreEngine.all)
    func backlogAndPrune(engine: StoreEngine) throws {
        let (store, feed) = try engine.openFeed()
        feed.enableCommitFeed()
        try store.commit(F.batch([F.reading("p1", "ph", F.t0, 7), F.reading("p1", "ph", F.t0 + 1, 7)], devices: [F.device("p1")]))
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 2, 7)]))
        let entries = try feed.commitFeed(after: 0, limit: 10)
        let all = try feed.commitFeedBacklog(after: 0)
        #expect(all.entries == 2 && all.readings == 3 && all.oldestCommittedAt == entries[0].committedAt)
        let rest = try feed.commitFeedBacklog(after: entries[0].seq)
        #expect(rest.entries == 1 && rest.readings == 1)
        let none = try feed.commitFeedBacklog(after: entries[1].seq)
        #expect(none.entries == 0 && none.readings == 0 && none.oldestCommittedAt == nil)
        try feed.pruneCommitFeed(through: entries[1].seq)
        #expect(try feed.commitFeed(after: 0, limit: 10).isEmpty)
        #expect(try feed.commitFeedHead() == entries[1].seq)
        // Sequence numbers are not reused after a prune.
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 3, 7)]))
        #expect(try feed.commitFeed(after: 0, limit: 10).first.map { $0.seq > entries[1].seq } == true)
    }

    @Test("a burst that throws leaves no entry", arguments: StoreEngine.all)
    func rolledBack(engine: StoreEngine) throws {
        let (store, feed) = try engine.openFeed()
        feed.enableCommitFeed()
        // A reading of a device that is neither registered nor new in the burst: the series'
        // device reference fails and the transaction rolls back.
        #expect(throws: (any Error).self) { try store.commit(F.batch([F.reading("ghost", "ph", F.t0, 7)])) }
        #expect(try feed.commitFeed(after: 0, limit: 10).isEmpty)
    }

    @Test("consumer state: absent, written, replaced, per consumer and key", arguments: StoreEngine.all)
    func consumerState(engine: StoreEngine) throws {
        let (_, feed) = try engine.openFeed()
        #expect(try feed.feedState(consumer: "centre", key: "cursor") == nil)
        try feed.setFeedState(consumer: "centre", key: "cursor", value: #"{"seq":1}"#)
        try feed.setFeedState(consumer: "province", key: "cursor", value: #"{"seq":9}"#)
        try feed.setFeedState(consumer: "centre", key: "cursor", value: #"{"seq":2}"#)
        #expect(try feed.feedState(consumer: "centre", key: "cursor") == #"{"seq":2}"#)
        #expect(try feed.feedState(consumer: "province", key: "cursor") == #"{"seq":9}"#)
        #expect(try feed.feedState(consumer: "centre", key: "devices") == nil)
    }

    @Test("the alert feed: transitions after an id, oldest first, each with its alert", arguments: StoreEngine.all)
    func alertFeed(engine: StoreEngine) throws {
        let (store, feed) = try engine.openFeed()
        #expect(try feed.newestAlertTransition() == 0)
        #expect(try feed.alertNotices(afterTransition: 0, limit: 10).isEmpty)
        _ = try store.applyRuleEvaluation(states: [], changes: [AlertContractTests.change(nil, .yellow, at: 0)], now: F.t0)
        _ = try store.applyRuleEvaluation(states: [], changes: [AlertContractTests.change(.yellow, .red, at: 5)], now: F.t0 + 1)
        let notices = try feed.alertNotices(afterTransition: 0, limit: 10)
        #expect(notices.map(\.transition.kind) == [.raised, .escalated])
        #expect(notices.allSatisfy { $0.alert.device == "gauge-1" && $0.alert.level == .red })
        #expect(try feed.newestAlertTransition() == notices.last?.transition.id)
        #expect(try feed.alertNotices(afterTransition: notices[0].transition.id, limit: 10).map(\.transition.id) == [notices[1].transition.id])
        #expect(try feed.alertNotices(afterTransition: 0, limit: 1).count == 1)
    }
}

extension CommitFeedContractTests {
    @Test("compaction merges what no consumer reached into one entry per series; the next entry is kept; nothing is lost", arguments: StoreEngine.all)
    func compaction(engine: StoreEngine) throws {
        let (store, feed) = try engine.openFeed()
        feed.enableCommitFeed()
        try store.commit(F.batch([F.reading("p1", "ph", F.t0, 7)], devices: [F.device("p1"), F.device("p2")]))
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 1000, 7)]))
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 2000, 7), F.reading("p2", "ph", F.t0 + 2000, 6)]))
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 3000, 7)]))
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 - 5000, 7)]))  // late
        let before = try feed.commitFeed(after: 0, limit: 10)
        #expect(before.count == 5)
        // A consumer has delivered the first entry and may be part-way through the second.
        #expect(try feed.compactCommitFeed(after: before[0].seq) == 2)
        let after = try feed.commitFeed(after: 0, limit: 10)
        #expect(after.count == 3)
        #expect(after[0] == before[0] && after[1] == before[1])
        #expect(after[2].seq == before[4].seq && after[2].committedAt == before[2].committedAt)
        #expect(
            Set(after[2].ranges) == [
                CommittedRange(device: "p1", metric: "ph", from: F.t0 - 5000, to: F.t0 + 3000, count: 3),
                CommittedRange(device: "p2", metric: "ph", from: F.t0 + 2000, to: F.t0 + 2000, count: 1),
            ])
        #expect(try feed.commitFeedBacklog(after: before[1].seq).readings == 4)
        // Too few to merge: nothing changes; new bursts still come after.
        #expect(try feed.compactCommitFeed(after: before[1].seq) == 0)
        try store.commit(F.batch([F.reading("p1", "ph", F.t0 + 4000, 7)]))
        #expect(try feed.commitFeed(after: before[4].seq, limit: 10).count == 1)
    }
}
