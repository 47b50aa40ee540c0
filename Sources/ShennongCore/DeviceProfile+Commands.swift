import Yams

extension DeviceProfile {
    /// The commands sorted by name.
    public var commandList: [CommandSpec] { commands.values.sorted { $0.name < $1.name } }
}

/// `commands:` of a profile file:
///
/// ```yaml
/// commands:
///   aerator_on:
///     description: 开启增氧机 start the aerator
///     state: { metric: aerator_on, value: 1 }   # what confirms it
///     reply_within: 60                           # seconds (default 60)
///     confirm_within: 180                        # seconds from sending (default 180)
///   set_do_limits:
///     description: 设置溶氧上下限 set the controller's DO limits
///     args:
///       lower: { type: number, min: 0, max: 20, unit: mg/L }
///       upper: { type: number, min: 0, max: 20, unit: mg/L, required: false }
/// ```
extension ProfileYAMLReader {
    static let commandKeys = ["description", "args", "state", "reply_within", "confirm_within", "effect"]
    static let argumentKeys = ["type", "min", "max", "values", "required", "unit", "description"]

    func commands(_ node: Node) throws(DeviceProfileError) -> [String: CommandSpec] {
        var out: [String: CommandSpec] = [:]
        for (keyNode, value) in try mapping(node, "commands") {
            let name = try string(keyNode, "a command name")
            guard Self.isIdentifier(name) else {
                throw fail(.invalidValue, keyNode, "command name \"\(name)\" must use only a-z, 0-9 and '_' (1–64)")
            }
            out[name] = try command(name, value)
        }
        return out
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    func seconds(_ node: Node, _ what: String) throws(DeviceProfileError) -> Int {
        let n = try number(node, what)
        guard n > 0, n == n.rounded(), n <= 86_400 else {
            throw fail(.invalidValue, node, "\(what) must be a whole number of seconds from 1 to 86400")
        }
        return Int(n)
    }

    func command(_ name: String, _ node: Node) throws(DeviceProfileError) -> CommandSpec {
        let what = "commands.\(name)"
        var spec = CommandSpec(name: name, description: name)
        var described = false
        for (keyNode, value) in try mapping(node, what) {
            let key = try string(keyNode, "a key")
            switch key {
            case "description":
                spec.description = try string(value, "\(what).description")
                described = true
            case "reply_within": spec.replyWithin = try seconds(value, "\(what).reply_within")
            case "confirm_within": spec.confirmWithin = try seconds(value, "\(what).confirm_within")
            case "state":
                var metric: String?
                var stateValue: Double?
                for (k, v) in try mapping(value, "\(what).state") {
                    switch try string(k, "a key") {
                    case "metric": metric = try self.metric(v, "\(what).state.metric")
                    case "value": stateValue = try number(v, "\(what).state.value")
                    case let other:
                        throw fail(.unknownKey, k, "unknown key \"\(other)\" in \(what).state (allowed: metric, value)")
                    }
                }
                guard let metric, let stateValue else {
                    throw fail(.missingKey, value, "\(what).state needs metric and value")
                }
                spec.state = CommandStateSpec(metric: metric, value: stateValue)
            case "effect":
                var metric: String?
                var within: Int?
                var title: String?
                for (k, v) in try mapping(value, "\(what).effect") {
                    switch try string(k, "a key") {
                    case "metric": metric = try self.metric(v, "\(what).effect.metric")
                    case "rises_within": within = try seconds(v, "\(what).effect.rises_within")
                    case "title": title = try string(v, "\(what).effect.title")
                    case let other:
                        throw fail(.unknownKey, k, "unknown key \"\(other)\" in \(what).effect (allowed: metric, rises_within, title)")
                    }
                }
                guard let metric, let within else {
                    throw fail(.missingKey, value, "\(what).effect needs metric and rises_within")
                }
                spec.effect = CommandEffectSpec(
                    metric: metric, risesWithin: within,
                    title: title ?? "设备运行中\(MetricCatalogue.metric(named: metric)?.chineseName ?? metric)仍下降 \(metric) still falling")
            case "args":
                if isNullNode(value) { continue }
                for (argKey, argNode) in try mapping(value, "\(what).args") {
                    let argName = try string(argKey, "an argument name")
                    guard Self.isIdentifier(argName) else {
                        throw fail(.invalidValue, argKey, "argument name \"\(argName)\" must use only a-z, 0-9 and '_'")
                    }
                    spec.args.append(try argument(argName, argNode, "\(what).args.\(argName)"))
                }
            default:
                throw fail(.unknownKey, keyNode, "unknown key \"\(key)\" in \(what) (allowed: \(Self.commandKeys.joined(separator: ", ")))")
            }
        }
        guard described else { throw fail(.missingKey, node, "\(what) has no description") }
        return spec
    }

    func argument(_ name: String, _ node: Node, _ what: String) throws(DeviceProfileError) -> CommandArgumentSpec {
        var type: CommandArgumentType?
        var arg = CommandArgumentSpec(name: name, type: .string)
        for (keyNode, value) in try mapping(node, what) {
            let key = try string(keyNode, "a key")
            switch key {
            case "type":
                let text = try string(value, "\(what).type")
                guard let t = CommandArgumentType(rawValue: text) else {
                    throw fail(.invalidValue, value, "\(what).type must be one of \(CommandArgumentType.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
                }
                type = t
            case "min": arg.minimum = try number(value, "\(what).min")
            case "max": arg.maximum = try number(value, "\(what).max")
            case "required": arg.required = try bool(value, "\(what).required")
            case "unit": arg.unit = try optionalString(value, "\(what).unit")
            case "description": arg.description = try optionalString(value, "\(what).description")
            case "values":
                guard case .sequence(let seq) = value else { throw fail(.invalidValue, value, "\(what).values must be a list") }
                for item in seq { arg.allowed.append(try string(item, "\(what).values")) }
            default:
                throw fail(.unknownKey, keyNode, "unknown key \"\(key)\" in \(what) (allowed: \(Self.argumentKeys.joined(separator: ", ")))")
            }
        }
        guard let type else { throw fail(.missingKey, node, "\(what) has no type") }
        arg.type = type
        if let lo = arg.minimum, let hi = arg.maximum, lo > hi {
            throw fail(.invalidValue, node, "\(what): min \(JSONValue.format(lo)) is above max \(JSONValue.format(hi))")
        }
        if (arg.minimum != nil || arg.maximum != nil) && !(type == .number || type == .integer) {
            throw fail(.invalidValue, node, "\(what): min and max apply to number and integer arguments only")
        }
        if !arg.allowed.isEmpty && type != .string {
            throw fail(.invalidValue, node, "\(what): values applies to string arguments only")
        }
        return arg
    }
}
