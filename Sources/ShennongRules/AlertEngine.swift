import Foundation
import ShennongAlerts
import ShennongCore

/// What one evaluation decided: the rule states to write (only those that changed) and the
/// level changes to apply to alerts, both in one transaction (``AlertStore/applyRuleEvaluation(states:changes:now:)``).
public struct EvaluationOutput: Sendable {
    public var states: [RuleStateRecord] = []
    public var changes: [AlertLevelChange] = []
    /// The devices whose evaluation this covers (dropped from memory if the write fails).
    public var devices: Set<String> = []
    /// What ``AlertEngine/discard(_:)`` puts back outside the runtimes: when each device seen
    /// was last heard before, and the devices this evaluation made known.
    var heardBefore: [String: Int64?] = [:]
    var added: [String] = []
    /// Late data: per rule, the readings of this burst older than the rule's watermark on
    /// their series and not stored before (not a redelivery), which the rule did not evaluate
    /// (it evaluates each series forward only).
    public var lateSkipped: [String: Int] = [:]

    public init() {}

    public var isEmpty: Bool { states.isEmpty && changes.isEmpty }
}

/// Engine settings.
public struct EngineOptions: Sendable {
    /// Readings older than this (by the wall clock) raise alerts marked late (not pushed).
    /// `nil`: never late (replay).
    public var lateAfter: Int64?
    /// Silence interval when neither the rule nor the device's profile gives one.
    public var defaultInterval: Int64 = 300_000

    public init(lateAfter: Int64? = 3_600_000, defaultInterval: Int64 = 300_000) {
        self.lateAfter = lateAfter
        self.defaultInterval = defaultInterval
    }
}

/// The stateful rule evaluator: readings in, level changes out.
///
/// Rules are indexed by metric; per (rule, device) a ``RuleRuntime`` keeps the windows and
/// level timers. Every reading is evaluated at its own timestamp, in timestamp order per
/// device; a reading at or before the (rule, device, metric) watermark is skipped, so a
/// redelivered burst is not evaluated twice. A reading older than the watermark that was not
/// stored before (late data: a backfill behind newer readings, a replayed reject) is skipped
/// too, and counted per rule (``EvaluationOutput/lateSkipped``): rules evaluate a series
/// forward only. Persisted state is loaded once (``init``); windows are rebuilt from stored
/// readings on a runtime's first touch, through the `history` function, with one call per
/// evaluation, and one more only when readings are behind a watermark (which of them were
/// stored before). No other I/O.
///
/// Not thread-safe: callers serialise access (the server holds it behind a lock).
public final class AlertEngine {
    public private(set) var rules: [Rule]
    /// ``rules``, each as its runtimes share it.
    private var compiled: [CompiledRule]
    public let options: EngineOptions
    private let expectedInterval: (Device) -> Int64?
    /// Persisted states as last written (or loaded).
    private var persisted: [Key: RuleStateRecord] = [:]
    /// States evaluated but not yet written (``committed(_:)``) or dropped (``discard(_:)``):
    /// a runtime created meanwhile (after a reload, a device change) starts from these.
    private var unwritten: [Key: RuleStateRecord] = [:]
    private var devices: [String: Device] = [:] {
        didSet { sortedDeviceIDs = nil }
    }
    /// `devices`' ids in order, for the silence check (made again after `devices` changes).
    private var sortedDeviceIDs: [String]?
    private var slots: [String: DeviceSlot] = [:]
    /// Counts the engine's passes (evaluations, silence checks), so a pass lists a runtime it
    /// touches once (``RuleRuntime/touchedIn``).
    private var pass = 0
    /// A new slot's `waiting`, by the non-silence rules that apply to its device: devices
    /// alike (one profile, domain and site) share it until their first reading changes it.
    private var waitingTemplates: [[Int]: [String: [Int]]] = [:]
    /// The rules that apply to a device, by what they select on (``DeviceShape``): a county's
    /// alike devices are checked against every rule once, not once each.
    private var applyingByShape: [DeviceShape: [Int]] = [:]
    /// Devices some rule names (`devices:` or its own stages): checked one by one.
    private var namedDevices: Set<String> = []
    private var lastHeard: [String: Int64] = [:]
    /// Rule indices by input metric, and the silence rules.
    private var byMetric: [String: [Int]] = [:]
    private var silenceRules: [Int] = []

