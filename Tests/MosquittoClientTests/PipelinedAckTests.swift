import Foundation
import MosquittoClient
import ShennongTestSupport
import Synchronization
import Testing

/// Real-broker tests of pipelined commits: the PUBACKs of a burst read while another burst
/// commits leave only after their own commit (held by the `CShennongIO` shim), a failed commit
/// drops the burst prepared behind it, and `pipelined: false` commits one burst at a time.
///
/// The broker logs at debug level so that every PUBACK it receives from the consumer can be
/// counted ("Received PUBACK from <client-id> (Mid: …)"). Serialized: each test starts its own
/// mosquitto and the machine has two cores.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PipelinedAckTests {
    struct Refused: Error {}

    @Test("PUBACKs of a burst read during another burst's commit wait for their own commit")
    func heldUntilOwnCommit() async throws {
        try await pubacksFollowCommits(pipelined: true, clientID: "pipelined-consumer")
    }

    @Test("pipelined: false reads nothing while a burst commits and acknowledges one burst at a time")
    func serialModeReadsOneBurstAtATime() async throws {
        try await pubacksFollowCommits(pipelined: false, clientID: "serial-consumer")
    }

    @Test("A failed commit drops the burst prepared behind it; the broker redelivers both")
    func failedCommitDropsPreparedBurst() async throws {
        let broker = try TestBroker(persistence: false, extraConfiguration: ["log_type debug"])
        defer { broker.stop() }
        let clientID = "dropping-consumer"
        let first = CommitGate()
        let calls = IndexLog()
        let consumer = try ConsumerHarness(broker: broker, clientID: clientID, topics: ["t/drop/#"]) { _, index in
            calls.append(index)
            if index == 0 {
                // Held until burst 1 has been read and prepared behind this commit, then refused.
                first.block()
                throw Refused()
            }
        }
        consumer.start()
        defer { consumer.stop() }
        // Declared after stop(), so it runs first: a failing test never leaves a commit blocked.
        defer { first.open() }
        #expect(consumer.connection.isPipelined)
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })

        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        let count = 200
        #expect(try await publishBatch(publisher, prefix: "drop", range: 0..<100))
        try #require(await waitUntil(timeout: .seconds(10)) { first.isEntered })
        #expect(try await publishBatch(publisher, prefix: "drop", range: 100..<count))
        try #require(await waitUntil(timeout: .seconds(10)) { consumer.batches.count >= 2 })
        let batches = consumer.batches
        let refused = sequenceNumbers(batches[0], prefix: "drop")
        let dropped = sequenceNumbers(batches[1], prefix: "drop")
        #expect(!refused.isEmpty)
        #expect(!dropped.isEmpty)
        #expect(pubacks(broker, clientID) == 0, "nothing acknowledged while burst 0 commits")

        first.open()
        #expect(await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(consumer.committed, prefix: "drop")) == Set(0..<count)
        }, "every message committed after the redelivery")
        #expect(await waitUntil(timeout: .seconds(10)) { pubacks(broker, clientID) >= count })
        // Give a late or duplicate PUBACK the chance to show up before counting exactly.
        try await Task.sleep(for: .milliseconds(500))

        let seen = calls.indexes
        #expect(seen.first == 0)
        #expect(!seen.contains(1), "the job of the burst prepared behind the failed commit never ran (hook saw \(seen))")
        let committed = Set(sequenceNumbers(consumer.committed, prefix: "drop"))
        #expect(refused.allSatisfy { committed.contains($0) }, "the refused burst came back")
        #expect(dropped.allSatisfy { committed.contains($0) }, "the dropped burst came back")
        #expect(consumer.committedCount == count, "each message committed once")
        #expect(pubacks(broker, clientID) == count, "one PUBACK per message: none early, none twice")
        #expect(consumer.connection.isConnected)
    }

    /// Blocks commit 0, lets the consumer read what arrives meanwhile, then opens commit 0 while
    /// commit 1 blocks, then opens commit 1, and counts the PUBACKs the broker received at
    /// each step.
    private func pubacksFollowCommits(pipelined: Bool, clientID: String) async throws {
        let broker = try TestBroker(persistence: false, extraConfiguration: ["log_type debug"])
        defer { broker.stop() }
        let first = CommitGate()
        let second = CommitGate()
        // The run thread waits on the blocked commits without servicing keep-alive; on a loaded
        // machine the waits below can outlast 1.5 x 10 s, and the broker would then drop the
        // session and redeliver (a duplicate, not a loss). A long keep-alive keeps this test
        // about PUBACK order.
        let consumer = try ConsumerHarness(
            broker: broker, clientID: clientID, topics: ["t/held/#"], keepAlive: 120, pipelined: pipelined
        ) { _, index in
            if index == 0 {
                first.block()
            } else if index == 1 {
                second.block()
            }
        }
        consumer.start()
        defer { consumer.stop() }
        // Declared after stop(), so it runs first: a failing test never leaves a commit blocked.
        defer {
            first.open()
            second.open()
        }
        #expect(consumer.connection.isPipelined == pipelined)
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })

        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        let count = 200
        // Wave 1 starts burst 0, whose commit blocks; wave 2 arrives while it is blocked.
        #expect(try await publishBatch(publisher, prefix: "held", range: 0..<100))
        try #require(await waitUntil(timeout: .seconds(10)) { first.isEntered })
        #expect(try await publishBatch(publisher, prefix: "held", range: 100..<count))
        if pipelined {
            try #require(await waitUntil(timeout: .seconds(10)) { consumer.batches.count >= 2 },
                         "burst 1 read and prepared while burst 0 commits")
        }
        try await Task.sleep(for: .milliseconds(500))
        // Pipelined: one burst commits and one waits, no more. Serial: nothing is read while
        // a burst commits.
        #expect(consumer.batches.count == (pipelined ? 2 : 1))
        #expect(pubacks(broker, clientID) == 0, "no PUBACK while burst 0 commits")
        #expect(consumer.committedCount == 0)
        let firstBurst = try #require(consumer.batches.first).count
        #expect(firstBurst > 0)

        // Commit 0 ends, commit 1 blocks: exactly burst 0's PUBACKs leave.
        first.open()
        try #require(await waitUntil(timeout: .seconds(10)) { second.isEntered }, "burst 1 is committing")
        #expect(await waitUntil(timeout: .seconds(10)) { pubacks(broker, clientID) >= firstBurst })
        try await Task.sleep(for: .milliseconds(500))
        #expect(pubacks(broker, clientID) == firstBurst, "burst 1's PUBACKs are held while it commits")
        #expect(consumer.committedCount == firstBurst)

        // Commit 1 ends: everything is committed and acknowledged, once.
        second.open()
        #expect(await waitUntil(timeout: .seconds(30)) { consumer.committedCount >= count })
        #expect(await waitUntil(timeout: .seconds(10)) { pubacks(broker, clientID) >= count })
        try await Task.sleep(for: .milliseconds(300))
        #expect(pubacks(broker, clientID) == count)
        #expect(consumer.committedCount == count)
        #expect(Set(sequenceNumbers(consumer.committed, prefix: "held")) == Set(0..<count))
        #expect(consumer.connection.isConnected)
    }
}

/// PUBACKs the broker logged as received from `clientID` (its log must be at debug level).
private func pubacks(_ broker: TestBroker, _ clientID: String) -> Int {
    broker.log().components(separatedBy: "Received PUBACK from \(clientID) (").count - 1
}

/// A commit that blocks until the test opens the gate (at most 60 s, so nothing hangs for good).
private final class CommitGate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let state = Mutex((entered: false, opened: false))

    /// Called by the commit: notes that it has begun and waits for ``open()``.
    func block() {
        state.withLock { $0.entered = true }
        _ = semaphore.wait(timeout: .now() + 60)
    }

    /// Lets the blocked commit (or the next one to block) go on; idempotent.
    func open() {
        state.withLock {
            if !$0.opened {
                $0.opened = true
                semaphore.signal()
            }
        }
    }

    var isEntered: Bool { state.withLock { $0.entered } }
}

/// The batch indexes a hook was called with, in order.
private final class IndexLog: Sendable {
    private let values = Mutex<[Int]>([])

    func append(_ index: Int) { values.withLock { $0.append(index) } }
    var indexes: [Int] { values.withLock { $0 } }
}
