import Foundation

/// A key of the configuration file as it is written (`templates_dir`), named where its field
/// is decoded: one line per field, no `CodingKeys` enum spelled again beside it.
struct ConfigKey: CodingKey, ExpressibleByStringLiteral, Sendable {
    let stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    init(stringLiteral value: String) { stringValue = value }
}

/// A section of the configuration file. Every key is optional: a missing one keeps the
/// field's default.
typealias ConfigSection = KeyedDecodingContainer<ConfigKey>

extension KeyedDecodingContainer where Key == ConfigKey {
    /// `value` from `key` when the section has it; the default stays otherwise.
    func update<T: Decodable>(_ value: inout T, _ key: ConfigKey) throws {
        if let decoded = try decodeIfPresent(T.self, forKey: key) { value = decoded }
    }

    /// `value` from the text at `key` when the section has it, read by `parse`; text that
    /// `parse` refuses (`nil`) is a configuration error saying `refusal(text)`.
    func update<T>(_ value: inout T, _ key: ConfigKey, parsing parse: (String) -> T?, refusal: (String) -> String) throws {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return }
        guard let parsed = parse(text) else { throw invalid(key, refusal(text)) }
        value = parsed
    }

    /// `value` from a duration at `key` (`500ms`, `30s`, `10m`, `12h`, `90d`: ms) when the
    /// section has one; text that is no duration, or one outside `range`, is refused with
    /// `refusal(text)`.
    func update(
        duration value: inout Int64, _ key: ConfigKey, in range: ClosedRange<Int64> = 1...Int64.max,
        refusal: (String) -> String
    ) throws {
        try update(&value, key, parsing: { ServerConfig.Storage.duration($0).flatMap { range.contains($0) ? $0 : nil } }, refusal: refusal)
    }

    /// `value` from the section at `key` when there is one, read into the default by `read`
    /// (for a value whose type is not `Decodable`: its owner's, not the configuration's).
    func update<T>(_ value: inout T, _ key: ConfigKey, section read: (ConfigSection, inout T) throws -> Void) throws {
        guard contains(key), try !decodeNil(forKey: key) else { return }
        try read(try nestedContainer(keyedBy: ConfigKey.self, forKey: key), &value)
    }

    /// `value` from the list of sections at `key` when there is one, each made by `make`.
    func update<T>(_ value: inout [T], _ key: ConfigKey, eachSection make: (ConfigSection) throws -> T) throws {
        guard contains(key), try !decodeNil(forKey: key) else { return }
        var list = try nestedUnkeyedContainer(forKey: key)
        var items: [T] = []
        while !list.isAtEnd { items.append(try make(try list.nestedContainer(keyedBy: ConfigKey.self))) }
        value = items
    }

    /// A configuration error at `key` unless `condition` holds; `description` says what the
    /// value must be.
    func require(_ condition: Bool, _ key: ConfigKey, _ description: @autoclosure () -> String) throws {
        guard condition else { throw invalid(key, description()) }
    }

    /// The configuration error of the value at `key`.
    func invalid(_ key: ConfigKey, _ description: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: description)
    }
}
