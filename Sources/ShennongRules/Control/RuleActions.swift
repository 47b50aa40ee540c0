import Foundation
import ShennongAlerts
import ShennongCore
import Yams

/// One command a rule sends: its name (declared by the device's profile) and arguments.
public struct RuleAction: Sendable, Hashable {
    public var command: String
    public var args: [String: CommandValue]

    public init(command: String, args: [String: CommandValue] = [:]) {
        self.command = command
        self.args = args
    }
}

/// Per-device protections around a rule's commands (motor protection, a person's control).
public struct Interlock: Sendable, Hashable {
    /// A start (a command whose state is on) is followed by a stop no sooner than this (ms).
    public var minOn: Int64 = 0
    /// A stop is followed by a start no sooner than this (ms).
    public var minOff: Int64 = 0
    /// At most this many starts in any hour (automatic and manual ones count); `nil`: no limit.
    public var maxStartsPerHour: Int?
    /// Local minutes of the day [start, end) in which the rule starts nothing (may wrap midnight).
    public var quietHours: QuietHours?
    /// A person's command to the device holds the rule's commands off it for this long (ms).
    public var manualHold: Int64 = 2 * 3_600_000

    public init(
        minOn: Int64 = 0, minOff: Int64 = 0, maxStartsPerHour: Int? = nil, quietHours: QuietHours? = nil,
        manualHold: Int64 = 2 * 3_600_000
    ) {
        self.minOn = minOn
        self.minOff = minOff
        self.maxStartsPerHour = maxStartsPerHour
        self.quietHours = quietHours
        self.manualHold = manualHold
    }
}

/// A daily window in local time, minutes from midnight; `start > end` wraps midnight (22:00–06:00).
public struct QuietHours: Sendable, Hashable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// `22:00-06:00`, or `nil`.
    public init?(text: String) {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        func minutes(_ s: String) -> Int? {
            let hm = s.split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
            else { return nil }
            return h * 60 + m
        }
        guard parts.count == 2, let a = minutes(parts[0]), let b = minutes(parts[1]), a != b else { return nil }
        start = a
        end = b
    }

    /// Whether the wall-clock time `ms` falls in the window at UTC offset `offsetMinutes`.
    public func contains(_ ms: Int64, offsetMinutes: Int) -> Bool {
        let local = (ms / 60_000 + Int64(offsetMinutes)) % 1440
        let m = Int(local < 0 ? local + 1440 : local)
        return start < end ? (m >= start && m < end) : (m >= start || m < end)
    }

    public var text: String {
        String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60)
    }
}

/// What a rule does to the devices it watches (`actions:` in a rule file):
///
/// ```yaml
/// actions:
///   orange: [aerator_on]                 # when the alert reaches orange (raised or escalated)
///   red: [aerator_on]
///   clear: [aerator_off]                 # when the condition clears (after clear_margin and clear_after)
///   expires: 10m                         # how long each command may wait to be sent
///   interlock:
///     min_on: 30m                        # a start is stopped no sooner than this
///     min_off: 5m                        # a stop is restarted no sooner than this
///     max_starts_per_hour: 4             # motor protection
///     quiet_hours: "22:00-06:00"         # no automatic starts (local time), if a site wants them
///     manual_hold: 2h                    # a person's command holds automation off the device
/// ```
/// An action is a command name, or `{ command: set_do_limits, args: { lower: 3 } }`.
public struct RuleActions: Sendable, Hashable {
    public var levels: [AlertLevel: [RuleAction]] = [:]
    public var clear: [RuleAction] = []
    public var interlock = Interlock()
    /// How long (ms) each command may wait to be sent.
    public var expires: Int64 = 600_000

    public init(
        levels: [AlertLevel: [RuleAction]] = [:], clear: [RuleAction] = [], interlock: Interlock = Interlock(),
        expires: Int64 = 600_000
    ) {
        self.levels = levels
        self.clear = clear
        self.interlock = interlock
        self.expires = expires
    }

    /// Every command name the actions use.
    public var commandNames: Set<String> {
        Set(levels.values.flatMap { $0 }.map(\.command) + clear.map(\.command))
    }

