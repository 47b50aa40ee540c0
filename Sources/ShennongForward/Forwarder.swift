import Foundation
import Logging
import Metrics
import ServiceLifecycle
import ShennongAlerts
import ShennongCore
import Synchronization

/// Every door the forwarder uses: the commit feed and its state, the readings themselves, the
/// device registry (filters, namespacing, registry changes) and the alert feed.
public typealias ForwardStore = CommitFeed & ReadingQueries & DeviceRegistry & AlertFeed & SealLedger

/// Forwarding to upstream centres (统一采集、全网共享): one loop per target following a
/// durable cursor over what this server committed (``CommitFeed``), never a second copy of
/// the data.
///
/// Per target: at least once (the cursor moves only after the upstream took the batch), in
/// order per series, bounded batches (``ForwardTarget/batchReadings``), exponential backoff
/// while the upstream is away, the cursor persisted after every delivery (a restart resumes
/// there), lag metrics `shennong_forward_lag_seconds{target}` and
/// `shennong_forward_lag_readings{target}`, and a health line (``health()``).
///
/// A new target starts at the current end of the feed. Feed entries every target has passed
/// are pruned. Run it where ingest runs (the leader): the feed is written by this process's
/// bursts once ``init(targets:store:clock:logger:)`` turned it on.
public final class Forwarder: Service, Sendable {
    let links: [ForwardLink]
    let store: any ForwardStore
    let logger: Logger
    /// Each target's cursor seq once loaded: what may be pruned.
    let positions = Positions()

    final class Positions: Sendable {
        let seqs = Mutex<[String: Int64]>([:])
    }

    public init(targets: [ForwardTarget], store: any ForwardStore, clock: WallClock = .system, logger: Logger) {
        self.store = store
        self.logger = logger
        let positions = self.positions
        links = targets.map { target in
            ForwardLink(target: target, store: store, clock: clock, logger: logger) { seq in
                // Only targets that follow the feed hold back its pruning.
                guard target.carries.contains(.readings) else { return }
                positions.seqs.withLock { $0[target.name] = seq }
            }
        }
        if targets.contains(where: { $0.carries.contains(.readings) }) {
            store.enableCommitFeed()
        }
    }

    /// `forward.{target}` → a line for `/healthz`: `ok`, or why it is retrying, with the lag.
    public func health() -> [String: String] {
        var out: [String: String] = [:]
        for link in links { out["forward.\(link.target.name)"] = link.status.withLock { $0.line } }
        return out
    }