    struct Key: Hashable {
        var rule: String
        var device: String
    }

    /// All that ``Rule/applies(to:)`` reads of a device not named by any rule.
    struct DeviceShape: Hashable {
        var profile: String
        var domain: Domain
        var site: String?
        var attributes: [String: Double]

        init(_ device: Device) {
            profile = device.profile
            domain = device.domain
            site = device.site
            attributes = device.attributes
        }
    }

    /// The runtimes of one device, by input metric.
    ///
    /// A rule on readings gets its runtime when the device first reports one of the rule's
    /// inputs (``entries(_:metric:)``), not when the slot is made: a device selected by many
    /// rules reports the metrics of few (a pond sensor and the rainfall, soil and air rules
    /// that select every device), and a runtime with its persisted state costs about a
    /// kilobyte and a half. Silence rules get theirs at once.
    final class DeviceSlot {
        let box: DeviceBox
        var device: Device { box.device }
        var byMetric: [String: [(runtime: RuleRuntime, input: Int)]] = [:]
        var silence: [RuleRuntime] = []
        var all: [RuleRuntime] = []
        /// Rules that apply, without a runtime yet, by input metric (places in the engine's
        /// rules: runtimes of a metric are kept in that order, the order evaluations and level
        /// changes come out in).
        var waiting: [String: [Int]] = [:]

        init(device: Device) { box = DeviceBox(device) }
    }

    /// - Parameters:
    ///   - persisted: the stored rule states (``AlertStore/ruleStates()``).
    ///   - expectedInterval: a device's reporting interval (ms), from its profile.
    public init(
        rules: [Rule], persisted: [RuleStateRecord] = [], options: EngineOptions = EngineOptions(),
        expectedInterval: @escaping (Device) -> Int64? = { _ in nil }
    ) {
        self.rules = rules
        compiled = rules.map(CompiledRule.init)
        self.options = options
        self.expectedInterval = expectedInterval
        for record in persisted { self.persisted[Key(rule: record.rule, device: record.device)] = record }
        index()
    }

    private func index() {
        waitingTemplates = [:]
        applyingByShape = [:]
        namedDevices = []
        byMetric = [:]
        silenceRules = []
        for rule in rules {
            namedDevices.formUnion(rule.selector.devices)
            namedDevices.formUnion(rule.overrides.keys)
        }
        for (i, rule) in rules.enumerated() where rule.enabled {
            if case .silence = rule.condition { silenceRules.append(i) }
            for metric in rule.inputs { byMetric[metric, default: []].append(i) }
        }
    }

    /// Replaces the rules (SIGHUP). Runtimes start again from the persisted states.
    public func reload(rules: [Rule]) {
        self.rules = rules
        compiled = rules.map(CompiledRule.init)
        slots = [:]
        index()
    }

    /// Sets the known devices and when each was last heard (receive time), for selection and silence.
    public func setDevices(_ list: [(device: Device, lastSeen: Int64?)]) {
        for (device, lastSeen) in list {
            if let old = devices[device.id], old != device { slots[device.id] = nil }
            devices[device.id] = device
            if let lastSeen { lastHeard[device.id] = max(lastHeard[device.id] ?? lastSeen, lastSeen) }
            else if lastHeard[device.id] == nil { lastHeard[device.id] = device.createdAt }
        }
    }

    /// Whether any rule reads `metric`.
    public func watches(metric: String) -> Bool { byMetric[metric] != nil }

