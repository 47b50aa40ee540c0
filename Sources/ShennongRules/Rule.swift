import Foundation
import ShennongAlerts
import ShennongCore

/// How a level's threshold is compared with the condition's value.
public enum Comparison: String, Sendable, Hashable, Codable, CaseIterable {
    /// value ≥ threshold
    case atLeast = "at_least"
    /// value > threshold
    case above
    /// value ≤ threshold
    case atMost = "at_most"
    /// value < threshold
    case below

    /// Whether a higher value is worse (the warning side is above the threshold).
    public var isHigh: Bool { self == .atLeast || self == .above }

    /// Whether `value` is on the warning side of `threshold`.
    @inline(__always)
    public func crossed(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .atLeast: value >= threshold
        case .above: value > threshold
        case .atMost: value <= threshold
        case .below: value < threshold
        }
    }

    /// Whether `value` is clear of `threshold` by at least `margin` on the safe side (hysteresis).
    @inline(__always)
    public func cleared(_ value: Double, _ threshold: Double, margin: Double) -> Bool {
        !crossed(value, isHigh ? threshold - margin : threshold + margin)
    }

    /// `≥`, `>`, `≤`, `<`.
    public var symbol: String {
        switch self {
        case .atLeast: "≥"
        case .above: ">"
        case .atMost: "≤"
        case .below: "<"
        }
    }
}

/// A threshold read from a device attribute (a gauge's `warning_stage`), plus an offset.
public struct AttributeThreshold: Sendable, Hashable, Codable {
    /// The name of the numeric attribute (``Device/attributes``).
    public var attribute: String
    /// Added to the attribute's value (−0.5: half a metre below the warning stage).
    public var offset: Double

    public init(attribute: String, offset: Double = 0) {
        self.attribute = attribute
        self.offset = offset
    }

    /// `warning_stage`, `warning_stage - 0.5`, `warning_stage + 1`.
    public var text: String {
        offset == 0 ? attribute : "\(attribute) \(offset < 0 ? "-" : "+") \(AlertText.format(abs(offset)))"
    }
}

/// One level of a rule: compare the condition's value with a threshold (over a window, for
/// windowed conditions), optionally with its own duration, reading count and clear margin.
public struct LevelSpec: Sendable, Hashable, Codable {
    public var comparison: Comparison
    /// The threshold; with ``attribute``, the value resolved for one device (see ``resolved(for:)``).
    public var threshold: Double
    /// The threshold is the device's attribute plus an offset (a gauge's own stages); a device
    /// without the attribute does not get this level.
    public var attribute: AttributeThreshold?
    /// The window (ms) for windowed conditions whose levels differ in window (rainfall 12/6/3 h).
    public var window: Int64?
    /// How long (ms) the value must be in the condition, in total, before the level is raised
    /// (see ``Rule/duration``); `nil`: the rule's.
    public var duration: Int64?
    /// How many readings in the condition the level needs before it is raised; `nil`: the rule's.
    public var minReadings: Int?
    /// Hysteresis: how far past the threshold (on the safe side) the value must go to clear; `nil`: the rule's.
    public var clearMargin: Double?

    public init(
        comparison: Comparison, threshold: Double, attribute: AttributeThreshold? = nil, window: Int64? = nil,
        duration: Int64? = nil, minReadings: Int? = nil, clearMargin: Double? = nil
    ) {
        self.comparison = comparison
        self.threshold = threshold
        self.attribute = attribute
        self.window = window
        self.duration = duration
        self.minReadings = minReadings
        self.clearMargin = clearMargin
    }

    /// This level for `device`: an attribute threshold takes the device's attribute plus the
    /// offset; `nil` when the device lacks the attribute (or it is not finite).
    public func resolved(for device: Device) -> LevelSpec? {
        guard let attribute else { return self }
        guard let value = device.attributes[attribute.attribute], value.isFinite else { return nil }
        var spec = self
        spec.threshold = value + attribute.offset
        return spec
    }

    /// Whether ``resolved(for:)`` gives a level for `device`, without making it.
    public func resolves(for device: Device) -> Bool {
        guard let attribute else { return true }
        return device.attributes[attribute.attribute]?.isFinite ?? false
    }

    /// `≥ 50`, `≥ warning_stage - 0.5`.
    public var thresholdText: String {
        "\(comparison.symbol) " + (attribute?.text ?? AlertText.format(threshold))
    }
}

/// Which devices a rule applies to: every criterion given must match (domains, profiles,
/// sites, ids); within one criterion any listed value matches. Empty selects every device
/// that reports the rule's metric.
public struct DeviceSelector: Sendable, Hashable {
    public var domains: Set<Domain> = []
    public var profiles: Set<String> = []
    public var sites: Set<String> = []
    public var devices: Set<String> = []

    public init(domains: Set<Domain> = [], profiles: Set<String> = [], sites: Set<String> = [], devices: Set<String> = []) {
        self.domains = domains
        self.profiles = profiles
        self.sites = sites
        self.devices = devices
    }

