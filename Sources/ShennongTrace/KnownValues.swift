import Foundation

/// A string enum whose decoding refuses an unknown value by naming it and the known ones
/// (`unknown stage orbit; use origin, environment, …`), so an API client reads what to send.
public protocol KnownValues: RawRepresentable, CaseIterable, Codable where RawValue == String {
    /// What a value is called in the refusal (`stage`, `kind`, `basis`).
    static var valueName: String { get }
}

extension KnownValues {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown \(Self.valueName) \(raw); use \(known)")
        }
        self = value
    }
}
