import Foundation
import ShennongAlerts
import ShennongCore

/// How one level's duration is counted: the settings of ``LevelTimer/observe(at:crossed:_:)``.
struct HoldRule: Equatable, Sendable {
    /// Time (ms) in the condition the level needs.
    var duration: Int64
    /// Readings in the condition the level needs.
    var minReadings: Int
    /// How long (ms) one reading holds at most.
    var maxGap: Int64
    /// Time (ms) held out of the condition, in one run, that starts the count over (0: the
    /// first reading out of it does).
    var reset: Int64
}

/// The timers of one level: raised once the value has been in the condition long enough,
/// dropped after the clear delay. O(1) whatever the readings.
///
/// Raising counts under sample-and-hold: a count starts with a reading in the condition
/// (`p`); each reading's state (in the condition or not) holds from its time until the next
/// reading, at most the max gap (time beyond it counts neither way). Time held in the
/// condition adds up in `h`; time held out of it adds up in `o`, the current run out of the
/// condition, which each reading in the condition sets back to 0. When `o` reaches the reset
/// time the count is over (`p` and the rest cleared). A reading in the condition raises the
/// level once `h` ≥ the duration and `n` (readings in the condition) ≥ min_readings.
///
/// Persisted as JSON with one-letter keys; a field missing from an older state takes its
/// default (see ``RuleRuntime`` for states written before `h` existed).
struct LevelTimer: Codable, Equatable, Sendable {
    /// When the current count started (the first reading in the condition); the level is not raised.
    var p: Int64?
    /// Whether the level is raised.
    var a = false
    /// Since when the value has been clear of the threshold by the margin (level still raised).
    var c: Int64?
    /// Time (ms) held in the condition in the current count.
    var h: Int64 = 0
    /// Time (ms) held out of the condition since the last reading in it.
    var o: Int64 = 0
    /// Readings in the condition in the current count.
    var n = 0
    /// The latest reading of the current count, and whether it was in the condition.
    var l: Int64?
    var i = false

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        p = try c.decodeIfPresent(Int64.self, forKey: .p)
        a = try c.decodeIfPresent(Bool.self, forKey: .a) ?? false
        self.c = try c.decodeIfPresent(Int64.self, forKey: .c)
        h = try c.decodeIfPresent(Int64.self, forKey: .h) ?? 0
        o = try c.decodeIfPresent(Int64.self, forKey: .o) ?? 0
        n = try c.decodeIfPresent(Int.self, forKey: .n) ?? 0
        l = try c.decodeIfPresent(Int64.self, forKey: .l)
        i = try c.decodeIfPresent(Bool.self, forKey: .i) ?? false
    }

    func encode(to encoder: any Encoder) throws {
        var e = encoder.container(keyedBy: CodingKeys.self)
        try e.encodeIfPresent(p, forKey: .p)
        try e.encode(a, forKey: .a)
        try e.encodeIfPresent(c, forKey: .c)
        if h != 0 { try e.encode(h, forKey: .h) }
        if o != 0 { try e.encode(o, forKey: .o) }
        if n != 0 { try e.encode(n, forKey: .n) }
        try e.encodeIfPresent(l, forKey: .l)
        if i { try e.encode(i, forKey: .i) }
    }

    private enum CodingKeys: String, CodingKey {
        case p, a, c, h, o, n, l, i
    }

    /// Forgets the current count (the raised flag and the clear timer stay).
    mutating func endCount() {
        p = nil
        h = 0
        o = 0
        n = 0
        l = nil
        i = false
    }

    /// A reading at `ts`, in the condition or not, while the level is not raised. Returns
    /// whether it raises the level (the count is then over).
    mutating func observe(at ts: Int64, crossed: Bool, _ rule: HoldRule) -> Bool {
        if let last = l {
            // The previous reading's state held until now, at most the max gap.
            let held = min(max(0, ts - last), rule.maxGap)
            if i { h += held } else { o += held }
            // A run out of the condition as long as the reset time ends the count.
            if (!i || !crossed) && o >= rule.reset { endCount() }
        }
        guard crossed else {
            if p != nil {
                l = ts
                i = false
            }
            return false
        }
        if p == nil { p = ts }
        n += 1
        o = 0
        l = ts
        i = true
        guard h >= rule.duration && n >= rule.minReadings else { return false }
        endCount()
        a = true
        return true
    }
}

