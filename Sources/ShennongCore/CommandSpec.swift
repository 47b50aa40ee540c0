/// One value of a command's argument, as a device receives it in `args`.
public enum CommandValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .string(let s): try c.encode(s)
        }
    }

    /// A command-line value (`--arg k=v`): `true`/`false`, a number, else text.
    public init(text: String) {
        switch text {
        case "true": self = .bool(true)
        case "false": self = .bool(false)
        default:
            if let d = JSONParser.parseNumber(text), d.isFinite { self = .number(d) } else { self = .string(text) }
        }
    }

    /// The value as JSON text (numbers in their shortest form).
    public var jsonText: String {
        switch self {
        case .number(let d): JSONValue.format(d)
        case .bool(let b): b ? "true" : "false"
        case .string(let s): JSONValue.string(s).description
        }
    }

    /// The value as staff read it: `5.5`, `true`, `text`.
    public var description: String {
        switch self {
        case .number(let d): JSONValue.format(d)
        case .bool(let b): b ? "true" : "false"
        case .string(let s): s
        }
    }
}

/// The type of a command argument.
public enum CommandArgumentType: String, Sendable, Hashable, CaseIterable, Codable {
    case number
    case integer
    case boolean
    case string
}

/// One argument a command takes: its type, range or allowed values, unit, and whether it is required.
public struct CommandArgumentSpec: Sendable, Hashable {
    public var name: String
    public var type: CommandArgumentType
    /// Inclusive bounds of a number or integer.
    public var minimum: Double?
    public var maximum: Double?
    /// The values a string may take (empty: any text of at most 200 characters).
    public var allowed: [String]
    public var required: Bool
    public var unit: String?
    public var description: String?

    public init(
        name: String, type: CommandArgumentType, minimum: Double? = nil, maximum: Double? = nil, allowed: [String] = [],
        required: Bool = true, unit: String? = nil, description: String? = nil
    ) {
        self.name = name
        self.type = type
        self.minimum = minimum
        self.maximum = maximum
        self.allowed = allowed
        self.required = required
        self.unit = unit
        self.description = description
    }

    /// `value` as this argument's type, or why not. Text is read as the type asks (a form or a
    /// command line sends `5.5` and `true` as text).
    public func check(_ value: CommandValue) -> Result<CommandValue, CommandArgumentError> {
        func bad(_ why: String) -> Result<CommandValue, CommandArgumentError> {
            .failure(CommandArgumentError(argument: name, message: why))
        }
        switch type {
        case .number, .integer:
            let number: Double
            switch value {
            case .number(let d): number = d
            case .string(let s):
                guard let d = JSONParser.parseNumber(s) else { return bad("参数 \(name) 须为数字 must be a number, got \"\(s)\"") }
                number = d
            case .bool: return bad("参数 \(name) 须为数字 must be a number, got \(value)")
            }
            guard number.isFinite else { return bad("参数 \(name) 须为有限数 must be finite") }
            if type == .integer && number != number.rounded() {
                return bad("参数 \(name) 须为整数 must be a whole number, got \(JSONValue.format(number))")
            }
            if let minimum, number < minimum {
                return bad("参数 \(name) 不得小于 \(JSONValue.format(minimum)) must be at least \(JSONValue.format(minimum)), got \(JSONValue.format(number))")
            }
            if let maximum, number > maximum {
                return bad("参数 \(name) 不得大于 \(JSONValue.format(maximum)) must be at most \(JSONValue.format(maximum)), got \(JSONValue.format(number))")
            }
            return .success(.number(number))
        case .boolean:
            switch value {
            case .bool: return .success(value)
            case .string("true"), .string("1"): return .success(.bool(true))
            case .string("false"), .string("0"): return .success(.bool(false))
            case .number(1): return .success(.bool(true))
            case .number(0): return .success(.bool(false))
            default: return bad("参数 \(name) 须为 true 或 false must be true or false, got \(value)")
            }
        case .string:
            let text: String
            switch value {
            case .string(let s): text = s
            case .number, .bool: text = value.description
            }
            if !allowed.isEmpty, !allowed.contains(text) {
                return bad("参数 \(name) 须为 \(allowed.joined(separator: "|")) must be one of \(allowed.joined(separator: ", ")), got \"\(text)\"")
            }
            guard text.count <= 200 else { return bad("参数 \(name) 过长 must be at most 200 characters") }
            return .success(.string(text))
        }
    }
}