    public func matches(_ device: Device) -> Bool {
        (domains.isEmpty || domains.contains(device.domain))
            && (profiles.isEmpty || profiles.contains(device.profile))
            && (sites.isEmpty || device.site.map(sites.contains) == true)
            && (devices.isEmpty || devices.contains(device.id))
    }
}

/// Aggregates of a sliding window.
public enum WindowAggregate: String, Sendable, Hashable, Codable, CaseIterable {
    case sum, mean, min, max
}

/// Indices derived from several metrics of a weather station.
public enum DerivedIndex: String, Sendable, Hashable, Codable, CaseIterable {
    /// Forest-fire danger by the LY/T 1172-95 scoring (rolling 24 h maxima and minima, dry days).
    case fireDanger = "fire_danger_lyt1172"
    /// Nesterov ignition index: Σ T·(T − Td) over dry days, reset by a day of more than 3 mm.
    case nesterov

    /// The metrics the index is computed from.
    public var inputs: [String] {
        switch self {
        case .fireDanger: ["air_temp", "relative_humidity", "wind_speed", "rainfall"]
        case .nesterov: ["air_temp", "relative_humidity", "rainfall"]
        }
    }
}

/// What a rule computes from a device's readings; the levels compare its value.
public enum Condition: Sendable, Hashable {
    /// The reading's value.
    case threshold
    /// An aggregate over a sliding window `(t − window, t]`; a level may set its own window.
    case window(WindowAggregate, window: Int64?)
    /// Change per `per` ms, from the oldest reading in the last `window` ms to the newest
    /// (unknown until the readings span half the window).
    case rate(per: Int64, window: Int64)
    /// Hours in the last `window` during which the value was good (`good` compared with
    /// `goodThreshold`), each reading holding until the next (at most `maxGap`); time
    /// without readings counts as good.
    case fraction(good: Comparison, goodThreshold: Double, window: Int64, maxGap: Int64)
    /// An index computed from several metrics (``DerivedIndex``).
    case derived(DerivedIndex)
    /// Silence in multiples of the expected interval (`interval`, else the device profile's);
    /// an `offline` last will on the status topic raises `offline` at once.
    case silence(interval: Int64?, offline: AlertLevel?)
    /// Data quality: 1 when the value is outside `[min, max]` (a plausible range narrower
    /// than the physical one), else 0.
    case range(min: Double?, max: Double?)
    /// Data quality: how many reports in a row had the same value (within `tolerance`).
    case stuck(tolerance: Double)

    /// The YAML `kind`.
    public var kind: String {
        switch self {
        case .threshold: "threshold"
        case .window: "window"
        case .rate: "rate"
        case .fraction: "fraction"
        case .derived: "derived"
        case .silence: "silence"
        case .range: "range"
        case .stuck: "stuck"
        }
    }
}

/// A warning rule, as written in a Config/rules/*.yaml file.
public struct Rule: Sendable, Hashable {
    /// Unique across all rule files; alerts and state are keyed by it.
    public var id: String
    /// Shown to people, Chinese first (暴雨预警 Rainstorm).
    public var name: String
    /// The standard or source the thresholds come from.
    public var source: String?
    /// CAP 1.2 category (Met, Fire, Env, Geo, Infra, Other, ...).
    public var category: String
    /// What to do, for people (zh-CN).
    public var instruction: String?
    /// The metric the condition reads (`nil` for derived indices and silence).
    public var metric: String?
    public var selector: DeviceSelector
    public var condition: Condition
    /// Levels for every selected device.
    public var levels: [AlertLevel: LevelSpec]
    /// Per-device levels (a gauge's own warning and guaranteed stages): replace `levels`.
    public var overrides: [String: [AlertLevel: LevelSpec]]
    /// How long (ms) the value must be in a level's condition before the level is raised (0:
    /// at once), counted under sample-and-hold: each reading's state holds until the next
    /// reading, at most ``maxGap``. Time in the condition adds up across short excursions out
    /// of it: the count starts over only once the value has stayed out of the condition for
    /// as long as the duration itself (at the first reading out of it when ``continuous``).
    /// The level is raised at a reading in the condition.
    public var duration: Int64
    /// How many readings in the condition a level needs (in the same count) before it is raised (≥ 1).
    public var minReadings: Int
    /// How long (ms) one reading holds at most for ``duration``; `nil`: three times the
    /// device's expected interval, and never less than the level's duration (so two readings
    /// in the condition a duration apart still raise it).
    public var maxGap: Int64?
    /// The value must stay in the condition for the whole duration: one reading out of it
    /// starts the count over ("three days running").
    public var continuous: Bool
    /// Hysteresis in the value's unit.
    public var clearMargin: Double
    /// How long (ms) the value must stay clear before a level is dropped (0: at once).
    public var clearAfter: Int64
    public var enabled: Bool
    /// Commands the rule sends to the devices it watches, per level and on clear (Control/RuleActions.swift).
    public var actions: RuleActions?
    /// Where it was read from, for messages.
    public var file: String
    public var line: Int

