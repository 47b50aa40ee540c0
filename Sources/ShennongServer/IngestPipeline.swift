import Foundation
import Logging
import Metrics
import MosquittoClient
import ShennongCore
import ShennongStore
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
public final class IngestPipeline: @unchecked Sendable {
    // Invariant for @unchecked Sendable: the decoding state (`devices`, `devicesLoadedAt`,
    // `warnedProfiles`, `lastRegistered`, `preparedSequence`) is touched only by the single
    // ingest thread that calls prepare(_:) and dropped(); commit(_:) touches only the store, the
    // metrics, the observer and the lock-guarded `reloadDevices`, `storageFailure` and `stored`.
    private let store: any ReadingIngest & DeviceRegistry
    private let profiles: [String: DeviceProfile]
    private let topics: TopicScheme
    private let config: ServerConfig.Ingest
    private let logger: Logger
    private var devices: [String: Device] = [:]
    private var devicesLoadedAt: Date = .distantPast
    private var warnedProfiles: Set<String> = []
    /// Devices the last prepared burst registered (perhaps not committed yet).
    private var lastRegistered: [Device] = []
    /// Set by a failed commit or a dropped burst: the registry cache may hold devices that
    /// were never stored.
    private let reloadDevices = Mutex(false)
    /// Bursts prepared (ingest thread), counted from 1.
    private var preparedSequence: UInt64 = 0
    /// Every burst up to this one has been committed, has failed or was dropped.
    private let stored = SequenceBarrier()
    private let metrics = IngestMetrics()
    private let observer: (any IngestObserver)?

    public init(
        store: any ReadingIngest & DeviceRegistry, profiles: [String: DeviceProfile], topics: TopicScheme, config: ServerConfig.Ingest,
        observer: (any IngestObserver)? = nil, logger: Logger
    ) {
        self.observer = observer
        self.store = store
        self.profiles = profiles
        self.topics = topics
        self.config = config
        self.logger = logger
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
        refreshDevicesIfStale()
        let receivedAt = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        var batch = IngestBatch()
        var registered: [Device] = []
        for message in messages {
            process(message, receivedAt: receivedAt, into: &batch, registered: &registered)
        }
        lastRegistered = registered
        preparedSequence += 1
        let previous = preparedSequence - 1
        let observation = observer?.prepare(batch, previousStored: { [stored] in stored.wait(through: previous) })
        return PreparedBurst(
            sequence: preparedSequence, batch: batch, registered: registered, messages: messages.count, started: started,
            observation: observation)
    }

