import Dispatch
import ShennongCore
import Synchronization

/// Runs the observer's ``IngestObserver/prepare(_:previousStored:)`` (the rules) of each burst
/// on a thread of its own, one burst at a time, in the order the bursts were handed to it.
///
/// So the ingest thread only reads and decodes: the rules evaluate a burst while the commit
/// thread writes the one before, and the ingest thread decodes the next. The commit thread
/// waits for a burst's observation (``Pending/wait()``) before it writes the burst's readings,
/// so the rules never read stored readings that hold the burst they evaluate.
///
/// Bursts must be handed over (``submit(_:previousStored:to:)``) in sequence order: the
/// pipeline does it under its decoder lock, where sequence numbers are given.
final class ObservationQueue: Sendable {
    /// The observation of one burst, being worked out.
    final class Pending: Sendable {
        private let observation = Mutex<IngestObservation?>(nil)
        private let done = DispatchSemaphore(value: 0)

        fileprivate func fulfil(_ value: @escaping IngestObservation) {
            observation.withLock { $0 = value }
            done.signal()
        }

        /// Whether the observer has prepared the burst.
        var isDone: Bool { observation.withLock { $0 != nil } }

        /// Waits until the observer has prepared the burst; returns what to write after its commit.
        func wait() -> IngestObservation {
            done.wait()
            done.signal()  // so that any later wait returns at once too
            return observation.withLock { $0! }
        }
    }

    private let queue = DispatchQueue(label: "shennong.rules.prepare", qos: .userInitiated)

    /// Queues the preparation of `batch`; `previousStored` as the observer's.
    func submit(
        _ batch: IngestBatch, previousStored: @escaping @Sendable () -> Void, to observer: any IngestObserver
    ) -> Pending {
        let pending = Pending()
        queue.async {
            pending.fulfil(observer.prepare(batch, previousStored: previousStored))
        }
        return pending
    }

    /// Returns once every preparation queued before the call has ended. Not from the queue.
    func drain() {
        queue.sync {}
    }
}
