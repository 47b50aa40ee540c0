import Dispatch
import Foundation
import Logging
import Metrics
import ShennongAlerts
import ShennongCore
import Synchronization

/// What the rules stage reads and writes: alert persistence, and the device registry (which
/// devices the rules select, when each was last heard).
public typealias RulesStore = AlertStore & DeviceRegistry

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
/// The engine and the evaluations in flight live in one `Mutex`, taken by the ingest and
/// commit threads (once per burst each), the periodic checks and SIGHUP reloads. No store
/// write is made with it held, except the silence check's.
public final class RulesStage: IngestObserver, Sendable {
    private let store: any RulesStore
    private let notifier: AlertNotifier
    private let logger: Logger
    private let state: Mutex<State>
    private let metrics = RulesMetrics()
    /// "now" of evaluations (how late a reading is), silence checks and registry reloads.
    public let clock: WallClock

    private let options: EngineOptions
    private let profiles: [String: DeviceProfile]

    private struct State {
        var engine: AlertEngine
        /// Evaluations not yet written nor abandoned, oldest first (at most two: the burst
        /// committing and the one prepared behind it).
        var pending: [(id: UInt64, output: EvaluationOutput)] = []
        var evaluations: UInt64 = 0
        /// When the device registry was last loaded (epoch ms).
        var devicesLoadedAt: Int64
        /// Late readings each rule skipped since the start (``EvaluationOutput/lateSkipped``).
        var lateSkipped: [String: Int] = [:]
    }

    /// Loads the persisted rule states and the devices.
    /// - Parameter profiles: device profiles by name (a device's expected reporting interval, for silence).
    public init(
        store: any RulesStore, rules: [Rule], options: EngineOptions, profiles: [String: DeviceProfile],
        notifier: AlertNotifier, clock: WallClock = .system, logger: Logger
    ) throws {
        self.clock = clock
        self.store = store
        self.notifier = notifier
        self.logger = logger
        self.options = options
        self.profiles = profiles
        let engine = try Self.loadEngine(rules: rules, store: store, options: options, profiles: profiles)
        state = Mutex(State(engine: engine, devicesLoadedAt: clock.now()))
    }

    private static func loadEngine(
        rules: [Rule], store: any RulesStore, options: EngineOptions, profiles: [String: DeviceProfile]
    ) throws -> AlertEngine {
        let engine = AlertEngine(
            rules: rules, persisted: try store.ruleStates(), options: options,
            expectedInterval: { device in profiles[device.profile].map { Int64($0.expectedInterval) * 1000 } })
        engine.setDevices(try store.deviceRecords().map { ($0.device, $0.lastSeen) })
        return engine
    }

    /// Loads the persisted rule states and the devices again, forgetting what memory held: a
    /// node that becomes the leader continues from what the previous leader committed (the
    /// evaluations it made but could not commit are made again from the redelivered readings,
    /// so nothing is raised twice). Call before ingest starts.
    public func resume() throws {
        let now = clock.now()
        // Read under the lock (the engine is not Sendable); nothing else evaluates yet.
        let rules = try state.withLock { state in
            let rules = state.engine.rules
            state.engine = try Self.loadEngine(rules: rules, store: store, options: options, profiles: profiles)
            state.pending.removeAll()
            state.devicesLoadedAt = now
            return rules.count
        }
        logger.info("rule states loaded for leadership", metadata: ["rules": "\(rules)"])
    }