/// What is persisted of one (rule, device): the level timers, the watermark per input
/// metric, and for derived indices the station's day and the index's latest value; for
/// silence the offline flag.
///
/// Windows are not persisted: they are rebuilt from stored readings on first touch.
struct PersistedRuleState: Codable, Equatable, Sendable {
    var levels = LevelTimers()
    var w: [Int64] = []
    var day: WeatherDay?
    var offline: Bool?
    /// Derived indices: the latest value and the time of the reading it took that value at
    /// (written when the value changes, not at every reading).
    var x: Double?
    var xt: Int64?

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        levels = try c.decodeIfPresent(LevelTimers.self, forKey: .levels) ?? levels
        w = try c.decodeIfPresent([Int64].self, forKey: .w) ?? []
        day = try c.decodeIfPresent(WeatherDay.self, forKey: .day)
        offline = try c.decodeIfPresent(Bool.self, forKey: .offline)
        x = try c.decodeIfPresent(Double.self, forKey: .x)
        xt = try c.decodeIfPresent(Int64.self, forKey: .xt)
    }
}

/// The evaluation of one rule for one device: windows, level timers, the level in force.
///
/// Not thread-safe: owned by ``AlertEngine`` and used under its lock.
final class RuleRuntime {
    /// What every runtime of the rule shares (a county has one per rule and device: the rule
    /// itself, its inputs and the levels of devices without their own are held once).
    let compiled: CompiledRule
    /// The device, shared by the runtimes of its slot.
    let deviceBox: DeviceBox
    var rule: Rule { compiled.rule }
    var device: Device { deviceBox.device }
    var inputs: [String] { compiled.inputs }
    /// The device's levels, lowest first.
    let specs: [(level: AlertLevel, spec: LevelSpec)]
    /// The rule's place in the engine's list: runtimes are kept and evaluated in that order.
    var order = 0
    var state: PersistedRuleState
    /// The level in force (0: none).
    private(set) var level: Int
    /// The state changed since it was last written.
    var dirty = false
    /// The engine's pass (an evaluation or silence check) that last listed it as touched.
    var touchedIn = 0
    /// Windows rebuilt from stored readings.
    var ready: Bool
    /// Silence: expected interval (ms) and when the device was last heard (receive time).
    var interval: Int64 = 300_000
    /// The device's expected reporting interval (ms): the default max gap of a duration is three of them.
    var expectedInterval: Int64 = 300_000
    var lastHeard: Int64?

    /// The windows of a rule that keeps any, boxed: most rules keep none (thresholds, ranges,
    /// silence), and a county has a runtime for every rule and device.
    private final class Windows {
        var multi: MultiSpanWindow?
        var rate: RateWindow?
        var fraction: FractionWindow?
        var stuck: StuckCounter?
        var tmax24: MultiSpanWindow?
        var rhMin24: MultiSpanWindow?
        var windMax24: MultiSpanWindow?
    }
    private var windows: Windows?
    private var spanOfLevel: [Int] = []
    /// The value and threshold behind the latest evaluation of each level (for messages).
    private(set) var values = [Double?](repeating: nil, count: 4)

