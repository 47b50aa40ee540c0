import Foundation
import Logging
import Metrics
import ShennongCore
import ShennongRules
import ShennongStore

/// The warnings stage of each ingest burst. On the ingest thread, once the burst is decoded,
/// it evaluates the rules over the burst's readings (duplicates included; the engine's
/// watermarks skip what it has already evaluated) while the burst before may still be
/// committing. On the commit thread, after the burst's commit, it writes the changed rule
/// states and the alert transitions in one transaction, then hands the transitions to the
/// notifier (which never blocks ingest).
///
/// Each burst is evaluated on top of the ones before, written or not. A failed commit or write
/// throws, so the burst is redelivered; the pipeline then abandons every evaluation not yet
/// written (the failed burst's and the one prepared behind it, which is dropped): the engine
/// forgets what memory holds for their devices (runtimes, when last heard, devices they made
/// known) and evaluates the redelivered readings again.
///
/// Invariant for @unchecked Sendable: `engine`, `pending` and `devicesLoadedAt` are only
/// touched with `lock` held (the ingest and commit threads, the periodic checks and SIGHUP
/// reloads take it). No store write is made with the lock held, except the silence check's.
final class RulesStage: IngestObserver, @unchecked Sendable {
    private let store: Store
    private let notifier: AlertNotifier
    private let logger: Logger
    private let lock = NSLock()
    private let engine: AlertEngine
    /// Evaluations not yet written nor abandoned, oldest first (at most two: the burst
    /// committing and the one prepared behind it).
    private var pending: [(id: UInt64, output: EvaluationOutput)] = []
    private var evaluations: UInt64 = 0
    private var devicesLoadedAt = Date()
    private let metrics = RulesMetrics()

    init(store: Store, rules: [Rule], options: EngineOptions, profiles: [String: DeviceProfile], notifier: AlertNotifier, logger: Logger)
        throws
    {
        self.store = store
        self.notifier = notifier
        self.logger = logger
        engine = AlertEngine(
            rules: rules, persisted: try store.ruleStates(), options: options,
            expectedInterval: { device in profiles[device.profile].map { Int64($0.expectedInterval) * 1000 } })
        engine.setDevices(try store.deviceRecords().map { ($0.device, $0.lastSeen) })
    }

    func prepare(_ batch: IngestBatch, previousStored: () -> Void) -> IngestObservation {
        let now = Self.now()
        lock.lock()
        defer { lock.unlock() }
        refreshDevicesIfStale()
        let started = DispatchTime.now().uptimeNanoseconds
        var waited: UInt64 = 0
        defer {
            // Evaluation time, without the wait for the burst before.
            metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started - waited))
        }
        metrics.evaluated.increment(by: batch.readings.count)
        let output: EvaluationOutput
        do {
            output = try engine.evaluate(
                readings: batch.readings, newDevices: batch.newDevices, seen: batch.seen,
                presence: batch.presence.mapValues { (offline: $0.state == "offline", at: $0.at) }, now: now,
                history: { [store] requests in
                    // Windows rebuilt from stored readings must hold the burst before this one.
                    let wait = DispatchTime.now().uptimeNanoseconds
                    previousStored()
                    waited = DispatchTime.now().uptimeNanoseconds - wait
                    return try store.history(requests)
                },
                lookup: { [store] in try? store.device(id: $0) })
        } catch {
            // Only the history read throws, before any runtime changed: nothing to forget.
            return { [self] in try refuse(error) }
        }
        evaluations += 1
        let id = evaluations
        pending.append((id, output))
        return { [self] in try write(output, id: id, now: now) }
    }

    /// After the burst's commit (commit thread): writes the evaluation; it is then the engine's
    /// persisted state. Throws when the write failed (the pipeline then abandons it).
    private func write(_ output: EvaluationOutput, id: UInt64, now: Int64) throws {
        var notices: [AlertNotice] = []
        if !output.isEmpty {
            do {
                notices = try store.applyRuleEvaluation(states: output.states, changes: output.changes, now: now)
            } catch {
                try refuse(error)
            }
        }
        lock.lock()
        if !output.isEmpty { engine.committed(output) }
        pending.removeAll { $0.id == id }
        lock.unlock()
        guard !output.isEmpty else { return }
        metrics.stateWrites.increment(by: output.states.count)
        record(notices)
        notifier.enqueue(notices)
    }

    private func refuse(_ error: any Error) throws -> Never {
        metrics.failures.increment()
        logger.error("rule evaluation failed; the burst will be redelivered", metadata: ["error": "\(error)"])
        throw error
    }

    func abandonPending() {
        lock.lock()
        defer { lock.unlock() }
        // Newest first: each puts back what memory held before it.
        for (_, output) in pending.reversed() { engine.discard(output) }
        pending.removeAll()
    }

    /// Silence of every device at the wall clock (the periodic check). Devices with an
    /// evaluation not yet written were just heard: they are left for the next check.
    func checkSilence() {
        let now = Self.now()
        lock.lock()
        defer { lock.unlock() }
        refreshDevicesIfStale()
        let output = engine.checkSilence(now: now, skipping: Set(pending.flatMap(\.output.devices)))
        guard !output.isEmpty else { return }
        do {
            let notices = try store.applyRuleEvaluation(states: output.states, changes: output.changes, now: now)
            engine.committed(output)
            record(notices)
            notifier.enqueue(notices)
        } catch {
            engine.discard(output)
            metrics.failures.increment()
            logger.error("silence check failed", metadata: ["error": "\(error)"])
        }
    }

    /// New rules (SIGHUP): evaluation continues from the persisted states.
    func reload(rules: [Rule]) {
        lock.lock()
        defer { lock.unlock() }
        engine.reload(rules: rules)
    }

    private func record(_ notices: [AlertNotice]) {
        if !notices.isEmpty { OpenAlertsGauge.update(store: store, logger: logger) }
        for notice in notices {
            metrics.transitions(notice.transition.kind).increment()
            let level = AlertLevel(stored: notice.alert.level)?.name ?? "none"
            logger.notice(
                "alert \(notice.transition.kind.rawValue)",
                metadata: [
                    "alert": "\(notice.alert.id)", "rule": "\(notice.alert.rule)", "device": "\(notice.alert.device)",
                    "level": "\(level)", "late": "\(notice.alert.late)",
                ])
        }
    }

    private func refreshDevicesIfStale() {
        guard Date().timeIntervalSince(devicesLoadedAt) > 30 else { return }
        if let records = try? store.deviceRecords() {
            engine.setDevices(records.map { ($0.device, $0.lastSeen) })
            devicesLoadedAt = Date()
        }
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// The warnings counters (swift-metrics; exported by /metrics).
struct RulesMetrics {
    let failures = Counter(label: "shennong_rules_failures_total")
    let stateWrites = Counter(label: "shennong_rule_state_writes_total")
    /// Time to evaluate one burst (recorded for every burst).
    let duration = Timer(label: "shennong_rules_evaluation_seconds")
    /// Readings the rules evaluated.
    let evaluated = Counter(label: "shennong_rules_readings_evaluated_total")
    private let byKind: [AlertTransitionKind: Counter] = Dictionary(
        uniqueKeysWithValues: AlertTransitionKind.allCases.map {
            ($0, Counter(label: "shennong_alert_transitions_total", dimensions: [("kind", $0.rawValue)]))
        })

    func transitions(_ kind: AlertTransitionKind) -> Counter { byKind[kind]! }
}
