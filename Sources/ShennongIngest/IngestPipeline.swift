import Foundation
import Logging
import Metrics
import MosquittoClient
import ShennongCore
import Synchronization

/// Turns a burst of MQTT messages into one committed ``IngestBatch``: topic to device,
/// device to profile, payload to readings, and every unusable part to a reject with its reason.
///
/// ``prepare(_:)`` decodes a burst on the ingest thread and prepares the observer (the rules);
/// ``commit(_:)`` writes it on the commit thread (possibly while the next burst is prepared)
/// and returns only after the commit and the observer's writes, so the caller may then
/// acknowledge the messages; it throws when the commit failed, and then nothing of the burst is
/// stored or acknowledged. ``dropped()`` undoes a prepared burst whose commit will never run.
/// ``handle(_:)`` prepares and commits.
public final class IngestPipeline: Sendable {
    private let store: any ReadingIngest & DeviceRegistry
    /// The options this pipeline decodes with (and ``MQTTIngestService`` reads bursts with).
    public let options: IngestOptions
    private let logger: Logger
    /// The decoding state (registry cache, bursts prepared), used by the ingest thread only:
    /// ``prepare(_:)`` takes the lock once per burst and ``dropped()`` once, so it is never
    /// contended and costs one uncontended lock per burst, not per message.
    private let decoder: Mutex<BurstDecoder>
    /// Set by a failed commit or a dropped burst: the registry cache may hold devices that
    /// were never stored.
    private let reloadDevices = Mutex(false)
    /// Every burst up to this one has been committed, has failed or was dropped.
    private let stored = SequenceBarrier()
    private let metrics = IngestMetrics()
    private let observer: (any IngestObserver)?

    /// A pipeline writing to `store`, decoding topics of `topics` with `profiles` (by name;
    /// `options.defaultProfile` should be one of them, else new devices decode with the
    /// canonical names), and preparing `observer` (the rules) for every burst.
    public init(
        store: any ReadingIngest & DeviceRegistry, profiles: [String: DeviceProfile], topics: TopicScheme, options: IngestOptions,
        observer: (any IngestObserver)? = nil, logger: Logger
    ) {
        self.observer = observer
        self.store = store
        self.options = options
        self.logger = logger
        decoder = Mutex(BurstDecoder(store: store, profiles: profiles, topics: topics, options: options, logger: logger))
    }

    /// A burst decoded on the ingest thread, waiting for its commit.
    public struct PreparedBurst: Sendable {
        let sequence: UInt64
        let batch: IngestBatch
        let registered: [Device]
        let messages: Int
        let started: UInt64
        let observation: IngestObservation?
    }

    /// Decodes and commits `messages`. Throws if the commit or the observation failed.
    @discardableResult
    public func handle(_ messages: [MQTTMessage]) throws -> CommitResult {
        try commit(prepare(messages))
    }

    /// Decodes `messages` (topic to device, device to profile, payload to readings, unusable
    /// parts to rejects) and prepares the observer; nothing is written. Called from the ingest
    /// thread only, one burst at a time, possibly while the previous burst is being committed.
    public func prepare(_ messages: [MQTTMessage]) -> PreparedBurst {
        let started = DispatchTime.now().uptimeNanoseconds
        let failed = reloadDevices.withLock { flag in
            defer { flag = false }
            return flag
        }
        let (batch, registered, sequence) = decoder.withLock { decoder in
            decoder.refreshDevicesIfStale(failed: failed)
            let receivedAt = Int64((Date().timeIntervalSince1970 * 1000).rounded())
            let (batch, registered) = decoder.decode(messages, receivedAt: receivedAt)
            return (batch, registered, decoder.sequence)
        }
        let previous = sequence - 1
        let observation = observer?.prepare(batch, previousStored: { [stored] in stored.wait(through: previous) })
        return PreparedBurst(
            sequence: sequence, batch: batch, registered: registered, messages: messages.count, started: started,
            observation: observation)
    }

    /// The last prepared burst will never be committed (the one before it failed): the
    /// observer forgets what it prepared, the next ``prepare(_:)`` reloads the device registry.
    /// Called from the ingest thread.
    public func dropped() {
        stored.advance(to: decoder.withLock { $0.sequence })
        failed()
    }

    /// Commits a prepared burst and applies its observation (the rules). Called from one thread
    /// at a time (the commit thread), bursts in the order they were prepared. Throws when the
    /// commit or the observation failed: then the burst must not be acknowledged, the observer
    /// forgets every observation not yet applied, and the devices this burst registered are
    /// forgotten by the next ``prepare(_:)`` (it reloads the registry).
    @discardableResult
    public func commit(_ prepared: PreparedBurst) throws -> CommitResult {
        let batch = prepared.batch
        let started = DispatchTime.now().uptimeNanoseconds
        let result: CommitResult
        do {
            result = try store.commit(batch)
        } catch {
            // The barrier first: the next burst's prepare may be waiting on it while it holds
            // what abandonPending() needs.
            stored.advance(to: prepared.sequence)
            failed()
            metrics.commitFailures.increment()
            noteCommitFailure(error, messages: prepared.messages)
            throw error
        }
        stored.advance(to: prepared.sequence)
        noteCommitSuccess()
        let committed = DispatchTime.now().uptimeNanoseconds
        metrics.commitDuration.recordNanoseconds(Int64(committed - started))
        metrics.ingestLag.recordNanoseconds(Int64(committed - prepared.started))
        let nowSeconds = Date().timeIntervalSince1970
        metrics.lastCommit.record(nowSeconds)
        if let newest = batch.readings.lazy.map(\.timestamp).max() {
            metrics.readingAge.record(max(0, nowSeconds - Double(newest) / 1000))
        }
        metrics.commits.increment()
        metrics.batchSize.record(prepared.messages)
        metrics.received.increment(by: prepared.messages)
        metrics.stored.increment(by: result.inserted)
        metrics.duplicates.increment(by: result.duplicates)
        for reject in batch.rejects {
            metrics.rejected(reject.code).increment()
        }
        for device in prepared.registered {
            logger.info("registered new device", metadata: ["device": "\(device.id)", "domain": "\(device.domain.rawValue)"])
        }
        // After the commit and before the acknowledgement: a stage that throws here makes
        // the broker redeliver the burst (its readings are then duplicates, stored once).
        do {
            try prepared.observation?()
        } catch {
            failed()
            throw error
        }
        return result
    }

    private func failed() {
        reloadDevices.withLock { $0 = true }
        observer?.abandonPending()
    }

    /// Why the last commit failed (a full disk, say), `nil` after a successful one; any thread.
    public var storageError: String? { storageFailure.withLock { $0 } }
    private let storageFailure = Mutex<String?>(nil)

    private func noteCommitFailure(_ error: any Error, messages: Int) {
        let reason = "\(error)"
        let first = storageFailure.withLock { failure in
            defer { failure = reason }
            return failure == nil
        }
        if first {
            logger.error(
                "storage: commit failed; not acknowledging, the broker keeps the messages and redelivers them",
                metadata: ["error": "\(reason)", "messages": "\(messages)", "database": "\(store.location)"])
        }
    }

    private func noteCommitSuccess() {
        let recovered = storageFailure.withLock { failure in
            defer { failure = nil }
            return failure
        }
        if let recovered {
            logger.notice("storage: commits succeed again; ingest resumed", metadata: ["previous_error": "\(recovered)"])
        }
    }
}
