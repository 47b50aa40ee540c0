import Foundation
import Logging
import Metrics
import ShennongCore
import ShennongRules
import ShennongStore

/// The warnings stage after each committed ingest burst: evaluates the rules over the
/// burst's readings (duplicates included; the engine's watermarks skip what it has already
/// evaluated), writes the changed rule states and the alert transitions in one transaction,
/// then hands the transitions to the notifier (which never blocks ingest).
///
/// A failed write throws, so the burst is redelivered; the engine then forgets what memory
/// holds for the burst's devices and evaluates the redelivered readings again.
///
/// Invariant for @unchecked Sendable: `engine`, `devicesLoadedAt` are only touched with
/// `lock` held (the ingest thread, the periodic checks and SIGHUP reloads take it).
final class RulesStage: IngestObserver, @unchecked Sendable {
    private let store: Store
    private let notifier: AlertNotifier
    private let logger: Logger
    private let lock = NSLock()
    private let engine: AlertEngine
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

    func committed(_ batch: IngestBatch, result: CommitResult) throws {
        let now = Self.now()
        lock.lock()
        defer { lock.unlock() }
        refreshDevicesIfStale()
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
        metrics.evaluated.increment(by: batch.readings.count)
        var output = EvaluationOutput()
        do {
            output = try engine.evaluate(
                readings: batch.readings, newDevices: batch.newDevices, seen: batch.seen,
                presence: batch.presence.mapValues { (offline: $0.state == "offline", at: $0.at) }, now: now,
                history: store.history, lookup: { [store] in try? store.device(id: $0) })
            guard !output.isEmpty else { return }
            let notices = try store.applyRuleEvaluation(states: output.states, changes: output.changes, now: now)
            engine.committed(output)
            metrics.stateWrites.increment(by: output.states.count)
            record(notices)
            notifier.enqueue(notices)
        } catch {
            engine.discard(output)
            metrics.failures.increment()
            logger.error("rule evaluation failed; the burst will be redelivered", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// Silence of every device at the wall clock (the periodic check).
    func checkSilence() {
        let now = Self.now()
        lock.lock()
        defer { lock.unlock() }
        refreshDevicesIfStale()
        let output = engine.checkSilence(now: now)
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
    /// Time to evaluate one committed burst (recorded for every burst).
    let duration = Timer(label: "shennong_rules_evaluation_seconds")
    /// Readings the rules evaluated.
    let evaluated = Counter(label: "shennong_rules_readings_evaluated_total")
    private let byKind: [AlertTransitionKind: Counter] = Dictionary(
        uniqueKeysWithValues: AlertTransitionKind.allCases.map {
            ($0, Counter(label: "shennong_alert_transitions_total", dimensions: [("kind", $0.rawValue)]))
        })

    func transitions(_ kind: AlertTransitionKind) -> Counter { byKind[kind]! }
}