    public init(
        id: String, name: String, source: String? = nil, category: String = "Other", instruction: String? = nil,
        metric: String?, selector: DeviceSelector = DeviceSelector(), condition: Condition,
        levels: [AlertLevel: LevelSpec], overrides: [String: [AlertLevel: LevelSpec]] = [:], duration: Int64 = 0,
        clearMargin: Double = 0, clearAfter: Int64 = 0, minReadings: Int = 1, maxGap: Int64? = nil, continuous: Bool = false,
        enabled: Bool = true, file: String = "", line: Int = 0
    ) {
        self.id = id
        self.name = name
        self.source = source
        self.category = category
        self.instruction = instruction
        self.metric = metric
        self.selector = selector
        self.condition = condition
        self.levels = levels
        self.overrides = overrides
        self.duration = duration
        self.clearMargin = clearMargin
        self.clearAfter = clearAfter
        self.minReadings = max(1, minReadings)
        self.maxGap = maxGap
        self.continuous = continuous
        self.enabled = enabled
        self.file = file
        self.line = line
    }

    /// The Chinese part of ``name``, for people who read no English (河道水位 of
    /// "河道水位 River stage"); the whole name when it has no Chinese.
    public var chineseName: String { Self.chineseName(of: name) }

    /// The Chinese part of a rule name written Chinese first: every word up to the last one
    /// with a Chinese character ("Nesterov 火险指数 Nesterov index" → "Nesterov 火险指数");
    /// the whole name when no word has one.
    public static func chineseName(of name: String) -> String {
        let words = name.split(separator: " ", omittingEmptySubsequences: true)
        guard let last = words.lastIndex(where: { $0.unicodeScalars.contains { $0.properties.isIdeographic } }) else {
            return name
        }
        return words[...last].joined(separator: " ")
    }

    /// The metrics whose readings drive the rule (none for silence: any report does).
    public var inputs: [String] {
        switch condition {
        case .derived(let index): index.inputs
        case .silence: []
        default: metric.map { [$0] } ?? []
        }
    }

    /// The levels as written for `device` (its override, else the rule's), attribute
    /// thresholds unresolved.
    public func levels(for device: String) -> [AlertLevel: LevelSpec] {
        overrides[device] ?? levels
    }

    /// The levels that apply to `device` with their thresholds resolved: its override, else
    /// the rule's, where a level whose threshold is a device attribute the device lacks is
    /// left out. Empty: the rule does not apply to it.
    public func levels(for device: Device) -> [AlertLevel: LevelSpec] {
        levels(for: device.id).compactMapValues { $0.resolved(for: device) }
    }

    /// Whether any level's threshold is a device attribute.
    public var usesAttributes: Bool {
        ([levels] + Array(overrides.values)).contains { $0.values.contains { $0.attribute != nil } }
    }

    /// Whether the rule applies to `device`: named in `devices:`, or selected and with at
    /// least one level it can resolve (a gauge without its stages is skipped, not an error).
    public func applies(to device: Device) -> Bool {
        guard enabled else { return false }
        // A device named in `devices:` (its own stages) is selected by naming it.
        if overrides[device.id] != nil { return resolvesALevel(for: device) }
        return !levels.isEmpty && selector.matches(device) && resolvesALevel(for: device)
    }

    /// Whether `levels(for: device)` is not empty, without building it (asked for every rule
    /// and device when a device's rules are first set up).
    private func resolvesALevel(for device: Device) -> Bool {
        levels(for: device.id).values.contains { $0.resolves(for: device) }
    }

    /// The longest window (ms) its condition keeps, for rebuilding it from stored readings.
    public var historySpan: Int64 {
        switch condition {
        case .threshold, .silence, .range: return 0
        case .window(_, let window):
            return ([window ?? 0] + (levels.values.map { $0.window ?? 0 })
                + overrides.values.flatMap { $0.values.map { $0.window ?? 0 } }).max() ?? 0
        case .rate(_, let window): return window
        case .fraction(_, _, let window, _): return window
        case .derived: return 24 * 3_600_000
        case .stuck: return 24 * 3_600_000
        }
    }
}

/// Durations in rule files and configuration: `90s`, `10m`, `6h`, `3d`, `500ms`.
public enum DurationText {
    /// Milliseconds in `text`, or `nil`. Zero (`0`, `0s`) is allowed.
    public static func milliseconds(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "0" { return 0 }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            if let n = Int64(number), n >= 0, n <= Int64.max / scale { return n * scale }
            if let d = Double(number), d >= 0, d.isFinite, d * Double(scale) < 9e18 { return Int64((d * Double(scale)).rounded()) }
            return nil
        }
        return nil
    }

    /// `6h`, `90m`, `45s`, `250ms`: the largest unit that divides `ms`.
    public static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        for (suffix, scale) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms % scale == 0 {
            return "\(ms / scale)\(suffix)"
        }
        return "\(ms)ms"
    }
}
