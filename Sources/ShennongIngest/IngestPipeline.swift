import Foundation
import Logging
import Metrics
import MosquittoClient
import ShennongCore
import Synchronization

/// Turns a burst of MQTT messages into one committed ``IngestBatch``: topic to device,
/// device to profile, payload to readings, and every unusable part to a reject with its reason.
///
/// ``prepare(_:)`` decodes a burst on the ingest thread and queues the observer's (the rules')
/// preparation of it, which runs on a thread of its own (``ObservationQueue``);
/// ``commit(_:)`` waits for that preparation, writes the burst on the commit thread (possibly
/// while the next burst is decoded and evaluated) and returns only after the commit and the
/// observer's writes, so the caller may then
/// acknowledge the messages; it throws when the commit failed, and then nothing of the burst is
/// stored or acknowledged. ``dropped()`` undoes a prepared burst whose commit will never run.
/// ``handle(_:)`` prepares and commits. ``replayRejects(_:from:)`` decodes stored rejects again
/// as one more burst in the same order.
public final class IngestPipeline: Sendable {
    private let store: any ReadingIngest & DeviceRegistry
    /// The options this pipeline decodes with (and ``MQTTIngestService`` reads bursts with).
    public let options: IngestOptions
    private let logger: Logger
    /// The decoding state (registry cache, bursts prepared): ``prepare(_:)`` holds the lock
    /// while it decodes a burst and prepares the observer, so bursts get their sequence numbers
    /// in the order the observer sees them. Only the ingest thread takes it, once per burst, and
    /// a reject replay (rare): it is uncontended but during a replay.
    private let decoder: Mutex<BurstDecoder>
    /// Held by ``commit(_:)`` from the commit to the observation's end: a replay's burst and the
    /// ingest's bursts are committed and observed one at a time, in sequence order.
    private let committing = Mutex(())
    /// Set by a failed commit or a dropped burst: the registry cache may hold devices that
    /// were never stored.
    private let reloadDevices = Mutex(false)
    /// Every burst up to this one has been committed, has failed or was dropped.
    private let stored = SequenceBarrier()
    private let metrics = IngestMetrics()
    private let observer: (any IngestObserver)?
    /// Where the observer prepares bursts, off the ingest thread.
    private let observations = ObservationQueue()
    /// Receive times, the age of the newest reading, the last commit's time.
    private let clock: WallClock

    /// A pipeline writing to `store`, decoding topics of `topics` with `profiles` (by name;
    /// `options.defaultProfile` should be one of them, else new devices decode with the
    /// canonical names), and preparing `observer` (the rules) for every burst. Messages are
    /// stamped with `clock`'s time when they carry none.
    public init(
        store: any ReadingIngest & DeviceRegistry, profiles: [String: DeviceProfile], topics: TopicScheme, options: IngestOptions,
        observer: (any IngestObserver)? = nil, clock: WallClock = .system, logger: Logger
    ) {
        self.observer = observer
        self.clock = clock
        self.store = store
        self.options = options
        self.logger = logger
        decoder = Mutex(
            BurstDecoder(store: store, profiles: profiles, topics: topics, options: options, clock: clock, logger: logger))
    }

    /// A burst decoded on the ingest thread, waiting for its commit.
    public struct PreparedBurst: Sendable {
        let sequence: UInt64
        let batch: IngestBatch
        let registered: [Device]
        let messages: Int
        let started: UInt64
        /// The observer's preparation of the burst, queued (``ObservationQueue``).
        let observation: ObservationQueue.Pending?

        /// Whether the observer (the rules) has prepared this burst: it runs on its own thread
        /// after ``IngestPipeline/prepare(_:)`` returns, and may wait there for the commit of
        /// the burst before (a window rebuilt from stored readings).
        public var isObserved: Bool { observation?.isDone ?? true }
    }

    /// Decodes and commits `messages`. Throws if the commit or the observation failed.
    @discardableResult
    public func handle(_ messages: [MQTTMessage]) throws -> CommitResult {
        try commit(prepare(messages))
    }

