/// A topic or id template: `{device}` (this server's id), `{device_id}` (the id at the
/// upstream), `{area_code}`, `{domain}`, `{site}`; other text is kept as is.
///
/// Values are cleaned for MQTT topics: `/`, `+`, `#` and NUL become `_`, and a missing
/// domain or site is `-`, so a value can never add or widen a topic level.
public struct TopicTemplate: Sendable, Hashable {
    public var text: String

    public init(_ text: String) { self.text = text }

    public struct Values: Sendable, Hashable {
        public var device: String
        public var deviceID: String
        public var areaCode: String
        public var domain: String?
        public var site: String?

        public init(device: String, deviceID: String, areaCode: String, domain: String? = nil, site: String? = nil) {
            self.device = device
            self.deviceID = deviceID
            self.areaCode = areaCode
            self.domain = domain
            self.site = site
        }
    }

    /// The placeholders this build knows.
    public static let placeholders: Set<String> = ["device", "device_id", "area_code", "domain", "site"]

    /// Placeholders in the text that this build does not know (a configuration error).
    public var unknownPlaceholders: [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            if !Self.placeholders.contains(name) { out.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    public func render(_ values: Values) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                out += rest[open...]
                return out
            }
            let name = rest[rest.index(after: open)..<close]
            switch name {
            case "device": out += Self.clean(values.device)
            case "device_id": out += Self.clean(values.deviceID)
            case "area_code": out += Self.clean(values.areaCode)
            case "domain": out += Self.clean(values.domain ?? "-")
            case "site": out += Self.clean(values.site ?? "-")
            default: out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    static func clean(_ value: String) -> String {
        let cleaned = String(value.map { "/+#\u{0}".contains($0) ? "_" : $0 })
        return cleaned.isEmpty ? "-" : cleaned
    }
}