    private func slot(_ id: String, lookup: (String) -> Device?) -> DeviceSlot? {
        if let slot = slots[id] { return slot }
        let device: Device
        if let known = devices[id] {
            device = known
        } else {
            guard let found = lookup(id) else { return nil }
            device = found
            devices[id] = found
        }
        let slot = DeviceSlot(device: device)
        var applying: [Int] = []
        for index in applyingRules(device) {
            if case .silence(let interval, _) = compiled[index].rule.condition {
                let runtime = makeRuntime(index, slot)
                runtime.interval = interval ?? expectedInterval(device) ?? options.defaultInterval
                runtime.lastHeard = lastHeard[id] ?? device.createdAt
                slot.silence.append(runtime)
                for (i, metric) in runtime.inputs.enumerated() { slot.byMetric[metric, default: []].append((runtime, i)) }
            } else {
                applying.append(index)
            }
        }
        if let template = waitingTemplates[applying] {
            slot.waiting = template
        } else {
            for index in applying {
                for metric in rules[index].inputs { slot.waiting[metric, default: []].append(index) }
            }
            waitingTemplates[applying] = slot.waiting
        }
        slots[id] = slot
        return slot
    }

    /// Indices of the rules that apply to `device`, in order.
    private func applyingRules(_ device: Device) -> [Int] {
        let shape = namedDevices.contains(device.id) ? nil : DeviceShape(device)
        if let shape, let known = applyingByShape[shape] { return known }
        let applying = rules.indices.filter { rules[$0].applies(to: device) }
        if let shape { applyingByShape[shape] = applying }
        return applying
    }

    private func makeRuntime(_ index: Int, _ slot: DeviceSlot) -> RuleRuntime {
        let rule = compiled[index]
        let key = Key(rule: rule.rule.id, device: slot.device.id)
        let runtime = RuleRuntime(rule: rule, device: slot.box, persisted: unwritten[key] ?? persisted[key])
        runtime.expectedInterval = expectedInterval(slot.device) ?? options.defaultInterval
        runtime.order = index
        slot.all.append(runtime)
        return runtime
    }

    /// The runtimes reading `metric` on the slot's device, made on first use.
    private func entries(_ slot: DeviceSlot, metric: String) -> [(runtime: RuleRuntime, input: Int)]? {
        if !slot.waiting.isEmpty, let waiting = slot.waiting.removeValue(forKey: metric) {
            var touched: Set<String> = []
            for index in waiting {
                let runtime = makeRuntime(index, slot)
                for (i, input) in runtime.inputs.enumerated() {
                    slot.byMetric[input, default: []].append((runtime, i))
                    touched.insert(input)
                    if input != metric { slot.waiting[input]?.removeAll { $0 == index } }
                }
            }
            for input in touched {
                slot.byMetric[input]!.sort { $0.runtime.order < $1.runtime.order }
            }
            slot.all.sort { $0.order < $1.order }
        }
        return slot.byMetric[metric]
    }

    /// Makes the runtimes the metrics of `readings` need (before windows are rebuilt).
    private func prepareRuntimes(_ slot: DeviceSlot, _ readings: [Reading], _ indices: [Int]) {
        guard !slot.waiting.isEmpty else { return }
        for i in indices where slot.waiting[readings[i].metric] != nil { _ = entries(slot, metric: readings[i].metric) }
    }