    /// Decodes `messages` (topic to device, device to profile, payload to readings, unusable
    /// parts to rejects) and queues the observer's preparation of the burst, which runs on the
    /// observation queue's thread; nothing is written. Called from the ingest thread only, one
    /// burst at a time, possibly while the previous burst is being committed.
    public func prepare(_ messages: [MQTTMessage]) -> PreparedBurst {
        let started = DispatchTime.now().uptimeNanoseconds
        let failed = reloadDevices.withLock { flag in
            defer { flag = false }
            return flag
        }
        let (batch, registered, sequence, observation) = decoder.withLock { decoder in
            decoder.refreshDevicesIfStale(failed: failed)
            let receivedAt = clock.now()
            let (batch, registered) = decoder.decode(messages, receivedAt: receivedAt)
            let sequence = decoder.sequence
            return (batch, registered, sequence, observe(batch, sequence: sequence))
        }
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
        // A replay's burst may sit between two of the ingest's: each waits for the one before.
        stored.wait(through: prepared.sequence - 1)
        return try committing.withLock { _ in try commitInTurn(prepared) }
    }

    private func commitInTurn(_ prepared: PreparedBurst) throws -> CommitResult {
        let batch = prepared.batch
        // The rules have prepared the burst before its readings are written, as when they ran
        // on the ingest thread: what they read of stored readings (window rebuilds, whether a
        // late reading is a redelivery) never holds the burst itself.
        let observation = prepared.observation?.wait()
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
        let nowSeconds = clock.nowSeconds()
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
            try observation?()
        } catch {
            failed()
            throw error
        }
        return result
    }

    /// Decodes the stored rejects `request` selects (from `log`) again with this pipeline's
    /// profiles and stores what now decodes, as one burst per 500 rejects; returns the counts.
    ///
    /// Why through this pipeline, not a second one on the same store: the rules (the observer)
    /// must see every burst once and in order, and the registry cache must not register a device
    /// twice. A replay burst takes the next sequence number under the decoder's lock (so the
    /// ingest thread waits for at most one replay burst to be decoded), its commit waits for the
    /// burst before it and holds ``committing`` as the commit thread does, so the rules see the
    /// replayed readings as a late burst among the live ones. Readings keep their payload's time,
    /// or the reject's receive time when the payload has none; a reading already stored is a
    /// duplicate (stored once), so a second replay stores nothing twice. Each burst deletes the
    /// rejects it replays in its own transaction and stores what still fails as new rejects with
    /// the reason of now: no reject row is duplicated either.
    ///
    /// On a dry run nothing is written and the rules see nothing; `stored` then counts the
    /// readings that decode. Any thread but the ingest thread; throws when a commit failed (the
    /// bursts committed before stay committed).
    public func replayRejects(_ request: RejectReplayRequest, from log: any RejectLog) throws -> RejectReplayCounts {
        let rejects = try log.rejectsToReplay(
            since: request.since, reason: request.reason, device: request.device, limit: 1_000_000)
        var counts = RejectReplayCounts(dryRun: request.dryRun)
        var start = 0
        while start < rejects.count {
            let chunk = Array(rejects[start..<min(start + 500, rejects.count)])
            start += chunk.count
            counts.examined += chunk.count
            if request.dryRun {
                let batch = decoder.withLock { decoder in
                    var copy = decoder
                    return copy.decodeReplay(chunk).batch
                }
                counts.stored += batch.readings.count
                counts.stillRejected += batch.rejects.count
                continue
            }
            let failed = reloadDevices.withLock { flag in
                defer { flag = false }
                return flag
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let prepared = decoder.withLock { decoder in
                decoder.refreshDevicesIfStale(failed: failed)
                let (batch, registered) = decoder.decodeReplay(chunk)
                let sequence = decoder.sequence
                let observation = observe(batch, sequence: sequence)
                return PreparedBurst(
                    sequence: sequence, batch: batch, registered: registered, messages: 0, started: started,
                    observation: observation)
            }
            let result = try commit(prepared)
            counts.stored += result.inserted
            counts.stillRejected += prepared.batch.rejects.count
        }
        counts.replayedRejects = max(0, counts.examined - counts.stillRejected)
        logger.notice(
            "rejects replayed",
            metadata: [
                "examined": "\(counts.examined)", "stored": "\(counts.stored)", "still_rejected": "\(counts.stillRejected)",
                "dry_run": "\(request.dryRun)",
            ])
        return counts
    }

    /// Queues the observer's preparation of burst `sequence`. Under the decoder lock: bursts
    /// reach the queue in sequence order.
    private func observe(_ batch: IngestBatch, sequence: UInt64) -> ObservationQueue.Pending? {
        guard let observer else { return nil }
        return observations.submit(batch, previousStored: { [stored] in stored.wait(through: sequence - 1) }, to: observer)
    }

    private func failed() {
        reloadDevices.withLock { $0 = true }
        // Preparations still queued build on the failed burst: let them end, then forget them all.
        observations.drain()
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
