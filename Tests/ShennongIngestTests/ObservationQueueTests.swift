import Foundation
import MosquittoClient
import ShennongCore
import ShennongStore
import Synchronization
import Testing

@testable import ShennongIngest

/// The observer (the rules) prepares bursts on a thread of its own (``ObservationQueue``): what
/// would break if `prepare` waited for the rules again, if bursts reached the observer out of
/// order, if a burst's readings were written before the rules had read what was stored before
/// it, or if a failed commit let the observer forget while a preparation was still running.
@Suite
struct ObservationQueueTests {
    /// An observer whose preparation of burst `n` waits for `release(n)`; it records the order
    /// of preparations, what was stored when each ran, applications and forgets.
    final class GatedObserver: IngestObserver {
        struct Log {
            /// Per preparation, in order: the burst's first reading's time, and how many
            /// readings the store held when the preparation ran.
            var prepared: [(ts: Int64, stored: Int)] = []
            var applied: [Int64] = []
            /// How many preparations had ended at each `abandonPending`.
            var abandonedAfter: [Int] = []
        }

        let store: Store
        let log = Mutex(Log())
        private let gates: [DispatchSemaphore]
        private let started = Mutex(0)

        init(store: Store, gates: Int) {
            self.store = store
            self.gates = (0..<gates).map { _ in DispatchSemaphore(value: 0) }
        }

        func release(_ n: Int) { gates[n].signal() }

        func prepare(_ batch: IngestBatch, previousStored: () -> Void) -> IngestObservation {
            let n = started.withLock { n in
                defer { n += 1 }
                return n
            }
            if n < gates.count { gates[n].wait() }
            previousStored()
            let ts = batch.readings.first?.timestamp ?? 0
            let stored = (try? store.stats().readings) ?? -1
            log.withLock { $0.prepared.append((ts, stored)) }
            return { [self] in self.log.withLock { $0.applied.append(ts) } }
        }

        func abandonPending() {
            log.withLock { $0.abandonedAfter.append($0.prepared.count) }
        }
    }

    static let now = Int64(Date().timeIntervalSince1970) * 1000

    static func burst(_ minute: Int64) -> [MQTTMessage] {
        [IngestPipelineTests.telemetry("pond-3", ts: now - 3_600_000 + minute * 60_000, ["ph": 7])]
    }

    func pipeline(_ f: IngestPipelineTests.Fixture, _ observer: GatedObserver, store: (any ReadingIngest & DeviceRegistry)? = nil)
        -> IngestPipeline
    {
        IngestPipeline(
            store: store ?? f.store, profiles: IngestPipelineTests.generic, topics: TopicScheme(prefix: "agri"),
            options: IngestOptions(), observer: observer, logger: quiet)
    }

    @Test("prepare returns while the rules still work; bursts reach them in order; a burst is written only after they prepared it")
    func rulesOffTheIngestThreadAndBeforeTheWrite() throws {
        let f = try IngestPipelineTests.Fixture()
        let observer = GatedObserver(store: f.store, gates: 2)
        let pipeline = pipeline(f, observer)
        // Both return although the observer is held on burst 1: the rules run elsewhere.
        let first = pipeline.prepare(Self.burst(0))
        let second = pipeline.prepare(Self.burst(1))
        #expect(!first.isObserved && !second.isObserved)

        let committed = DispatchSemaphore(value: 0)
        let thread = Thread {
            _ = try? pipeline.commit(first)
            committed.signal()
        }
        thread.start()
        // The commit waits for the rules: nothing of burst 1 is written meanwhile.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try f.store.stats().readings == 0, "burst 1 was written before the rules had prepared it")
        observer.release(0)
        #expect(committed.wait(timeout: .now() + 30) == .success)
        observer.release(1)
        try pipeline.commit(second)

        let log = observer.log.withLock { $0 }
        // In order; each saw the store without its own burst (burst 2: burst 1's reading only).
        #expect(log.prepared.map(\.ts) == [Self.now - 3_600_000, Self.now - 3_540_000])
        #expect(log.prepared.map(\.stored) == [0, 1])
        #expect(log.applied == log.prepared.map(\.ts))
        #expect(try f.store.stats().readings == 2)
    }

    @Test("a failed commit: the preparation queued behind it ends before the observer forgets; nothing of either is applied")
    func failedCommitDrainsFirst() throws {
        let f = try IngestPipelineTests.Fixture()
        let flaky = FailingStore(store: f.store)
        let observer = GatedObserver(store: f.store, gates: 2)
        let pipeline = pipeline(f, observer, store: flaky)
        let first = pipeline.prepare(Self.burst(0))
        _ = pipeline.prepare(Self.burst(1))
        observer.release(0)
        flaky.failNext()
        let failed = Mutex(false)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { try pipeline.commit(first) } catch { failed.withLock { $0 = true } }
            done.signal()
        }
        thread.start()
        // The failed commit waits for burst 2's preparation (still held) before forgetting.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(observer.log.withLock { $0.abandonedAfter.isEmpty }, "forgot while a preparation was still running")
        observer.release(1)
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(failed.withLock { $0 })
        pipeline.dropped()
        let log = observer.log.withLock { $0 }
        #expect(log.abandonedAfter.first == 2, "\(log.abandonedAfter)")
        #expect(log.applied.isEmpty)
        #expect(try f.store.stats().readings == 0)
    }
}