    /// Evaluates one burst (perhaps not yet committed: see ``discard(_:)``).
    ///
    /// - Parameters:
    ///   - readings: every reading of the burst, duplicates included, in any order.
    ///   - seen: per device, the receive time of its newest message (silence).
    ///   - presence: per device, an `offline` (true) or `online` (false) report and its time.
    ///   - now: the wall clock (ms), for `late` and silence.
    ///   - history: stored readings for window rebuilds (called at most once).
    ///   - lookup: a device not yet known to the engine.
    public func evaluate(
        readings: [Reading], newDevices: [Device] = [], seen: [String: Int64] = [:],
        presence: [String: (offline: Bool, at: Int64)] = [:], now: Int64,
        history: ([HistoryRequest]) throws -> [[Reading]], lookup: (String) -> Device? = { _ in nil }
    ) throws -> EvaluationOutput {
        var output = EvaluationOutput()
        for device in newDevices where devices[device.id] == nil {
            devices[device.id] = device
            output.added.append(device.id)
        }
        // Readings grouped by device, in order of first appearance. A message's readings come
        // together, so the device's group is looked up once per run of equal devices.
        var groupOf: [String: Int] = [:]
        var groups: [(device: String, indices: [Int])] = []
        var current = -1
        for (i, r) in readings.enumerated() where byMetric[r.metric] != nil {
            if current < 0 || groups[current].device != r.device {
                if let known = groupOf[r.device] {
                    current = known
                } else {
                    current = groups.count
                    groupOf[r.device] = current
                    groups.append((r.device, []))
                }
            }
            groups[current].indices.append(i)
        }
        pass += 1
        var touched: [RuleRuntime] = []
        // Windows to rebuild: for each runtime not ready, stored readings before its first new reading.
        var rebuild: [(RuleRuntime, [HistoryRequest])] = []
        var work: [(DeviceSlot, [Int])] = []
        for (id, grouped) in groups {
            guard let slot = slot(id, lookup: lookup) else { continue }
            var indices = grouped
            if !zip(indices, indices.dropFirst()).allSatisfy({ readings[$0].timestamp <= readings[$1].timestamp }) {
                indices.sort { readings[$0].timestamp < readings[$1].timestamp }
            }
            work.append((slot, indices))
            prepareRuntimes(slot, readings, indices)
            // Windows to rebuild exist only while some runtime of the device is not ready.
            guard slot.all.contains(where: { !$0.ready }) else { continue }
            var first: [ObjectIdentifier: Int64] = [:]
            for i in indices {
                let r = readings[i]
                guard let entries = entries(slot, metric: r.metric) else { continue }
                for (runtime, input) in entries where !runtime.ready && r.timestamp > runtime.state.w[input] {
                    let key = ObjectIdentifier(runtime)
                    first[key] = min(first[key] ?? r.timestamp, r.timestamp)
                }
            }
            for runtime in slot.all where !runtime.ready {
                guard let t = first[ObjectIdentifier(runtime)] else { continue }
                let span = runtime.compiled.historySpan
                let metrics = runtime.inputs.filter { $0 != "rainfall" || runtime.inputs.count == 1 }
                rebuild.append((runtime, metrics.map { HistoryRequest(device: id, metric: $0, from: t - span, to: t) }))
            }
        }
        if !rebuild.isEmpty {
            let requests = rebuild.flatMap(\.1)
            let results = try history(requests)
            var k = 0
            for (runtime, reqs) in rebuild {
                var merged: [Reading] = []
                for _ in reqs {
                    merged += k < results.count ? results[k] : []
                    k += 1
                }
                if reqs.count > 1 { merged.sort { $0.timestamp < $1.timestamp } }
                for r in merged { runtime.observeHistory(r) }
                runtime.ready = true
            }
        }
        // Readings behind a watermark, by series: (reading index, rule) pairs.
        var behind: [HistoryRequest: [(index: Int, rule: String)]] = [:]
        for (slot, indices) in work {
            output.devices.insert(slot.device.id)
            for i in indices {
                let r = readings[i]
                guard let entries = entries(slot, metric: r.metric) else { continue }
                for (runtime, input) in entries {
                    guard r.timestamp > runtime.state.w[input] else {
                        if r.timestamp < runtime.state.w[input] {
                            behind[HistoryRequest(device: r.device, metric: r.metric, from: 0, to: 0), default: []].append((i, runtime.rule.id))
                        }
                        continue
                    }
                    if !runtime.ready { runtime.ready = true }
                    touch(runtime, &touched)
                    if let change = runtime.evaluate(r, input: input) {
                        output.changes.append(self.change(runtime, change, at: r.timestamp, now: now, late: isLate(r.timestamp, now: now)))
                    }
                }
            }
        }
        if !behind.isEmpty { output.lateSkipped = lateSkipped(behind, readings, history: history) }
        if !silenceRules.isEmpty {
            for (id, at) in seen {
                output.heardBefore.updateValue(lastHeard[id], forKey: id)
                lastHeard[id] = max(lastHeard[id] ?? at, at)
                guard let slot = slot(id, lookup: lookup), !slot.silence.isEmpty else { continue }
                output.devices.insert(id)
                for runtime in slot.silence {
                    touch(runtime, &touched)
                    if let change = runtime.heard(at: at) {
                        output.changes.append(self.change(runtime, change, at: at, now: now, late: false))
                    }
                }
            }
            for (id, report) in presence {
                guard let slot = slot(id, lookup: lookup), !slot.silence.isEmpty else { continue }
                output.devices.insert(id)
                for runtime in slot.silence {
                    touch(runtime, &touched)
                    if let change = runtime.presence(offline: report.offline, at: report.at) {
                        output.changes.append(self.change(runtime, change, at: report.at, now: now, late: false))
                    }
                }
            }
        }
        collect(touched, into: &output, now: now)
        return output
    }

