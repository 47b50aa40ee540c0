import Foundation
import ShennongAlerts
import ShennongCore

/// The timers of one level: raised after its duration, dropped after the clear delay.
struct LevelTimer: Codable, Equatable, Sendable {
    /// Since when the value has been on the warning side (level not yet raised).
    var p: Int64?
    /// Whether the level is raised.
    var a = false
    /// Since when the value has been clear of the threshold by the margin (level still raised).
    var c: Int64?
}

/// What is persisted of one (rule, device): the level timers, the watermark per input
/// metric, and for derived indices the station's day; for silence the offline flag.
///
/// Windows are not persisted: they are rebuilt from stored readings on first touch.
struct PersistedRuleState: Codable, Equatable, Sendable {
    var levels = [LevelTimer](repeating: LevelTimer(), count: 4)
    var w: [Int64] = []
    var day: WeatherDay?
    var offline: Bool?
}

/// The evaluation of one rule for one device: windows, level timers, the level in force.
///
/// Not thread-safe: owned by ``AlertEngine`` and used under its lock.
final class RuleRuntime {
    let rule: Rule
    let device: Device
    let inputs: [String]
    /// The device's levels, lowest first.
    let specs: [(level: AlertLevel, spec: LevelSpec)]
    var state: PersistedRuleState
    /// The level in force (0: none).
    private(set) var level: Int
    /// The state changed since it was last written.
    var dirty = false
    /// Windows rebuilt from stored readings.
    var ready: Bool
    /// Silence: expected interval (ms) and when the device was last heard (receive time).
    var interval: Int64 = 300_000
    var lastHeard: Int64?

    private var multi: MultiSpanWindow?
    private var spanOfLevel: [Int] = []
    private var rate: RateWindow?
    private var fraction: FractionWindow?
    private var stuck: StuckCounter?
    private var tmax24: MultiSpanWindow?
    private var rhMin24: MultiSpanWindow?
    private var windMax24: MultiSpanWindow?
    /// The value and threshold behind the latest evaluation of each level (for messages).
    private(set) var values = [Double?](repeating: nil, count: 4)

    init(rule: Rule, device: Device, persisted: RuleStateRecord?) {
        self.rule = rule
        self.device = device
        inputs = rule.inputs
        specs = rule.levels(for: device.id).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        var state = persisted.flatMap { try? JSONDecoder().decode(PersistedRuleState.self, from: Data($0.state.utf8)) }
            ?? PersistedRuleState()
        if state.levels.count != 4 { state.levels = [LevelTimer](repeating: LevelTimer(), count: 4) }
        if state.w.count != inputs.count {
            state.w = [Int64](repeating: persisted?.watermark ?? Int64.min, count: inputs.count)
        }
        // Levels the (edited) rule no longer has are dropped.
        let known = Set(specs.map(\.level.rawValue))
        for i in 0..<4 where !known.contains(i + 1) { state.levels[i] = LevelTimer() }
        self.state = state
        level = Self.levelInForce(state.levels)
        let precision = rule.metric.flatMap { MetricCatalogue.metric(named: $0)?.precision } ?? 3
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
            multi = MultiSpanWindow(aggregate: aggregate, spans: spans, precision: precision)
        case .rate(let per, let window):
            rate = RateWindow(span: window, per: per)
        case .fraction(let good, let threshold, let window, let gap):
            fraction = FractionWindow(span: window, maxGap: gap, good: good, threshold: threshold)
        case .stuck(let tolerance):
            stuck = StuckCounter(tolerance: tolerance)
        case .derived(let index):
            let day: Int64 = 86_400_000
            tmax24 = MultiSpanWindow(aggregate: .max, spans: [day], precision: 2)
            rhMin24 = MultiSpanWindow(aggregate: .min, spans: [day], precision: 1)
            windMax24 = MultiSpanWindow(aggregate: .max, spans: [day], precision: 1)
            _ = index
        case .threshold, .silence, .range:
            break
        }
        ready = rule.historySpan == 0
    }

    static func levelInForce(_ timers: [LevelTimer]) -> Int {
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
        if multi != nil { multi!.add(sample) }
        else if rate != nil { rate!.add(sample) }
        else if fraction != nil { fraction!.add(sample) }
        else if stuck != nil { stuck!.add(sample) }
        else if tmax24 != nil {
            switch metric {
            case "air_temp": tmax24!.add(sample)
            case "relative_humidity": rhMin24!.add(sample)
            case "wind_speed": windMax24!.add(sample)
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
            x = rate!.value
        case .fraction:
            x = fraction!.goodHours
        case .stuck:
            x = Double(stuck!.count)
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
                if let t = tmax24!.value(span: 0), let rh = rhMin24!.value(span: 0) {
                    x = FireDangerScore.index(tmax: t, rhMin: rh, dryDays: day.dryDaysNow, windMax: windMax24!.value(span: 0) ?? 0)
                }
            case .nesterov:
                x = day.nesterovNow
            }
        case .silence:
            x = 0
        }
        if case .window = rule.condition {
            return step(at: r.timestamp) { k in self.multi!.value(span: self.spanOfLevel[k]) }
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
            if spec.comparison.crossed(x, spec.threshold) {
                t.c = nil
                if !t.a {
                    let since = t.p ?? ts
                    if ts - since >= (spec.duration ?? rule.duration) {
                        t.a = true
                        t.p = nil
                    } else {
                        t.p = since
                    }
                }
            } else if spec.comparison.cleared(x, spec.threshold, margin: spec.clearMargin ?? rule.clearMargin) {
                t.p = nil
                if t.a {
                    let since = t.c ?? ts
                    if ts - since >= rule.clearAfter {
                        t.a = false
                        t.c = nil
                    } else {
                        t.c = since
                    }
                }
            } else {
                // In the hysteresis band: a raised level stays, timers start over.
                t.p = nil
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

    /// When the lowest pending level started, for people (fires at + duration).
    var pendingSince: [(level: AlertLevel, since: Int64)] {
        specs.compactMap { entry in state.levels[entry.level.rawValue - 1].p.map { (entry.level, $0) } }
    }
}
