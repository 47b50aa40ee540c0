import Foundation
import ShennongAlerts
import ShennongCore
import Yams

/// A problem in a rule file, with the line it is on (1-based; 0 when unknown).
public struct RuleFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Reads rule files (YAML) into ``Rule`` values, reporting every problem with its line.
///
/// ```yaml
/// rules:
///   - id: rainstorm
///     name: 暴雨预警 Rainstorm
///     source: CMA 2007 warning signals
///     category: Met
///     metric: rainfall
///     select: { domains: [weather, flood] }        # also profiles, sites, devices
///     condition: { kind: window, aggregate: sum }
///     levels:
///       yellow: { window: 6h, at_least: 50 }
///       red:    { window: 3h, at_least: 100 }
///     devices:                                     # per-device levels replace `levels`
///       gauge-7: { yellow: { window: 6h, at_least: 40 } }
///     for: 0s                                      # time in the condition before a level is raised
///     min_readings: 1                              # readings in the condition it needs
///     max_gap: 15m                                 # how long one reading holds at most
///     continuous: false                            # true: one reading out starts `for:` over
///     clear_margin: 0                              # hysteresis, in the value's unit
///     clear_after: 1h                              # clear delay
/// ```
/// A threshold may be a device attribute plus an offset, so each device gets its own (a
/// gauge's stages): `yellow: { at_least: { attribute: warning_stage } }`,
/// `blue: { at_least: { attribute: warning_stage, offset: -0.5 } }`. A device without the
/// attribute does not get that level; one with none of the rule's levels is skipped by it.
/// Comparisons: `at_least` (≥), `above` (>), `at_most` (≤), `below` (<). A level may give its
/// own `for`, `min_readings` and `clear_margin`. How `for:` counts (sample-and-hold, with
/// `max_gap` and `continuous`) is ``Rule/duration``; README "Warnings" has a worked example.
public enum RuleParser {
    /// Parses the text of one rule file. Rules with errors are left out; every error is returned.
    public static func parse(yaml: String, file: String) -> (rules: [Rule], errors: [RuleFileError]) {
        var context = ParseContext(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            return ([], [RuleFileError(file: file, line: Self.line(of: error), message: "not valid YAML: \(Self.problem(of: error))")])
        } catch {
            return ([], [RuleFileError(file: file, line: 0, message: "not valid YAML: \(error)")])
        }
        guard let root else { return ([], []) }
        guard let top = root.mapping else {
            context.fail(root, "the file must be a mapping with a `rules:` list")
            return ([], context.errors)
        }
        context.checkKeys(top, allowed: ["rules"])
        guard let list = top["rules"] else {
            context.fail(root, "missing `rules:` (a list of rules)")
            return ([], context.errors)
        }
        guard let sequence = list.sequence else {
            context.fail(list, "`rules:` must be a list")
            return ([], context.errors)
        }
        var rules: [Rule] = []
        var seen: [String: Int] = [:]
        for node in sequence {
            let before = context.errors.count
            guard let rule = context.rule(node), context.errors.count == before else { continue }
            if let first = seen[rule.id] {
                context.fail(node, "rule id \(rule.id) is already used on line \(first)")
                continue
            }
            seen[rule.id] = rule.line
            rules.append(rule)
        }
        return (rules, context.errors)
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 0
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(error)"
        }
    }
}

/// The walk over one file's nodes, collecting errors.
private struct ParseContext {
    let file: String
    var errors: [RuleFileError] = []

    mutating func fail(_ node: Node?, _ message: String) {
        errors.append(RuleFileError(file: file, line: node?.mark?.line ?? 0, message: message))
    }