/// Why a command's arguments were refused: the argument and a sentence (Chinese first).
public struct CommandArgumentError: Error, Sendable, Hashable, CustomStringConvertible {
    public var argument: String
    public var message: String

    public init(argument: String, message: String) {
        self.argument = argument
        self.message = message
    }

    public var description: String { message }
}

/// The state a command sets: the state metric the device reports and the value that confirms it
/// (for example `aerator_on` = 1 after `aerator_on`).
public struct CommandStateSpec: Sendable, Hashable, Codable {
    public var metric: String
    public var value: Double

    public init(metric: String, value: Double) {
        self.metric = metric
        self.value = value
    }

    /// Whether the command switches its actuator on (a non-zero state): what the interlocks
    /// count as a start.
    public var isOn: Bool { value != 0 }
}

/// What a command should do to the process it controls, checked after it is confirmed: the
/// metric must rise within the time (an aerator raises dissolved oxygen), else an alert says the
/// actuator runs without effect.
public struct CommandEffectSpec: Sendable, Hashable {
    public var metric: String
    /// Seconds after the confirmation by which the metric must be above its value then.
    public var risesWithin: Int
    /// The alert's title (增氧机运行中溶解氧仍下降).
    public var title: String

    public init(metric: String, risesWithin: Int, title: String) {
        self.metric = metric
        self.risesWithin = risesWithin
        self.title = title
    }
}

/// A command a device profile declares (`commands:` in `devices/*.yaml`).
///
/// Shennong sends only declared commands, with arguments checked against their types and
/// ranges (``validate(_:)``); the state metric, when given, confirms that the actuator did what
/// it was told (``CommandStateSpec``).
public struct CommandSpec: Sendable, Hashable {
    /// The command's name, sent as `name` (`[a-z0-9_]`).
    public var name: String
    /// What it does, Chinese first (开启增氧机 start the aerator).
    public var description: String
    /// Arguments in the order the profile lists them.
    public var args: [CommandArgumentSpec]
    /// The state metric and value that confirm the command, if any.
    public var state: CommandStateSpec?
    /// Seconds the device has to reply after the command was sent.
    public var replyWithin: Int
    /// Seconds the state metric has (from sending) to report ``state``'s value.
    public var confirmWithin: Int
    /// What the command should do to the process, if the profile says.
    public var effect: CommandEffectSpec?

    public init(
        name: String, description: String, args: [CommandArgumentSpec] = [], state: CommandStateSpec? = nil,
        replyWithin: Int = 60, confirmWithin: Int = 180
    ) {
        self.name = name
        self.description = description
        self.args = args
        self.state = state
        self.replyWithin = replyWithin
        self.confirmWithin = confirmWithin
    }

    /// `args` checked against the declared arguments: every value in its type and range, no
    /// undeclared argument, every required one present. Returns the values as their types.
    public func validate(_ args: [String: CommandValue]) throws(CommandArgumentError) -> [String: CommandValue] {
        var out: [String: CommandValue] = [:]
        let declared = Set(self.args.map(\.name))
        for key in args.keys.sorted() where !declared.contains(key) {
            let known = self.args.isEmpty ? "无参数 takes no arguments" : "known: \(self.args.map(\.name).joined(separator: ", "))"
            throw CommandArgumentError(argument: key, message: "命令 \(name) 没有参数 \(key) has no argument \(key) (\(known))")
        }
        for spec in self.args {
            guard let value = args[spec.name] else {
                if spec.required {
                    throw CommandArgumentError(argument: spec.name, message: "缺少参数 \(spec.name) missing argument \(spec.name)")
                }
                continue
            }
            switch spec.check(value) {
            case .success(let v): out[spec.name] = v
            case .failure(let e): throw e
            }
        }
        return out
    }
}
