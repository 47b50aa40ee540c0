import Yams

/// How one vendor field becomes a canonical metric: `canonical = vendor × scale + offset`.
public struct FieldMapping: Sendable, Hashable, Codable {
    /// The canonical metric name (``MetricCatalogue``).
    public var metric: String
    /// Multiplier from the vendor's unit to the metric's canonical unit; finite and non-zero.
    public var scale: Double
    /// Added after scaling, in the canonical unit (a calibration offset or a gauge datum).
    public var offset: Double
    /// The vendor's unit, for documentation; with SenML it also says which unit the scale
    /// and offset expect (a record in another unit is converted through the unit table).
    public var unit: String?

    public init(metric: String, scale: Double = 1, offset: Double = 0, unit: String? = nil) {
        self.metric = metric
        self.scale = scale
        self.offset = offset
        self.unit = unit
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metric = try c.decode(String.self, forKey: .metric)
        scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? 1
        offset = try c.decodeIfPresent(Double.self, forKey: .offset) ?? 0
        unit = try c.decodeIfPresent(String.self, forKey: .unit)
    }

    /// Whether the mapping changes the value at all.
    public var isIdentity: Bool { scale == 1 && offset == 0 }

    /// `raw × scale + offset`, with the binary floating-point noise of the arithmetic removed
    /// (see ``UnitConversion/tidy(_:)``), so that `1234 × 0.01` is `12.34`, not `12.340000000000002`.
    public func apply(_ raw: Double) -> Double {
        isIdentity ? raw : UnitConversion.tidy(raw * scale + offset)
    }
}

/// What a profile makes of one vendor field.
public enum FieldResolution: Sendable, Hashable {
    /// The profile maps the field to `metric` through `mapping`.
    case mapped(Metric, FieldMapping)
    /// The field is named as a canonical metric and the profile passes those through.
    case canonical(Metric)
    /// The profile drops the field silently.
    case ignored
    /// Neither mapped, canonical nor ignored: the field is rejected as `unknown_metric`.
    case unknown
}

/// How one family of sensors publishes: its vendor field names, units and calibration.
///
/// Profiles live in `devices/*.yaml` (one file per sensor family); the server reads the
/// files and passes their text to ``parse(yaml:sourceName:)``; this type does no I/O.
/// ``PayloadDecoder`` consults ``resolve(field:)`` for every field: the profile's mapping
/// first, then ``ignore``, then a canonical metric name when ``passThroughCanonical``.
public struct DeviceProfile: Sendable, Hashable {
    /// The profile's name, the file name without `.yaml` (for example `water-sonde`).
    public var name: String
    /// The domain of devices using this profile; `nil` (`any` in YAML) when each device's
    /// registration decides, as for ``generic``.
    public var domain: Domain?
    /// What the sensor is, with its Chinese name (for example 多参数水质仪).
    public var description: String
    /// The MQTT topic the sensor publishes on, for documentation (`agri/{device}/telemetry`).
    public var topic: String
    /// Seconds between two reports; silence rules fire after a multiple of it.
    public var expectedInterval: Int
    /// Vendor field name → canonical metric, scale and offset.
    public var fields: [String: FieldMapping] {
        didSet { resolved = Self.resolve(fields, ignore: ignore, passThroughCanonical: passThroughCanonical) }
    }
    /// Vendor fields dropped silently (sequence numbers, serial numbers, raw diagnostics).
    public var ignore: Set<String> {
        didSet { resolved = Self.resolve(fields, ignore: ignore, passThroughCanonical: passThroughCanonical) }
    }
    /// Whether a field already named as a canonical metric is accepted as is.
    public var passThroughCanonical: Bool {
        didSet { resolved = Self.resolve(fields, ignore: ignore, passThroughCanonical: passThroughCanonical) }
    }
    /// A payload as the sensor sends it, for documentation and tests.
    public var example: String?
    /// The canonical values ``example`` decodes to; a test holds the two together. For a
    /// gateway profile the keys are `child-device/metric`.
    public var exampleValues: [String: Double]
    /// Set for a gateway (DTU) or multi-depth profile: the message carries several devices.
    public var gateway: GatewayMapping?
    /// The commands the device accepts, by name (`commands:`; see ``CommandSpec``).
    public var commands: [String: CommandSpec] = [:]