    public func prepare(_ batch: IngestBatch, previousStored: () -> Void) -> IngestObservation {
        let now = clock.now()
        let store = store
        // The history function below is @Sendable so that region checking does not bind the
        // engine (in the mutex) to this caller's `previousStored`. Sound because the engine
        // calls it only within `evaluate`, on this thread, and keeps nothing of it; `waited`
        // is set by it and read after `evaluate`, on this thread too.
        nonisolated(unsafe) let previousStored = previousStored
        let evaluated: Result<(EvaluationOutput, UInt64), any Error> = state.withLock { state in
            refreshDevicesIfStale(&state)
            let started = DispatchTime.now().uptimeNanoseconds
            nonisolated(unsafe) var waited: UInt64 = 0
            let history: @Sendable ([HistoryRequest]) throws -> [[Reading]] = { requests in
                // Windows rebuilt from stored readings must hold the burst before this one.
                let wait = DispatchTime.now().uptimeNanoseconds
                previousStored()
                waited += DispatchTime.now().uptimeNanoseconds - wait
                return try store.history(requests)
            }
            defer {
                // Evaluation time, without the wait for the burst before.
                metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started - waited))
            }
            metrics.evaluated.increment(by: batch.readings.count)
            let output: EvaluationOutput
            do {
                output = try state.engine.evaluate(
                    readings: batch.readings, newDevices: batch.newDevices, seen: batch.seen,
                    presence: batch.presence.mapValues { (offline: $0.state == "offline", at: $0.at) }, now: now,
                    history: history,
                    lookup: { try? store.device(id: $0) })
            } catch {
                return .failure(error)
            }
            state.evaluations += 1
            state.pending.append((state.evaluations, output))
            return .success((output, state.evaluations))
        }
        switch evaluated {
        case .success(let (output, id)):
            return { [self] in try write(output, id: id, now: now) }
        case .failure(let error):
            // Only the history read throws, before any runtime changed: nothing to forget.
            return { [self] in try refuse(error) }
        }
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
        state.withLock { state in
            if !output.isEmpty { state.engine.committed(output) }
            state.pending.removeAll { $0.id == id }
            for (rule, count) in output.lateSkipped { state.lateSkipped[rule, default: 0] += count }
        }
        if !output.lateSkipped.isEmpty { recordLateSkipped(output.lateSkipped) }
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

    public func abandonPending() {
        state.withLock { state in
            // Newest first: each puts back what memory held before it.
            for (_, output) in state.pending.reversed() { state.engine.discard(output) }
            state.pending.removeAll()
        }
    }

    /// Silence of every device at the wall clock (the periodic check). Devices with an
    /// evaluation not yet written were just heard: they are left for the next check.
    public func checkSilence() {
        let now = clock.now()
        let notices: [AlertNotice]? = state.withLock { state in
            refreshDevicesIfStale(&state)
            let output = state.engine.checkSilence(now: now, skipping: Set(state.pending.flatMap(\.output.devices)))
            guard !output.isEmpty else { return nil }
            do {
                let notices = try store.applyRuleEvaluation(states: output.states, changes: output.changes, now: now)
                state.engine.committed(output)
                return notices
            } catch {
                state.engine.discard(output)
                metrics.failures.increment()
                logger.error("silence check failed", metadata: ["error": "\(error)"])
                return nil
            }
        }
        guard let notices else { return }
        record(notices)
        notifier.enqueue(notices)
    }

    /// The latest derived-index values (forest-fire danger) with their levels, per device
    /// (or only `device`): see ``AlertEngine/indexStatuses(device:)``.
    public func indexStatuses(device: String? = nil) -> [IndexStatus] {
        state.withLock { $0.engine.indexStatuses(device: device) }
    }

    /// Per rule, the late readings it skipped since the server started: readings older than
    /// the rule's watermark on their series, stored but never evaluated by it (also counted in
    /// `shennong_rules_late_skipped_total{rule}`). `rules list` shows them.
    public func lateSkipped() -> [String: Int] {
        state.withLock { $0.lateSkipped }
    }

    private func recordLateSkipped(_ counts: [String: Int]) {
        for (rule, count) in counts.sorted(by: { $0.key < $1.key }) {
            Counter(label: "shennong_rules_late_skipped_total", dimensions: [("rule", rule)]).increment(by: count)
        }
        logger.notice(
            "late readings behind a rule's watermark were stored but not evaluated by it",
            metadata: ["skipped": "\(counts.values.reduce(0, +))", "rules": "\(counts.keys.sorted().joined(separator: ","))"])
    }

    /// New rules (SIGHUP): evaluation continues from the persisted states.
    public func reload(rules: [Rule]) {
        state.withLock { $0.engine.reload(rules: rules) }
    }

    private func record(_ notices: [AlertNotice]) {
        if !notices.isEmpty { OpenAlertsGauge.update(store: store, logger: logger) }
        for notice in notices {
            metrics.transitions(notice.transition.kind).increment()
            logger.notice(
                "alert \(notice.transition.kind.rawValue)",
                metadata: [
                    "alert": "\(notice.alert.id)", "rule": "\(notice.alert.rule)", "device": "\(notice.alert.device)",
                    "level": "\(notice.alert.level.name)", "late": "\(notice.alert.late)",
                ])
        }
    }

    private func refreshDevicesIfStale(_ state: inout State) {
        guard clock.now() - state.devicesLoadedAt > 30_000 else { return }
        if let records = try? store.deviceRecords() {
            state.engine.setDevices(records.map { ($0.device, $0.lastSeen) })
            state.devicesLoadedAt = clock.now()
        }
    }
}

/// The warnings counters (swift-metrics; exported by /metrics).
struct RulesMetrics: Sendable {
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