    init(rule compiled: CompiledRule, device deviceBox: DeviceBox, persisted: RuleStateRecord?) {
        self.compiled = compiled
        self.deviceBox = deviceBox
        let rule = compiled.rule, device = deviceBox.device
        specs = compiled.specs(for: device)
        var state = persisted.flatMap { try? JSONDecoder().decode(PersistedRuleState.self, from: Data($0.state.utf8)) }
            ?? PersistedRuleState()
        if state.w.count != compiled.inputs.count {
            state.w = [Int64](repeating: persisted?.watermark ?? Int64.min, count: compiled.inputs.count)
        }
        // Levels the (edited) rule no longer has are dropped (a bit a level: no set a runtime).
        var known = 0
        for (level, _) in specs { known |= 1 << (level.rawValue - 1) }
        for i in 0..<4 where known & (1 << i) == 0 && state.levels[i] != LevelTimer() { state.levels[i] = LevelTimer() }
        // A state written before durations were counted by hold time has only `p` ("on the
        // warning side since p", through the newest evaluated reading): the count so far.
        let newest = state.w.max() ?? persisted?.watermark ?? Int64.min
        for i in 0..<4 {
            guard let since = state.levels[i].p, state.levels[i].l == nil else { continue }
            let last = max(since, newest)
            state.levels[i].h = last - since
            state.levels[i].l = last
            state.levels[i].i = true
            state.levels[i].n = 1
        }
        self.state = state
        level = Self.levelInForce(state.levels)
        let precision = compiled.precision
        switch rule.condition {
        case .window, .rate, .fraction, .stuck, .derived: windows = Windows()
        case .threshold, .silence, .range: break
        }
        switch rule.condition {
        case .window(let aggregate, let window):
            var spans: [Int64] = []
            for (_, spec) in specs {
                let span = spec.window ?? window ?? 3_600_000
                if let i = spans.firstIndex(of: span) {
                    spanOfLevel.append(i)
                } else {
                    spanOfLevel.append(spans.count)
                    spans.append(span)
                }
            }
            windows!.multi = MultiSpanWindow(aggregate: aggregate, spans: spans, precision: precision)
        case .rate(let per, let window):
            windows!.rate = RateWindow(span: window, per: per)
        case .fraction(let good, let threshold, let window, let gap):
            windows!.fraction = FractionWindow(span: window, maxGap: gap, good: good, threshold: threshold)
        case .stuck(let tolerance):
            windows!.stuck = StuckCounter(tolerance: tolerance)
        case .derived(let index):
            let day: Int64 = 86_400_000
            windows!.tmax24 = MultiSpanWindow(aggregate: .max, spans: [day], precision: 2)
            windows!.rhMin24 = MultiSpanWindow(aggregate: .min, spans: [day], precision: 1)
            windows!.windMax24 = MultiSpanWindow(aggregate: .max, spans: [day], precision: 1)
            _ = index
        case .threshold, .silence, .range:
            break
        }
        ready = compiled.historySpan == 0
    }

    static func levelInForce(_ timers: LevelTimers) -> Int {
        for i in stride(from: 3, through: 0, by: -1) where timers[i].a { return i + 1 }
        return 0
    }

    /// The newest evaluated reading time over all inputs.
    var watermark: Int64 { state.w.max() ?? Int64.min }

    func inputIndex(_ metric: String) -> Int? {
        inputs.count == 1 ? (inputs[0] == metric ? 0 : nil) : inputs.firstIndex(of: metric)
    }

    /// Feeds a stored reading into the windows only (rebuild after a start).
    func observeHistory(_ r: Reading) {
        observeWindows(metric: r.metric, sample: Sample(ts: r.timestamp, value: r.value))
    }

    private func observeWindows(metric: String, sample: Sample) {
        guard let windows else { return }
        if windows.multi != nil { windows.multi!.add(sample) }
        else if windows.rate != nil { windows.rate!.add(sample) }
        else if windows.fraction != nil { windows.fraction!.add(sample) }
        else if windows.stuck != nil { windows.stuck!.add(sample) }
        else if windows.tmax24 != nil {
            switch metric {
            case "air_temp": windows.tmax24!.add(sample)
            case "relative_humidity": windows.rhMin24!.add(sample)
            case "wind_speed": windows.windMax24!.add(sample)
            default: break
            }
        }
    }