    /// What ``resolve(field:)`` answers for every field it does not answer `.unknown`, worked
    /// out once for the decoder's hot path (one lookup a field).
    private var resolved: [String: FieldResolution]

    public init(
        name: String, domain: Domain?, description: String, topic: String = "agri/{device}/telemetry",
        expectedInterval: Int, fields: [String: FieldMapping] = [:], ignore: Set<String> = [],
        passThroughCanonical: Bool = true, example: String? = nil, exampleValues: [String: Double] = [:],
        gateway: GatewayMapping? = nil
    ) {
        self.gateway = gateway
        self.name = name
        self.domain = domain
        self.description = description
        self.topic = topic
        self.expectedInterval = expectedInterval
        self.fields = fields
        self.ignore = ignore
        self.passThroughCanonical = passThroughCanonical
        self.example = example
        self.exampleValues = exampleValues
        self.resolved = Self.resolve(fields, ignore: ignore, passThroughCanonical: passThroughCanonical)
    }

    private static func resolve(
        _ fields: [String: FieldMapping], ignore: Set<String>, passThroughCanonical: Bool
    ) -> [String: FieldResolution] {
        var out: [String: FieldResolution] = [:]
        // Weakest first: canonical names, then ignored fields, then mappings.
        if passThroughCanonical {
            for metric in MetricCatalogue.all { out[metric.name] = .canonical(metric) }
        }
        for field in ignore { out[field] = .ignored }
        for (key, mapping) in fields {
            if let metric = MetricCatalogue.metric(named: mapping.metric) {
                out[key] = .mapped(metric, mapping)
            }
        }
        return out
    }

    /// What this profile makes of the vendor field `field`.
    ///
    /// Order: a mapping in ``fields`` (to a metric that exists), then ``ignore``, then the
    /// canonical metric of that name when ``passThroughCanonical``, else ``FieldResolution/unknown``.
    public func resolve(field: String) -> FieldResolution {
        resolved[field] ?? .unknown
    }

    /// The canonical metric, scale and offset for `field`, or `nil` when it is ignored or unknown.
    public func map(field: String) -> (metric: Metric, scale: Double, offset: Double)? {
        switch resolve(field: field) {
        case .mapped(let metric, let mapping): (metric, mapping.scale, mapping.offset)
        case .canonical(let metric): (metric, 1, 0)
        case .ignored, .unknown: nil
        }
    }

    /// The profile for devices that publish canonical metric names only.
    ///
    /// No mappings, canonical names passed through, `seq` and `sn` ignored, a report every
    /// 300 s; the domain is left to each device's registration. `devices/generic.yaml` says the same.
    public static let generic = DeviceProfile(
        name: "generic", domain: nil,
        description: "通用设备 — any device that publishes canonical metric names (DESIGN.md) in canonical units",
        topic: "agri/{device}/telemetry", expectedInterval: 300, fields: [:], ignore: ["seq", "sn"],
        passThroughCanonical: true,
        example: #"{"ts": "2025-11-21T06:40:00Z", "values": {"dissolved_oxygen": 5.2, "ph": 7.1}}"#,
        exampleValues: ["dissolved_oxygen": 5.2, "ph": 7.1]
    )
}

