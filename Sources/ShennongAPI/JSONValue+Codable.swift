import ShennongCore

/// Any JSON value as the API's coders read and write it: the body of answers whose shape is
/// another standard's (EPCIS 2.0 JSON-LD), and the generic view the CLI's output formats take
/// of a typed answer.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: AnyKey.self) {
            self = .object(JSONObject(try c.allKeys.map { .init(key: $0.stringValue, value: try c.decode(JSONValue.self, forKey: $0)) }))
            return
        }
        if var c = try? decoder.unkeyedContainer() {
            var array: [JSONValue] = []
            while !c.isAtEnd { array.append(try c.decode(JSONValue.self)) }
            self = .array(array)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            var c = encoder.singleValueContainer()
            // Whole numbers as integers: epoch milliseconds stay 1763700000000.
            if n == n.rounded(), abs(n) < 9_007_199_254_740_992 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for value in a { try c.encode(value) }
        case .object(let o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for member in o { try c.encode(member.value, forKey: AnyKey(member.key)) }
        }
    }

    /// `value` as the API encodes it, viewed as a JSON tree.
    public init(encoding value: some Encodable) throws {
        self = try APICoding.decoder.decode(JSONValue.self, from: APICoding.encoder.encode(value))
    }

    /// The member `key` of an object; `nil` otherwise or when absent.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}