    /// Evaluates one reading of input `input` (the caller checked the watermark). Returns
    /// the level change, if any: (from, to).
    func evaluate(_ r: Reading, input: Int) -> (from: Int, to: Int)? {
        state.w[input] = r.timestamp
        let sample = Sample(ts: r.timestamp, value: r.value)
        observeWindows(metric: r.metric, sample: sample)
        var x: Double?
        switch rule.condition {
        case .threshold:
            x = r.value
        case .window:
            x = nil  // per level below
        case .rate:
            x = windows!.rate!.value
        case .fraction:
            x = windows!.fraction!.goodHours
        case .stuck:
            x = Double(windows!.stuck!.count)
        case .range(let lo, let hi):
            x = ((lo.map { r.value < $0 } ?? false) || (hi.map { r.value > $0 } ?? false)) ? 1 : 0
        case .derived(let index):
            var day = state.day ?? WeatherDay(day: WeatherDay.localDay(r.timestamp))
            day.advance(to: r.timestamp)
            day.observe(metric: r.metric, value: r.value)
            if day != state.day {
                state.day = day
                dirty = true
            }
            switch index {
            case .fireDanger:
                if let t = windows!.tmax24!.value(span: 0), let rh = windows!.rhMin24!.value(span: 0) {
                    x = FireDangerScore.index(tmax: t, rhMin: rh, dryDays: day.dryDaysNow, windMax: windows!.windMax24!.value(span: 0) ?? 0)
                }
            case .nesterov:
                x = day.nesterovNow
            }
            // Kept for people at every level, warning or not (``AlertEngine/indexStatus(rule:device:)``).
            if let x, x != state.x {
                state.x = x
                state.xt = r.timestamp
                dirty = true
            }
        case .silence:
            x = 0
        }
        if case .window = rule.condition {
            return step(at: r.timestamp) { k in self.windows!.multi!.value(span: self.spanOfLevel[k]) }
        }
        return step(at: r.timestamp) { _ in x }
    }

    /// Silence: heard from the device at `at` (receive time).
    func heard(at: Int64) -> (from: Int, to: Int)? {
        lastHeard = max(lastHeard ?? at, at)
        if state.offline == true {
            state.offline = nil
            dirty = true
        }
        return step(at: at) { _ in 0 }
    }

    /// Silence: a presence report (`offline` last will or `online` birth).
    func presence(offline: Bool, at: Int64) -> (from: Int, to: Int)? {
        if offline != (state.offline ?? false) {
            state.offline = offline ? true : nil
            dirty = true
        }
        if !offline { lastHeard = max(lastHeard ?? at, at) }
        return checkSilence(now: at)
    }

    /// Silence: how it stands at `now` (wall clock).
    func checkSilence(now: Int64) -> (from: Int, to: Int)? {
        guard case .silence(_, let offlineLevel) = rule.condition else { return nil }
        let silent = Double(max(0, now - (lastHeard ?? now))) / Double(max(1, interval))
        let offline = state.offline == true
        return step(at: now) { k in
            if offline, let offlineLevel, self.specs[k].level == offlineLevel {
                return .infinity
            }
            return silent
        }
    }

    /// How the duration of `spec` is counted on this device.
    func holdRule(_ spec: LevelSpec) -> HoldRule {
        let duration = spec.duration ?? rule.duration
        return HoldRule(
            duration: duration, minReadings: spec.minReadings ?? rule.minReadings,
            maxGap: rule.maxGap ?? max(3 * expectedInterval, duration), reset: rule.continuous ? 0 : duration)
    }

    /// Runs the level timers with the value of each level (`value(k)` for spec `k`).
    private func step(at ts: Int64, value: (Int) -> Double?) -> (from: Int, to: Int)? {
        var changed = false
        for (k, entry) in specs.enumerated() {
            let i = entry.level.rawValue - 1
            guard let x = value(k) else { continue }
            values[i] = x
            let spec = entry.spec
            var t = state.levels[i]
            let before = t
            let crossed = spec.comparison.crossed(x, spec.threshold)
            if !t.a {
                // Counting towards the duration (sample-and-hold).
                _ = t.observe(at: ts, crossed: crossed, holdRule(spec))
            } else if crossed {
                t.c = nil
            } else if spec.comparison.cleared(x, spec.threshold, margin: spec.clearMargin ?? rule.clearMargin) {
                let since = t.c ?? ts
                if ts - since >= rule.clearAfter {
                    t.a = false
                    t.c = nil
                } else {
                    t.c = since
                }
            } else {
                // In the hysteresis band: a raised level stays, its clear timer starts over.
                t.c = nil
            }
            if t != before {
                state.levels[i] = t
                changed = true
            }
        }
        guard changed else { return nil }
        dirty = true
        let now = Self.levelInForce(state.levels)
        guard now != level else { return nil }
        defer { level = now }
        return (level, now)
    }