/// Why a device profile could not be loaded: a code, the file and line, and a sentence.
public struct DeviceProfileError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The text is not valid YAML.
        case syntax
        /// The document is not a mapping, or a value has the wrong shape or type.
        case invalidValue = "invalid_value"
        /// A required key is missing.
        case missingKey = "missing_key"
        /// A key the profile format does not know (often a typo).
        case unknownKey = "unknown_key"
        /// A mapping names a metric that is not in the catalogue.
        case unknownMetric = "unknown_metric"
    }

    public var code: Code
    /// The file name the text came from, as given to ``DeviceProfile/parse(yaml:sourceName:)``.
    public var sourceName: String
    /// The 1-based line of the fault, where known.
    public var line: Int?
    /// The 1-based column of the fault, where known.
    public var column: Int?
    /// A sentence saying what is wrong, without the location.
    public var message: String

    public init(code: Code, sourceName: String, line: Int?, column: Int? = nil, message: String) {
        self.code = code
        self.sourceName = sourceName
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line: message`, or `file: message` when the line is unknown.
    public var description: String {
        if let line { return "\(sourceName):\(line): \(message)" }
        return "\(sourceName): \(message)"
    }
}

extension DeviceProfile {
    /// The keys a profile file may have.
    public static let yamlKeys: Set<String> = [
        "name", "domain", "description", "topic", "expected_interval", "fields", "ignore",
        "pass_through_canonical", "example", "example_values", "gateway", "commands",
    ]

    /// Parses and validates a profile from YAML text.
    ///
    /// Keys: `name`, `domain` (`water|soil|weather|fire|flood|any`), `description`, `topic`,
    /// `expected_interval` (seconds, > 0), `fields` (vendor field → `{metric, scale, offset, unit}`
    /// or just the metric name), `ignore` (list), `pass_through_canonical` (default `true`),
    /// `example` (payload text), `example_values` (metric → value). Unknown keys are errors,
    /// so that a typo does not silently drop a calibration. Every error names `sourceName`
    /// and, where the YAML parser gives one, the line.
    public static func parse(yaml: String, sourceName: String) throws(DeviceProfileError) -> DeviceProfile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.syntaxError(error, sourceName: sourceName)
        } catch {
            throw DeviceProfileError(code: .syntax, sourceName: sourceName, line: nil, message: "\(error)")
        }
        var reader = ProfileYAMLReader(sourceName: sourceName)
        return try reader.read(root)
    }

    private static func syntaxError(_ error: YamlError, sourceName: String) -> DeviceProfileError {
        func make(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> DeviceProfileError {
            let ctx = context.map { $0.text.isEmpty ? "" : "\($0.text) " } ?? ""
            return DeviceProfileError(code: .syntax, sourceName: sourceName, line: mark.line, column: mark.column,
                                      message: "invalid YAML: \(ctx)\(problem)")
        }
        switch error {
        case let .scanner(context, problem, mark, _): return make(context, problem, mark)
        case let .parser(context, problem, mark, _): return make(context, problem, mark)
        case let .composer(context, problem, mark, _): return make(context, problem, mark)
        case let .duplicatedKeysInMapping(duplicates, context):
            return DeviceProfileError(code: .syntax, sourceName: sourceName, line: context.mark.line,
                                      column: context.mark.column,
                                      message: "invalid YAML: duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))")
        case let .reader(problem, offset, _, yaml):
            var line: Int?
            if let offset {
                let prefix = yaml.prefix(offset)
                line = prefix.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            }
            return DeviceProfileError(code: .syntax, sourceName: sourceName, line: line, message: "invalid YAML: \(problem)")
        default:
            return DeviceProfileError(code: .syntax, sourceName: sourceName, line: nil, message: "invalid YAML: \(error)")
        }
    }
}

/// Walks the composed YAML tree, keeping line numbers for every error.
struct ProfileYAMLReader {
    let sourceName: String

    func fail(_ code: DeviceProfileError.Code, _ node: Node?, _ message: String) -> DeviceProfileError {
        DeviceProfileError(code: code, sourceName: sourceName, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    func scalar(_ node: Node, _ what: String) throws(DeviceProfileError) -> Node.Scalar {
        guard case .scalar(let s) = node else {
            throw fail(.invalidValue, node, "\(what) must be a single value, not a list or mapping")
        }
        return s
    }

    func isNull(_ s: Node.Scalar) -> Bool {
        s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    func string(_ node: Node, _ what: String) throws(DeviceProfileError) -> String {
        let s = try scalar(node, what)
        guard !isNull(s) else { throw fail(.invalidValue, node, "\(what) must not be empty") }
        return s.string
    }

    func optionalString(_ node: Node, _ what: String) throws(DeviceProfileError) -> String? {
        let s = try scalar(node, what)
        return isNull(s) ? nil : s.string
    }

    func number(_ node: Node, _ what: String) throws(DeviceProfileError) -> Double {
        let s = try scalar(node, what)
        let text = s.string.replacingUnderscores()
        guard s.style == .plain, let d = Double(text), d.isFinite else {
            throw fail(.invalidValue, node, "\(what) must be a finite number, got \"\(s.string)\"")
        }
        return d
    }

    func bool(_ node: Node, _ what: String) throws(DeviceProfileError) -> Bool {
        let s = try scalar(node, what)
        switch s.string {
        case "true", "True", "TRUE", "yes": return true
        case "false", "False", "FALSE", "no": return false
        default: throw fail(.invalidValue, node, "\(what) must be true or false, got \"\(s.string)\"")
        }
    }

    func mapping(_ node: Node, _ what: String) throws(DeviceProfileError) -> Node.Mapping {
        guard case .mapping(let m) = node else {
            throw fail(.invalidValue, node, "\(what) must be a mapping of key: value")
        }
        return m
    }

    func metric(_ node: Node, _ what: String) throws(DeviceProfileError) -> String {
        let name = try string(node, what)
        guard MetricCatalogue.metric(named: name) != nil else {
            throw fail(.unknownMetric, node, "\(what): \"\(name)\" is not a canonical metric (known: \(MetricCatalogue.all.map(\.name).joined(separator: ", ")))")
        }
        return name
    }

    mutating func read(_ root: Node?) throws(DeviceProfileError) -> DeviceProfile {
        guard let root else { throw fail(.invalidValue, nil, "the profile is empty") }
        let top = try mapping(root, "a device profile")
        var values: [String: Node] = [:]
        for (keyNode, value) in top {
            let key = try string(keyNode, "a key")
            guard DeviceProfile.yamlKeys.contains(key) else {
                throw fail(.unknownKey, keyNode, "unknown key \"\(key)\" (allowed: \(DeviceProfile.yamlKeys.sorted().joined(separator: ", ")))")
            }
            values[key] = value
        }
        func required(_ key: String) throws(DeviceProfileError) -> Node {
            guard let node = values[key] else { throw fail(.missingKey, root, "missing required key \"\(key)\"") }
            return node
        }

        let name = try string(try required("name"), "name")
        guard name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }) else {
            throw fail(.invalidValue, values["name"], "name \"\(name)\" must use only a-z, 0-9, '-' and '_'")
        }

        let domainNode = try required("domain")
        let domainText = try string(domainNode, "domain")
        let domain: Domain?
        if domainText == "any" {
            domain = nil
        } else if let d = Domain(rawValue: domainText), Domain.deviceDomains.contains(d) {
            domain = d
        } else {
            throw fail(.invalidValue, domainNode, "domain \"\(domainText)\" is not one of \(Domain.deviceDomains.map(\.rawValue).joined(separator: ", ")), any")
        }

        let description = try string(try required("description"), "description")
        var topic = "agri/{device}/telemetry"
        if let node = values["topic"] { topic = try string(node, "topic") }

        let intervalNode = try required("expected_interval")
        let interval = try number(intervalNode, "expected_interval")
        guard interval > 0, interval == interval.rounded(), interval <= 31_536_000 else {
            throw fail(.invalidValue, intervalNode, "expected_interval must be a whole number of seconds greater than 0, got \(JSONValue.format(interval))")
        }

        var fields: [String: FieldMapping] = [:]
        if let fieldsNode = values["fields"], !isNullNode(fieldsNode) {
            for (keyNode, value) in try mapping(fieldsNode, "fields") {
                let vendor = try string(keyNode, "a field name")
                fields[vendor] = try fieldMapping(value, vendor: vendor)
            }
        }

        var ignore: Set<String> = []
        if let ignoreNode = values["ignore"], !isNullNode(ignoreNode) {
            guard case .sequence(let seq) = ignoreNode else {
                throw fail(.invalidValue, ignoreNode, "ignore must be a list of field names")
            }
            for item in seq {
                let field = try string(item, "an ignored field")
                if fields[field] != nil {
                    throw fail(.invalidValue, item, "field \"\(field)\" is both mapped and ignored")
                }
                ignore.insert(field)
            }
        }

        var passThrough = true
        if let node = values["pass_through_canonical"] { passThrough = try bool(node, "pass_through_canonical") }
        var example: String?
        if let node = values["example"] { example = try optionalString(node, "example") }

        var gateway: GatewayMapping?
        if let node = values["gateway"], !isNullNode(node) {
            var g = GatewayMapping()
            for (keyNode, value) in try mapping(node, "gateway") {
                switch try string(keyNode, "a gateway key") {
                case "children": g.childrenKey = try string(value, "gateway.children")
                case "child_id":
                    g.childID = try string(value, "gateway.child_id")
                    guard g.childID.contains("{key}") else {
                        throw fail(.invalidValue, value, "gateway.child_id must contain {key}, got \"\(g.childID)\"")
                    }
                case "child_profile": g.childProfile = try string(value, "gateway.child_profile")
                case let other:
                    throw fail(.unknownKey, keyNode, "unknown key \"gateway.\(other)\" (allowed: children, child_id, child_profile)")
                }
            }
            gateway = g
        }

        var exampleValues: [String: Double] = [:]
        if let node = values["example_values"], !isNullNode(node) {
            for (keyNode, value) in try mapping(node, "example_values") {
                if gateway != nil {
                    // child-device/metric
                    let key = try string(keyNode, "example_values key")
                    let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                    guard parts.count == 2,
                        Device.isValidID(parts[0].replacingOccurrences(of: "{device}", with: "x")),
                        MetricCatalogue.metric(named: parts[1]) != nil
                    else {
                        throw fail(.invalidValue, keyNode, "a gateway's example_values keys are child-device/metric ({device} stands for the gateway's id), got \"\(key)\"")
                    }
                    exampleValues[key] = try number(value, "example_values.\(key)")
                } else {
                    let metric = try metric(keyNode, "example_values")
                    exampleValues[metric] = try number(value, "example_values.\(metric)")
                }
            }
        }
        if example == nil, !exampleValues.isEmpty {
            throw fail(.missingKey, values["example_values"], "example_values is given without an example")
        }

        var profile = DeviceProfile(
            name: name, domain: domain, description: description, topic: topic,
            expectedInterval: Int(interval), fields: fields, ignore: ignore,
            passThroughCanonical: passThrough, example: example, exampleValues: exampleValues, gateway: gateway
        )
        if let node = values["commands"], !isNullNode(node) {
            profile.commands = try commands(node)  // DeviceProfile+Commands.swift
        }
        return profile
    }

    func isNullNode(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return isNull(s) }
        return false
    }

    func fieldMapping(_ node: Node, vendor: String) throws(DeviceProfileError) -> FieldMapping {
        let what = "fields.\(vendor)"
        if case .scalar = node {
            return FieldMapping(metric: try metric(node, what))
        }
        let m = try mapping(node, what)
        var metricName: String?
        var mapping = FieldMapping(metric: "")
        for (keyNode, value) in m {
            let key = try string(keyNode, "a key")
            switch key {
            case "metric": metricName = try metric(value, "\(what).metric")
            case "scale":
                mapping.scale = try number(value, "\(what).scale")
                guard mapping.scale != 0 else { throw fail(.invalidValue, value, "\(what).scale must not be 0") }
            case "offset": mapping.offset = try number(value, "\(what).offset")
            case "unit": mapping.unit = try optionalString(value, "\(what).unit")
            default:
                throw fail(.unknownKey, keyNode, "unknown key \"\(key)\" in \(what) (allowed: metric, scale, offset, unit)")
            }
        }
        guard let metricName else { throw fail(.missingKey, node, "\(what) has no metric") }
        mapping.metric = metricName
        return mapping
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        contains("_") ? String(filter { $0 != "_" }) : self
    }
}