    /// Silence at `now` for every known device that a silence rule selects, except `skipping`
    /// (devices whose evaluated output is not yet written: they were just heard, and a state
    /// written now would carry readings that may yet be dropped).
    public func checkSilence(
        now: Int64, skipping: Set<String> = [], lookup: (String) -> Device? = { _ in nil }
    ) -> EvaluationOutput {
        var output = EvaluationOutput()
        guard !silenceRules.isEmpty else { return output }
        pass += 1
        var touched: [RuleRuntime] = []
        if sortedDeviceIDs == nil { sortedDeviceIDs = devices.keys.sorted() }
        for id in sortedDeviceIDs! where !skipping.contains(id) {
            guard let slot = slot(id, lookup: lookup), !slot.silence.isEmpty else { continue }
            for runtime in slot.silence {
                touch(runtime, &touched)
                if let change = runtime.checkSilence(now: now) {
                    output.devices.insert(id)
                    output.changes.append(self.change(runtime, change, at: now, now: now, late: false))
                }
            }
        }
        collect(touched, into: &output, now: now)
        return output
    }

    /// Lists `runtime` in this pass's `touched` once.
    @inline(__always)
    private func touch(_ runtime: RuleRuntime, _ touched: inout [RuleRuntime]) {
        guard runtime.touchedIn != pass else { return }
        runtime.touchedIn = pass
        touched.append(runtime)
    }

    private func collect(_ touched: [RuleRuntime], into output: inout EvaluationOutput, now: Int64) {
        for runtime in touched where runtime.dirty {
            runtime.dirty = false
            let record = runtime.record(now: now)
            output.states.append(record)
            unwritten[Key(rule: record.rule, device: record.device)] = record
            output.devices.insert(runtime.device.id)
        }
    }

    /// Per rule, how many of the readings `behind` its watermark were not stored before this
    /// burst (late data, not a redelivery). The stored readings of each series over the span
    /// of its readings behind come from `history`, in one call; if that fails every reading
    /// behind counts (none of them was evaluated either way).
    private func lateSkipped(
        _ behind: [HistoryRequest: [(index: Int, rule: String)]], _ readings: [Reading],
        history: ([HistoryRequest]) throws -> [[Reading]]
    ) -> [String: Int] {
        let series = Array(behind.keys)
        let requests = series.map { key in
            let times = behind[key]!.map { readings[$0.index].timestamp }
            return HistoryRequest(device: key.device, metric: key.metric, from: times.min()!, to: times.max()! + 1)
        }
        let stored = (try? history(requests)).map { $0.map { Set($0.map(\.timestamp)) } }
        var counts: [String: Int] = [:]
        var seen = Set<[String]>()
        for (k, key) in series.enumerated() {
            for (index, rule) in behind[key]! {
                let ts = readings[index].timestamp
                if let stored, k < stored.count, stored[k].contains(ts) { continue }
                // A reading sent twice in one burst is one reading.
                guard seen.insert([rule, key.device, key.metric, String(ts)]).inserted else { continue }
                counts[rule, default: 0] += 1
            }
        }
        return counts
    }

    private func isLate(_ ts: Int64, now: Int64) -> Bool {
        guard let lateAfter = options.lateAfter else { return false }
        return now - ts > lateAfter
    }