    /// The spec of `level` for this device.
    func spec(of level: Int) -> LevelSpec? {
        specs.first { $0.level.rawValue == level }?.spec
    }

    /// The value behind `level` at the latest evaluation.
    func value(of level: Int) -> Double? {
        level >= 1 && level <= 4 ? values[level - 1] : nil
    }

    /// The state to persist.
    func record(now: Int64) -> RuleStateRecord {
        let json = (try? JSONEncoder().encode(state)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return RuleStateRecord(
            rule: rule.id, device: device.id, level: AlertLevel(stored: level), watermark: watermark == Int64.min ? 0 : watermark, state: json,
            updatedAt: now)
    }

    /// The levels counting towards their duration and when each count started, for people.
    var pendingSince: [(level: AlertLevel, since: Int64)] {
        specs.compactMap { entry in state.levels[entry.level.rawValue - 1].p.map { (entry.level, $0) } }
    }

    /// The latest value of a derived index with its level, for people.
    var indexStatus: IndexStatus? {
        guard case .derived(let index) = rule.condition, let x = state.x, let at = state.xt else { return nil }
        return IndexStatus(rule: rule.id, device: device.id, index: index, value: x, at: at, warning: AlertLevel(stored: level))
    }
}

/// The four level timers of one (rule, device), lowest level first. Holds no storage while
/// every timer is idle, as most of a county's are; persisted as the array of four.
struct LevelTimers: Codable, Equatable, Sendable {
    /// Empty while every timer is idle, else four.
    private var timers: [LevelTimer] = []

    init() {}

    subscript(i: Int) -> LevelTimer {
        get { timers.isEmpty ? LevelTimer() : timers[i] }
        set {
            if timers.isEmpty {
                guard newValue != LevelTimer() else { return }
                timers = [LevelTimer](repeating: LevelTimer(), count: 4)
            }
            timers[i] = newValue
        }
    }

    static func == (a: LevelTimers, b: LevelTimers) -> Bool {
        (0..<4).allSatisfy { a[$0] == b[$0] }
    }

    /// An array of any other length (a state from a different version) starts idle.
    init(from decoder: any Decoder) throws {
        let decoded = try [LevelTimer](from: decoder)
        if decoded.count == 4 && decoded.contains(where: { $0 != LevelTimer() }) { timers = decoded }
    }

    func encode(to encoder: any Encoder) throws {
        try (0..<4).map { self[$0] }.encode(to: encoder)
    }
}

/// A rule as every one of its runtimes uses it, made once per rule by ``AlertEngine``.
final class CompiledRule: Sendable {
    let rule: Rule
    let inputs: [String]
    let precision: Int
    /// ``Rule/historySpan``, worked out once (a county makes a runtime for every rule and device).
    let historySpan: Int64
    /// The levels of every device without an override of its own, when no threshold is a
    /// device attribute (then each device resolves its own).
    private let shared: [(level: AlertLevel, spec: LevelSpec)]?

    init(_ rule: Rule) {
        self.rule = rule
        inputs = rule.inputs
        precision = rule.metric.flatMap { MetricCatalogue.metric(named: $0)?.precision } ?? 3
        historySpan = rule.historySpan
        shared = rule.usesAttributes ? nil : Self.sorted(rule.levels)
    }

    /// The levels that apply to `device`, lowest first.
    func specs(for device: Device) -> [(level: AlertLevel, spec: LevelSpec)] {
        if let shared, rule.overrides[device.id] == nil { return shared }
        return Self.sorted(rule.levels(for: device))
    }

    private static func sorted(_ levels: [AlertLevel: LevelSpec]) -> [(level: AlertLevel, spec: LevelSpec)] {
        levels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// One device, shared by the runtimes of its slot.
final class DeviceBox: Sendable {
    let device: Device
    init(_ device: Device) { self.device = device }
}