    /// Parses `actions:`; errors name the line.
    static func parse(_ node: Node, file: String) -> (RuleActions?, [RuleFileError]) {
        var errors: [RuleFileError] = []
        func fail(_ node: Node?, _ message: String) {
            errors.append(RuleFileError(file: file, line: node?.mark?.line ?? 0, message: message))
        }
        func duration(_ node: Node?, _ what: String) -> Int64? {
            guard let node else { return nil }
            guard let text = node.string, let ms = DurationText.milliseconds(text), ms >= 0 else {
                fail(node, "\(what) must be a duration like 30s, 10m or 2h")
                return nil
            }
            return ms
        }
        func actionList(_ node: Node, _ what: String) -> [RuleAction] {
            let items: [Node]
            if let seq = node.sequence { items = Array(seq) } else { items = [node] }
            var out: [RuleAction] = []
            for item in items {
                if let name = item.string, !name.isEmpty {
                    out.append(RuleAction(command: name))
                } else if let m = item.mapping {
                    for (k, _) in m where !["command", "args"].contains(k.string ?? "") {
                        fail(k, "unknown key `\(k.string ?? "?")` in \(what) (known: args, command)")
                    }
                    guard let name = m["command"]?.string, !name.isEmpty else {
                        fail(item, "\(what): an action needs `command`")
                        continue
                    }
                    var action = RuleAction(command: name)
                    if let args = m["args"] {
                        guard let am = args.mapping else {
                            fail(args, "\(what).args must be a mapping of name: value")
                            continue
                        }
                        for (k, v) in am {
                            guard let key = k.string, case .scalar(let scalar) = v else {
                                fail(v, "\(what).args values must be numbers, true/false or text")
                                continue
                            }
                            action.args[key] = scalar.style == .plain ? CommandValue(text: scalar.string) : .string(scalar.string)
                        }
                    }
                    out.append(action)
                } else {
                    fail(item, "\(what) must list command names (or {command, args})")
                }
            }
            return out
        }
        guard let m = node.mapping else {
            fail(node, "actions must be a mapping of level (blue, yellow, orange, red) or clear to commands")
            return (nil, errors)
        }
        var actions = RuleActions()
        for (keyNode, value) in m {
            let key = keyNode.string ?? ""
            switch key {
            case "clear": actions.clear = actionList(value, "actions.clear")
            case "expires":
                if let ms = duration(value, "actions.expires") {
                    if ms <= 0 { fail(value, "actions.expires must be more than 0") } else { actions.expires = ms }
                }
            case "interlock":
                guard let im = value.mapping else {
                    fail(value, "actions.interlock must be a mapping")
                    continue
                }
                for (k, v) in im {
                    switch k.string ?? "" {
                    case "min_on": actions.interlock.minOn = duration(v, "interlock.min_on") ?? 0
                    case "min_off": actions.interlock.minOff = duration(v, "interlock.min_off") ?? 0
                    case "manual_hold": actions.interlock.manualHold = duration(v, "interlock.manual_hold") ?? actions.interlock.manualHold
                    case "max_starts_per_hour":
                        guard let n = v.int, n > 0 else {
                            fail(v, "interlock.max_starts_per_hour must be a whole number above 0")
                            continue
                        }
                        actions.interlock.maxStartsPerHour = n
                    case "quiet_hours":
                        guard let q = v.string.flatMap(QuietHours.init(text:)) else {
                            fail(v, "interlock.quiet_hours must be HH:MM-HH:MM (local time), e.g. 22:00-06:00")
                            continue
                        }
                        actions.interlock.quietHours = q
                    case let other:
                        fail(k, "unknown key `\(other)` in actions.interlock (known: manual_hold, max_starts_per_hour, min_off, min_on, quiet_hours)")
                    }
                }
            default:
                guard let level = AlertLevel(name: key) else {
                    fail(keyNode, "unknown key `\(key)` in actions (known: blue, yellow, orange, red, clear, expires, interlock)")
                    continue
                }
                actions.levels[level] = actionList(value, "actions.\(key)")
            }
        }
        return (actions, errors)
    }
}

extension Rule {
    /// Checks the rule's actions against the device profiles: every command must be declared by
    /// each profile of the devices the rule selects (by `select.profiles`, else by every profile
    /// that declares commands and matches the rule's domains), with arguments its spec accepts.
    /// Returns one message per problem.
    public func checkActions(profiles: [String: DeviceProfile]) -> [String] {
        guard let actions else { return [] }
        var candidates = profiles.values.filter { !$0.commands.isEmpty }
        if !selector.profiles.isEmpty {
            candidates = profiles.values.filter { selector.profiles.contains($0.name) }
            let missing = selector.profiles.subtracting(profiles.keys)
            if !missing.isEmpty { return ["rule \(id): select.profiles names unknown profiles \(missing.sorted().joined(separator: ", "))"] }
        } else if !selector.domains.isEmpty {
            candidates = candidates.filter { $0.domain.map(selector.domains.contains) ?? true }
        }
        guard !candidates.isEmpty else {
            return ["rule \(id): actions \(actions.commandNames.sorted().joined(separator: ", ")) but no selected profile declares commands"]
        }
        var problems: [String] = []
        let all = actions.levels.sorted { $0.key < $1.key }.flatMap { level, list in list.map { (level.name, $0) } }
            + actions.clear.map { ("clear", $0) }
        for (trigger, action) in all {
            let declaring = candidates.filter { $0.commands[action.command] != nil }
            if declaring.isEmpty {
                problems.append(
                    "rule \(id): actions.\(trigger) sends \(action.command), which no selected profile declares (\(candidates.map(\.name).sorted().joined(separator: ", ")))")
                continue
            }
            if !selector.profiles.isEmpty, declaring.count < candidates.count {
                let lacking = candidates.filter { $0.commands[action.command] == nil }.map(\.name).sorted()
                problems.append("rule \(id): actions.\(trigger) sends \(action.command), which \(lacking.joined(separator: ", ")) does not declare")
            }
            for profile in declaring {
                do {
                    _ = try profile.commands[action.command]!.validate(action.args)
                } catch {
                    problems.append("rule \(id): actions.\(trigger) \(action.command) for \(profile.name): \(error.message)")
                }
            }
        }
        return problems
    }
}