    /// The last prepared burst will never be committed (the one before it failed): the
    /// observer forgets what it prepared, the next ``prepare(_:)`` reloads the device registry.
    /// Called from the ingest thread.
    public func dropped() {
        stored.advance(to: preparedSequence)
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

    private func process(
        _ message: MQTTMessage, receivedAt: Int64, into batch: inout IngestBatch, registered: inout [Device]
    ) {
        func reject(_ code: RejectCode, _ reason: String, device: String?, field: String? = nil) {
            batch.reject(message, receivedAt: receivedAt, code: code, reason: reason, device: device, field: field)
        }
        guard let (deviceID, kind) = topics.parse(message.topic) else {
            reject(.invalidTopic, "topic \(message.topic) is not \(topics.prefix)/{device}/telemetry or /status", device: nil)
            return
        }
        guard Device.isValidID(deviceID) else {
            reject(.invalidDeviceID, "device id \"\(deviceID.prefix(80))\" must match [A-Za-z0-9_.-]{1,64}", device: nil)
            return
        }
        if message.payload.count > config.maxPayloadBytes {
            reject(
                .payloadTooLarge,
                "payload of \(message.payload.count) bytes is larger than the limit of \(config.maxPayloadBytes)",
                device: deviceID)
            return
        }
        let known = device(deviceID)
        switch kind {
        case .status:
            let text = String(decoding: message.payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                .lowercased()
            guard text == "online" || text == "offline" else {
                reject(.unsupportedPayload, "status payload must be online or offline, not \"\(text.prefix(40))\"", device: deviceID)
                return
            }
            if known != nil {
                batch.presence[deviceID] = Presence(state: text, at: receivedAt)
            }
        case .telemetry:
            let profile = known.map { self.profile(named: $0.profile) } ?? profile(named: config.defaultProfile)
            if known == nil && config.unknownDevices != "register" {
                reject(.unknownDevice, "device \(deviceID) is not registered (ingest.unknown_devices: reject)", device: deviceID)
                return
            }
            let options = DecodeOptions(
                maxPayloadBytes: config.maxPayloadBytes, maxFutureSkew: Int64(config.maxFutureSkewSeconds) * 1000)
            if let gateway = profile.gateway {
                processGateway(
                    message, gateway: deviceID, known: known, profile: profile, mapping: gateway, options: options,
                    receivedAt: receivedAt, into: &batch, registered: &registered)
                return
            }
            let result = PayloadDecoder.decode(
                message.payload, device: deviceID, profile: profile, receivedAt: receivedAt, options: options)
            for rejection in result.rejections {
                reject(rejection.code, rejection.message, device: deviceID, field: rejection.field)
            }
            guard !result.readings.isEmpty else { return }
            if known == nil {
                let domain = profile.domain ?? Domain.infer(from: result.readings.map(\.metric)) ?? .weather
                let device = Device(id: deviceID, profile: profile.name, domain: domain, createdAt: receivedAt)
                devices[deviceID] = device
                batch.newDevices.append(device)
                registered.append(device)
            }
            batch.readings.append(contentsOf: result.readings)
            batch.markSeen(deviceID, at: receivedAt)
        }
    }

    /// A gateway's message: each child decoded with its own profile (or the gateway's child
    /// profile when new), new children registered like any unknown device, the gateway too.
    private func processGateway(
        _ message: MQTTMessage, gateway: String, known: Device?, profile: DeviceProfile, mapping: GatewayMapping,
        options: DecodeOptions, receivedAt: Int64, into batch: inout IngestBatch, registered: inout [Device]
    ) {
        func reject(_ code: RejectCode, _ reason: String, _ device: String?, _ field: String?) {
            batch.reject(message, receivedAt: receivedAt, code: code, reason: reason, device: device, field: field)
        }
        let childDefault = self.profile(named: mapping.childProfile)
        let (result, _) = PayloadDecoder.decodeMessage(
            message.payload, device: gateway, profile: profile, receivedAt: receivedAt, options: options,
            profileOf: { id in self.device(id).map { self.profile(named: $0.profile) } ?? childDefault })
        for rejection in result.rejections {
            reject(rejection.code, rejection.message, gateway, rejection.field)
        }
        var byDevice: [String: [Reading]] = [:]
        var order: [String] = []
        for reading in result.readings {
            if byDevice[reading.device] == nil { order.append(reading.device) }
            byDevice[reading.device, default: []].append(reading)
        }
        func register(_ id: String, profile: DeviceProfile, metrics: [String]) {
            let domain = profile.domain ?? Domain.infer(from: metrics) ?? .weather
            let device = Device(id: id, profile: profile.name, domain: domain, createdAt: receivedAt)
            devices[id] = device
            batch.newDevices.append(device)
            registered.append(device)
        }
        var stored = false
        for id in order {
            let readings = byDevice[id] ?? []
            if device(id) == nil {
                guard config.unknownDevices == "register" else {
                    reject(.unknownDevice, "child \(id) of gateway \(gateway) is not registered (ingest.unknown_devices: reject)", gateway, nil)
                    continue
                }
                register(id, profile: childDefault, metrics: readings.map(\.metric))
            }
            batch.readings.append(contentsOf: readings)
            batch.markSeen(id, at: receivedAt)
            stored = true
        }
        if stored {
            if known == nil { register(gateway, profile: profile, metrics: result.readings.map(\.metric)) }
            batch.markSeen(gateway, at: receivedAt)
        }
    }

    private func device(_ id: String) -> Device? {
        if let device = devices[id] { return device }
        // Registered through the API since the last refresh?
        if let device = try? store.device(id: id) {
            devices[id] = device
            return device
        }
        return nil
    }

    private func profile(named name: String) -> DeviceProfile {
        if let profile = profiles[name] { return profile }
        if !warnedProfiles.contains(name) {
            warnedProfiles.insert(name)
            logger.warning("device profile not found; decoding with canonical names", metadata: ["profile": "\(name)"])
        }
        return .generic
    }

    /// Reloads the device registry every 30 s so profile changes made through the API apply,
    /// and at once after a failed commit or a dropped burst (devices either registered were
    /// never stored). Devices the previous burst registered stay: it may still be committing.
    private func refreshDevicesIfStale() {
        let failed = reloadDevices.withLock { flag in
            defer { flag = false }
            return flag
        }
        if failed {
            lastRegistered = []
        } else if Date().timeIntervalSince(devicesLoadedAt) <= 30 {
            return
        }
        if let all = try? store.devices() {
            devices = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for device in lastRegistered where devices[device.id] == nil {
                devices[device.id] = device
            }
            devicesLoadedAt = Date()
        } else if failed {
            devices = [:]
            devicesLoadedAt = .distantPast
        }
    }
}

/// The number of the newest burst resolved (committed, failed or dropped), and a wait for it.
final class SequenceBarrier: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `resolved` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var resolved: UInt64 = 0

    func advance(to sequence: UInt64) {
        condition.lock()
        resolved = max(resolved, sequence)
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once every burst up to `sequence` is resolved.
    func wait(through sequence: UInt64) {
        condition.lock()
        while resolved < sequence { condition.wait() }
        condition.unlock()
    }
}

/// The ingest counters, created once (swift-metrics; exported by /metrics).
struct IngestMetrics {
    let received = Counter(label: "shennong_messages_received_total")
    let stored = Counter(label: "shennong_readings_stored_total")
    let duplicates = Counter(label: "shennong_readings_duplicate_total")
    let commitFailures = Counter(label: "shennong_commit_failures_total")
    let commits = Counter(label: "shennong_commits_total")
    let batchSize = Recorder(label: "shennong_batch_messages", aggregate: true)
    let commitDuration = Timer(label: "shennong_commit_seconds")
    /// Seconds from the start of a burst's decoding to its commit (what the broker waits for its PUBACKs).
    let ingestLag = Timer(label: "shennong_ingest_lag_seconds")
    /// Age, at commit, of the newest reading of the last burst: how far behind real time the data is.
    let readingAge = Gauge(label: "shennong_ingest_reading_age_seconds")
    /// Unix time of the last successful commit.
    let lastCommit = Gauge(label: "shennong_last_commit_timestamp_seconds")
    private let rejectedByCode: [RejectCode: Counter] = Dictionary(
        uniqueKeysWithValues: RejectCode.allCases.map {
            ($0, Counter(label: "shennong_messages_rejected_total", dimensions: [("reason", $0.rawValue)]))
        })

    func rejected(_ code: RejectCode) -> Counter { rejectedByCode[code]! }
}

extension IngestBatch {
    /// Records `message` (raw bytes, topic, time) as a reject with its reason.
    mutating func reject(
        _ message: MQTTMessage, receivedAt: Int64, code: RejectCode, reason: String, device: String?, field: String?
    ) {
        rejects.append(
            RejectRecord(
                receivedAt: receivedAt, topic: message.topic, device: device, payload: message.payload, code: code,
                reason: reason, field: field))
    }
}