    private func change(_ runtime: RuleRuntime, _ c: (from: Int, to: Int), at: Int64, now: Int64, late: Bool) -> AlertLevelChange {
        let shown = c.to > 0 ? c.to : c.from
        let value = runtime.value(of: shown)
        let spec = c.to > 0 ? runtime.spec(of: c.to) : nil
        return AlertLevelChange(
            rule: runtime.rule.id, device: runtime.device.id, domain: runtime.device.domain.rawValue,
            metric: runtime.rule.metric, from: AlertLevel(stored: c.from), to: AlertLevel(stored: c.to),
            value: value.flatMap { $0.isFinite ? $0 : nil },
            threshold: spec?.threshold, at: at, late: late,
            title: AlertText.title(rule: runtime.rule, device: runtime.device, level: c.to),
            message: AlertText.message(rule: runtime.rule, device: runtime.device, level: c.to, value: value, spec: spec))
    }

    /// The write of `output` succeeded: it is now the persisted state. Outputs are written in
    /// the order they were evaluated (a later one may be evaluated before an earlier is written).
    public func committed(_ output: EvaluationOutput) {
        for record in output.states {
            let key = Key(rule: record.rule, device: record.device)
            persisted[key] = record
            if unwritten[key] == record { unwritten[key] = nil }
        }
    }

    /// The write of `output` failed (or its burst was dropped): forget what memory holds for
    /// its devices, so that the redelivered burst is evaluated again from the persisted states,
    /// and put back when they were last heard and which devices were known. Every output
    /// evaluated after it (built on it) must be discarded too, newest first.
    public func discard(_ output: EvaluationOutput) {
        for id in output.devices { slots[id] = nil }
        for record in output.states { unwritten[Key(rule: record.rule, device: record.device)] = nil }
        for (id, before) in output.heardBefore { lastHeard[id] = before }
        for id in output.added {
            devices[id] = nil
            slots[id] = nil
        }
    }

    /// The pending (not yet raised) levels and the level in force of (rule, device), for people.
    public func status(rule: String, device: String) -> (level: Int, pending: [(level: AlertLevel, since: Int64)])? {
        guard let slot = slots[device], let runtime = slot.all.first(where: { $0.rule.id == rule }) else {
            guard let record = persisted[Key(rule: rule, device: device)] else { return nil }
            let state = try? JSONDecoder().decode(PersistedRuleState.self, from: Data(record.state.utf8))
            let levels = state?.levels ?? LevelTimers()
            let pending = (0..<4).compactMap { i in
                levels[i].p.flatMap { since in AlertLevel(stored: i + 1).map { ($0, since) } }
            }
            return (record.level?.rawValue ?? 0, pending)
        }
        return (runtime.level, runtime.pendingSince)
    }

    /// The latest value of the derived index of `rule` on `device`, its level (1…5) and the
    /// level's name, and the warning in force: what staff see of fire danger at every level,
    /// including levels 1–2, which raise no warning. From memory, else the persisted state;
    /// `nil` when the rule is not a derived index or has no value for the device yet.
    public func indexStatus(rule: String, device: String) -> IndexStatus? {
        if let slot = slots[device], let runtime = slot.all.first(where: { $0.rule.id == rule }), let status = runtime.indexStatus {
            return status
        }
        let key = Key(rule: rule, device: device)
        guard let record = unwritten[key] ?? persisted[key], let r = rules.first(where: { $0.id == rule }) else { return nil }
        return IndexStatus(record: record, rule: r)
    }

    /// ``indexStatus(rule:device:)`` of every derived-index rule on every device that has a
    /// value (or only on `device`), by device then rule.
    public func indexStatuses(device: String? = nil) -> [IndexStatus] {
        var keys = Set(persisted.keys).union(unwritten.keys)
        for slot in slots.values { for runtime in slot.all { keys.insert(Key(rule: runtime.rule.id, device: runtime.device.id)) } }
        let derived = Set(rules.filter { if case .derived = $0.condition { true } else { false } }.map(\.id))
        return keys.filter { derived.contains($0.rule) && (device == nil || $0.device == device) }
            .sorted { ($0.device, $0.rule) < ($1.device, $1.rule) }
            .compactMap { indexStatus(rule: $0.rule, device: $0.device) }
    }

    /// The persisted states of `rule` (for people: level and pending timers per device).
    public func persistedStates(rule: String) -> [RuleStateRecord] {
        persisted.values.filter { $0.rule == rule }.sorted { $0.device < $1.device }
    }
}