    mutating func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, what: String = "") {
        for (key, _) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                fail(key, "unknown key `\(key.string ?? "?")`\(what.isEmpty ? "" : " in \(what)") (known: \(known))")
                continue
            }
        }
    }

    mutating func string(_ node: Node?, _ what: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let s) = node else {
            fail(node, "\(what) must be text")
            return nil
        }
        return s.string
    }

    mutating func number(_ node: Node?, _ what: String) -> Double? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let value = Double(s.string.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            fail(node, "\(what) must be a number, not `\(node.string ?? "?")`")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node?, _ what: String) -> Int64? {
        guard let node else { return nil }
        guard let text = node.string, let ms = DurationText.milliseconds(text) else {
            fail(node, "\(what) must be a duration like 30s, 10m, 6h or 1d, not `\(node.string ?? "?")`")
            return nil
        }
        return ms
    }

    /// A whole number of at least `minimum`.
    mutating func count(_ node: Node?, _ what: String, minimum: Int = 1) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let value = Int(s.string.trimmingCharacters(in: .whitespaces)), value >= minimum else {
            fail(node, "\(what) must be a whole number of at least \(minimum), not `\(node.string ?? "?")`")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node?, _ what: String) -> Bool? {
        guard let node else { return nil }
        guard let b = node.bool else {
            fail(node, "\(what) must be true or false")
            return nil
        }
        return b
    }

    mutating func strings(_ node: Node?, _ what: String) -> [String] {
        guard let node else { return [] }
        if case .scalar(let s) = node { return [s.string] }
        guard let seq = node.sequence else {
            fail(node, "\(what) must be a list")
            return []
        }
        return seq.compactMap { string($0, what) }
    }

    mutating func level(_ node: Node, _ what: String) -> AlertLevel? {
        guard let text = node.string, let level = AlertLevel(name: text) else {
            fail(node, "\(what) must be blue, yellow, orange or red, not `\(node.string ?? "?")`")
            return nil
        }
        return level
    }

    /// `{ at_least: 50 }` and the like: the comparison and threshold of a mapping.
    mutating func comparison(_ mapping: Node.Mapping, at node: Node, _ what: String) -> (Comparison, Double)? {
        guard let (comparison, threshold, attribute) = comparison(mapping, at: node, what, attributes: false), attribute == nil
        else { return nil }
        return (comparison, threshold)
    }

    /// `{ at_least: 50 }` or, with `attributes`, `{ at_least: { attribute: warning_stage, offset: -0.5 } }`:
    /// the comparison and the threshold (for an attribute, the offset) of a mapping.
    mutating func comparison(
        _ mapping: Node.Mapping, at node: Node, _ what: String, attributes: Bool
    ) -> (Comparison, Double, AttributeThreshold?)? {
        let found = Comparison.allCases.filter { mapping[$0.rawValue] != nil }
        guard found.count == 1, let comparison = found.first else {
            fail(node, "\(what) needs exactly one of at_least, above, at_most, below")
            return nil
        }
        let valueNode = mapping[comparison.rawValue]
        let path = "\(what).\(comparison.rawValue)"
        if let reference = valueNode?.mapping {
            guard attributes else {
                fail(valueNode, "\(path) must be a number, not a mapping")
                return nil
            }
            checkKeys(reference, allowed: ["attribute", "offset"], what: path)
            guard let name = string(reference["attribute"], "\(path).attribute"), Device.isValidID(name) else {
                fail(
                    reference["attribute"] ?? valueNode,
                    "\(path) needs `attribute:`, the name of a device attribute like warning_stage ([A-Za-z0-9_.-]{1,64})")
                return nil
            }
            let offset = reference["offset"].map { number($0, "\(path).offset") }
            if case .some(.none) = offset { return nil }
            let attribute = AttributeThreshold(attribute: name, offset: (offset ?? 0) ?? 0)
            return (comparison, attribute.offset, attribute)
        }
        guard let threshold = number(valueNode, path) else { return nil }
        return (comparison, threshold, nil)
    }

    mutating func levels(_ node: Node?, _ what: String) -> [AlertLevel: LevelSpec] {
        guard let node else { return [:] }
        guard let mapping = node.mapping else {
            fail(node, "\(what) must map levels (blue, yellow, orange, red) to thresholds")
            return [:]
        }
        var out: [AlertLevel: LevelSpec] = [:]
        for (key, value) in mapping {
            guard let level = level(key, "a level name") else { continue }
            guard let spec = value.mapping else {
                fail(value, "\(what).\(level.name) must be a mapping like { at_least: 50 }")
                continue
            }
            checkKeys(
                spec, allowed: Set(Comparison.allCases.map(\.rawValue) + ["window", "for", "min_readings", "clear_margin"]),
                what: "\(what).\(level.name)")
            guard let (comparison, threshold, attribute) = comparison(spec, at: value, "\(what).\(level.name)", attributes: true)
            else { continue }
            out[level] = LevelSpec(
                comparison: comparison, threshold: threshold, attribute: attribute, window: duration(spec["window"], "window"),
                duration: duration(spec["for"], "for"), minReadings: count(spec["min_readings"], "min_readings"),
                clearMargin: number(spec["clear_margin"], "clear_margin"))
        }
        return out
    }

    mutating func rule(_ node: Node) -> Rule? {
        guard let m = node.mapping else {
            fail(node, "each rule must be a mapping with id, metric, condition and levels")
            return nil
        }
        checkKeys(
            m,
            allowed: [
                "id", "name", "source", "category", "instruction", "metric", "select", "condition", "levels", "level",
                "devices", "for", "min_readings", "max_gap", "continuous", "clear_margin", "clear_after", "enabled",
                "actions",
            ], what: "a rule")
        guard let id = string(m["id"], "id") else {
            fail(node, "a rule needs an `id`")
            return nil
        }
        guard !id.isEmpty, Device.isValidID(id) else {
            fail(m["id"], "rule id `\(id)` must match [A-Za-z0-9_.-]{1,64}")
            return nil
        }
        let name = string(m["name"], "name") ?? id
        var selector = DeviceSelector()
        if let select = m["select"] {
            if let s = select.mapping {
                checkKeys(s, allowed: ["domains", "profiles", "sites", "devices"], what: "select")
                for text in strings(s["domains"], "select.domains") {
                    if let domain = Domain(rawValue: text), Domain.deviceDomains.contains(domain) {
                        selector.domains.insert(domain)
                    } else {
                        fail(s["domains"], "unknown domain `\(text)` (water, soil, weather, fire, flood)")
                    }
                }
                selector.profiles = Set(strings(s["profiles"], "select.profiles"))
                selector.sites = Set(strings(s["sites"], "select.sites"))
                selector.devices = Set(strings(s["devices"], "select.devices"))
            } else {
                fail(select, "select must be a mapping (domains, profiles, sites, devices)")
            }
        }
        let metric = string(m["metric"], "metric")
        if let metric, MetricCatalogue.metric(named: metric) == nil {
            fail(m["metric"], "unknown metric `\(metric)` (see the canonical metrics in DESIGN.md)")
        }
        guard let conditionNode = m["condition"], let c = conditionNode.mapping else {
            fail(m["condition"] ?? node, "a rule needs a `condition:` mapping with a `kind`")
            return nil
        }
        guard let kind = string(c["kind"], "condition.kind") else {
            fail(conditionNode, "condition needs a `kind` (threshold, window, rate, fraction, derived, silence, range, stuck)")
            return nil
        }
        var levels = self.levels(m["levels"], "levels")
        var overrides: [String: [AlertLevel: LevelSpec]] = [:]
        if let devices = m["devices"] {
            if let d = devices.mapping {
                for (key, value) in d {
                    guard let device = key.string, Device.isValidID(device) else {
                        fail(key, "device id must match [A-Za-z0-9_.-]{1,64}")
                        continue
                    }
                    overrides[device] = self.levels(value, "devices.\(device)")
                }
            } else {
                fail(devices, "devices must map device ids to their own levels")
            }
        }
        let condition: Condition
        var needsMetric = true
        switch kind {
        case "threshold":
            checkKeys(c, allowed: ["kind"], what: "condition")
            condition = .threshold
        case "window":
            checkKeys(c, allowed: ["kind", "aggregate", "window"], what: "condition")
            guard let text = string(c["aggregate"], "aggregate"), let aggregate = WindowAggregate(rawValue: text) else {
                fail(c["aggregate"] ?? conditionNode, "a window condition needs `aggregate`: sum, mean, min or max")
                return nil
            }
            let window = duration(c["window"], "window")
            for (level, spec) in levels.merging(overrides.values.flatMap { $0 }, uniquingKeysWith: { a, _ in a })
            where (spec.window ?? window ?? 0) <= 0 {
                fail(m["levels"] ?? conditionNode, "level \(level.name) has no window (give condition.window or the level's window)")
            }
            condition = .window(aggregate, window: window)
        case "rate":
            checkKeys(c, allowed: ["kind", "per", "window"], what: "condition")
            let per = duration(c["per"], "per") ?? 3_600_000
            let window = duration(c["window"], "window") ?? per
            guard per > 0, window > 0 else {
                fail(conditionNode, "rate needs a positive `per` and `window`")
                return nil
            }
            condition = .rate(per: per, window: window)
        case "fraction":
            checkKeys(c, allowed: ["kind", "good", "window", "max_gap"], what: "condition")
            guard let goodNode = c["good"], let good = goodNode.mapping,
                let (comparison, threshold) = comparison(good, at: goodNode, "condition.good")
            else {
                fail(c["good"] ?? conditionNode, "a fraction condition needs `good:` like { above: 5 }")
                return nil
            }
            let window = duration(c["window"], "window") ?? 86_400_000
            let gap = duration(c["max_gap"], "max_gap") ?? 3_600_000
            guard window > 0, gap > 0 else {
                fail(conditionNode, "window and max_gap must be positive")
                return nil
            }
            condition = .fraction(good: comparison, goodThreshold: threshold, window: window, maxGap: gap)
        case "derived":
            checkKeys(c, allowed: ["kind", "index"], what: "condition")
            guard let text = string(c["index"], "index"), let index = DerivedIndex(rawValue: text) else {
                fail(c["index"] ?? conditionNode, "a derived condition needs `index`: fire_danger_lyt1172 or nesterov")
                return nil
            }
            needsMetric = false
            condition = .derived(index)
        case "silence":
            checkKeys(c, allowed: ["kind", "interval", "offline"], what: "condition")
            var offline: AlertLevel?
            if let node = c["offline"] { offline = level(node, "offline") }
            needsMetric = false
            condition = .silence(interval: duration(c["interval"], "interval"), offline: offline)
        case "range":
            checkKeys(c, allowed: ["kind", "min", "max"], what: "condition")
            let lo = number(c["min"], "min")
            let hi = number(c["max"], "max")
            guard lo != nil || hi != nil else {
                fail(conditionNode, "a range condition needs `min`, `max` or both")
                return nil
            }
            if let lo, let hi, lo >= hi { fail(conditionNode, "min must be below max") }
            if levels.isEmpty, let node = m["level"], let level = level(node, "level") {
                levels = [level: LevelSpec(comparison: .atLeast, threshold: 1)]
            }
            condition = .range(min: lo, max: hi)
        case "stuck":
            checkKeys(c, allowed: ["kind", "reports", "tolerance"], what: "condition")
            let reports = number(c["reports"], "reports") ?? 12
            guard reports >= 2 else {
                fail(conditionNode, "reports must be at least 2")
                return nil
            }
            if levels.isEmpty, let node = m["level"], let level = level(node, "level") {
                levels = [level: LevelSpec(comparison: .atLeast, threshold: reports)]
            }
            condition = .stuck(tolerance: number(c["tolerance"], "tolerance") ?? 0)
        default:
            fail(c["kind"], "unknown condition kind `\(kind)` (threshold, window, rate, fraction, derived, silence, range, stuck)")
            return nil
        }
        if needsMetric && metric == nil {
            fail(node, "a \(kind) rule needs a `metric`")
            return nil
        }
        if m["level"] != nil && !(kind == "range" || kind == "stuck") {
            fail(m["level"], "`level:` is the shorthand of range and stuck rules; give `levels:` instead")
        }
        if kind == "silence",
            m["min_readings"] != nil || ([levels] + Array(overrides.values)).contains(where: { $0.values.contains { $0.minReadings != nil } })
        {
            fail(m["min_readings"] ?? m["levels"] ?? node, "min_readings counts readings: a silence rule has none (give `for:` instead)")
        }
        let maxGap = duration(m["max_gap"], "max_gap")
        if maxGap == 0 { fail(m["max_gap"], "max_gap must be positive") }
        if levels.isEmpty && overrides.isEmpty {
            fail(node, "rule \(id) has no levels (give `levels:`, per-device `devices:`, or `level:` for range/stuck)")
            return nil
        }
        // One direction per rule, and higher levels no less severe than lower ones (same window).
        for set in [levels] + Array(overrides.values) {
            let specs = set.sorted { $0.key < $1.key }
            if Set(specs.map { $0.value.comparison.isHigh }).count > 1 {
                fail(m["levels"] ?? node, "rule \(id) mixes high (at_least/above) and low (at_most/below) thresholds")
            }
            // Thresholds on different attributes (or a number and an attribute) are compared per device.
            for (a, b) in zip(specs, specs.dropFirst())
            where a.value.window == b.value.window && a.value.attribute?.attribute == b.value.attribute?.attribute {
                let worse = a.value.comparison.isHigh ? b.value.threshold >= a.value.threshold : b.value.threshold <= a.value.threshold
                if !worse {
                    fail(m["levels"] ?? node, "level \(b.key.name) (\(b.value.threshold)) is less severe than \(a.key.name) (\(a.value.threshold))")
                }
            }
        }
        var category = string(m["category"], "category") ?? "Other"
        let categories = ["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"]
        if !categories.contains(category) {
            fail(m["category"], "category must be a CAP 1.2 category (\(categories.joined(separator: ", ")))")
            category = "Other"
        }
        var actions: RuleActions?
        if let node = m["actions"] {
            let (parsed, problems) = RuleActions.parse(node, file: file)  // Control/RuleActions.swift
            errors += problems
            actions = parsed
        }
        var rule = Rule(
            id: id, name: name, source: string(m["source"], "source"), category: category,
            instruction: string(m["instruction"], "instruction"), metric: metric, selector: selector, condition: condition,
            levels: levels, overrides: overrides, duration: duration(m["for"], "for") ?? 0,
            clearMargin: number(m["clear_margin"], "clear_margin") ?? 0, clearAfter: duration(m["clear_after"], "clear_after") ?? 0,
            minReadings: count(m["min_readings"], "min_readings") ?? 1, maxGap: maxGap,
            continuous: bool(m["continuous"], "continuous") ?? false, enabled: bool(m["enabled"], "enabled") ?? true, file: file, line: node.mark?.line ?? 0)
        rule.actions = actions
        return rule
    }
}

/// Loads every `*.yaml` rule file of a directory.
public enum RuleLoader {
    /// The rules of every `*.yaml` in `directory` (sorted by file name) and every problem found.
    /// Ids must be unique across the files. A missing directory gives no rules and one error.
    public static func load(directory: String) -> (rules: [Rule], errors: [RuleFileError]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            return ([], [RuleFileError(file: directory, line: 0, message: "rules directory not found")])
        }
        var rules: [Rule] = []
        var errors: [RuleFileError] = []
        var ids: [String: Rule] = [:]
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                errors.append(RuleFileError(file: path, line: 0, message: "cannot read the file"))
                continue
            }
            let parsed = RuleParser.parse(yaml: text, file: path)
            errors += parsed.errors
            for rule in parsed.rules {
                if let other = ids[rule.id] {
                    errors.append(RuleFileError(file: path, line: rule.line, message: "rule id \(rule.id) is also defined at \(other.file):\(other.line)"))
                    continue
                }
                ids[rule.id] = rule
                rules.append(rule)
            }
        }
        return (rules, errors)
    }
}