    /// Whether every target is delivering (no failure since its last delivery).
    public var healthy: Bool { links.allSatisfy { $0.status.withLock { $0.error == nil } } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for link in self.links {
                    group.addTask { await link.run() }
                }
                group.addTask { await self.pruneLoop() }
                await group.waitForAll()
            }
        }
        links.forEach { $0.sink.close() }
    }

    /// Entries no target has reached beyond which the feed is compacted.
    static let compactAbove = 256

    /// Every few seconds, deletes feed entries every target has passed, and compacts those
    /// none has reached when there are many.
    func pruneLoop() async {
        var pruned: Int64 = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            let known = positions.seqs.withLock { $0 }
            let following = links.count { $0.target.carries.contains(.readings) }
            guard following > 0, known.count == following, let lowest = known.values.min(), let furthest = known.values.max()
            else { continue }
            do {
                if lowest > pruned {
                    try store.pruneCommitFeed(through: lowest)
                    pruned = lowest
                }
                // Every target behind (an upstream away): the entries none has reached are
                // merged, so the feed stays about one entry per series however long it lasts.
                if try store.commitFeedBacklog(after: furthest).entries > Self.compactAbove {
                    let merged = try store.compactCommitFeed(after: furthest)
                    logger.debug("forward: commit feed compacted", metadata: ["merged": "\(merged)"])
                }
            } catch {
                logger.warning("forward: pruning the commit feed failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// What a target's health line says.
struct LinkStatus: Sendable {
    var error: String?
    var lagSeconds: Double = 0
    var lagReadings = 0
    var delivered = 0

    var line: String {
        let lag = "lag \(Int(lagSeconds.rounded())) s, \(lagReadings) readings"
        if let error { return "retrying: \(error) (\(lag))" }
        return "ok (\(lag), \(delivered) readings forwarded)"
    }
}

/// One target's loop: read from the cursor, deliver, persist the cursor.
final class ForwardLink: Sendable {
    static let cursorKey = "cursor"
    static let devicesKey = "devices"

    let target: ForwardTarget
    let store: any ForwardStore
    let clock: WallClock
    let logger: Logger
    let sink: any ForwardSink
    let status = Mutex(LinkStatus())
    let onPosition: @Sendable (Int64) -> Void
    let lagSeconds: Gauge
    let lagReadings: Gauge
    let forwarded: Counter
    let failures: Counter

    init(target: ForwardTarget, store: any ForwardStore, clock: WallClock, logger: Logger, onPosition: @escaping @Sendable (Int64) -> Void) {
        self.target = target
        self.store = store
        self.clock = clock
        var logger = logger
        logger[metadataKey: "forward.target"] = "\(target.name)"
        self.logger = logger
        self.onPosition = onPosition
        switch target.transport {
        case .mqtt(let mqtt): sink = MQTTForwardSink(target: mqtt, logger: logger)
        case .http(let http): sink = HTTPForwardSink(target: http, name: target.name, logger: logger)
        }
        let dimensions = [("target", target.name)]
        lagSeconds = Gauge(label: "shennong_forward_lag_seconds", dimensions: dimensions)
        lagReadings = Gauge(label: "shennong_forward_lag_readings", dimensions: dimensions)
        forwarded = Counter(label: "shennong_forward_readings_total", dimensions: dimensions)
        failures = Counter(label: "shennong_forward_failures_total", dimensions: dimensions)
    }

    /// The stored cursor, or a new one at the current end of the feed (stored at once).
    func loadCursor() throws -> ForwardCursor {
        if let text = try store.feedState(consumer: target.name, key: Self.cursorKey),
            let cursor = try? JSONDecoder().decode(ForwardCursor.self, from: Data(text.utf8))
        {
            return cursor
        }
        let cursor = ForwardCursor(seq: try store.commitFeedHead(), alertTransition: try store.newestAlertTransition())
        try save(cursor)
        logger.info("forward: new target starts at the end of the feed", metadata: ["seq": "\(cursor.seq)"])
        return cursor
    }

    func save(_ cursor: ForwardCursor) throws {
        let data = try JSONEncoder().encode(cursor)
        try store.setFeedState(consumer: target.name, key: Self.cursorKey, value: String(decoding: data, as: UTF8.self))
    }

    func run() async {
        var cursor: ForwardCursor?
        var backoff = Backoff(minimum: target.minBackoff, maximum: target.maxBackoff)
        var registry: [String: Device] = [:]
        var registryAt: Int64?
        var digests: [String: String]?
        var devicesDueAt: Int64 = .min
        while !Task.isCancelled {
            var more = false
            do {
                if cursor == nil {
                    cursor = try loadCursor()
                    onPosition(cursor!.seq)
                }
                let now = clock.now()
                if registryAt.map({ now - $0 > 5_000 }) ?? true {
                    registry = Dictionary(try store.devices().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                    registryAt = now
                }
                var next = cursor!
                var batch = ForwardBatch()
                if target.carries.contains(.readings) {
                    let entries = try store.commitFeed(after: next.seq, limit: 1000)
                    let devices = registry
                    let target = self.target
                    var planner = ReadingBatchPlanner(
                        cursor: next, entries: entries, capacity: target.batchReadings,
                        wants: { id in target.wants(devices[id]) })
                    while let read = planner.nextRead() {
                        planner.take(
                            try store.readings(device: read.device, metric: read.metric, from: read.from, to: read.to + 1, limit: read.limit))
                    }
                    batch.readings = planner.readings
                    more = planner.readings.count >= target.batchReadings || entries.count >= 1000
                    next.seq = planner.cursor.seq
                    next.partial = planner.cursor.partial
                }
                if target.carries.contains(.alerts) {
                    let notices = try store.alertNotices(afterTransition: next.alertTransition, limit: 200)
                    batch.notices = notices.filter { target.wants(registry[$0.alert.device]) }
                    if let last = notices.last { next.alertTransition = last.transition.id }
                    more = more || notices.count >= 200
                }
                if target.carries.contains(.seals) {
                    batch.seals = try store.seals(after: next.sealSequence, limit: 200)
                    if let last = batch.seals.last { next.sealSequence = last.sequence }
                    more = more || batch.seals.count >= 200
                }
                var newDigests: [String: String]?
                var checkedDevices = false
                let encoder = ForwardEncoder(target: target, devices: registry)
                if target.carries.contains(.devices), now >= devicesDueAt {
                    checkedDevices = true
                    if digests == nil {
                        digests = try store.feedState(consumer: target.name, key: Self.devicesKey)
                            .flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
                    }
                    var current: [String: String] = [:]
                    for device in registry.values.sorted(by: { $0.id < $1.id }) where target.wants(device) {
                        let digest = encoder.digest(device)
                        current[device.id] = digest
                        if digests?[device.id] != digest { batch.devices.append(device) }
                    }
                    if !batch.devices.isEmpty { newDigests = current }
                }
                if !batch.isEmpty {
                    try await sink.deliver(batch, encoder: encoder)
                    forwarded.increment(by: batch.readings.count)
                } else {
                    try sink.probe()
                }
                if next != cursor {
                    try save(next)
                    cursor = next
                    onPosition(next.seq)
                }
                // Looked at again 5 s after a delivery (at once after a failure).
                if checkedDevices { devicesDueAt = now + 5_000 }
                if let newDigests {
                    let data = try JSONEncoder().encode(newDigests)
                    try store.setFeedState(consumer: target.name, key: Self.devicesKey, value: String(decoding: data, as: UTF8.self))
                    digests = newDigests
                }
                if backoff.failures > 0 { logger.notice("forward: delivering again") }
                backoff.succeeded()
                let delivered = batch.readings.count
                status.withLock {
                    $0.error = nil
                    $0.delivered += delivered
                }
                try updateLag(cursor!)
                if !more { try? await Task.sleep(for: .milliseconds(target.pollInterval)) }
            } catch {
                failures.increment()
                let delay = backoff.failed()
                if backoff.failures == 1 || backoff.failures % 20 == 0 {
                    logger.warning(
                        "forward: delivery failed; retrying",
                        metadata: ["error": "\(error)", "in_ms": "\(delay)", "failures": "\(backoff.failures)"])
                }
                status.withLock { $0.error = "\(error)" }
                if let cursor { try? updateLag(cursor) }
                try? await Task.sleep(for: .milliseconds(delay))
            }
        }
    }

    /// The lag behind the feed's end: readings not delivered, and the age of the oldest.
    func updateLag(_ cursor: ForwardCursor) throws {
        guard target.carries.contains(.readings) else { return }
        let backlog = try store.commitFeedBacklog(after: cursor.seq)
        let seconds = backlog.oldestCommittedAt.map { max(0, Double(clock.now() - $0) / 1000) } ?? 0
        lagSeconds.record(seconds)
        lagReadings.record(backlog.readings)
        status.withLock {
            $0.lagSeconds = seconds
            $0.lagReadings = backlog.readings
        }
    }
}
