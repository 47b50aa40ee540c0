/// A JSON value as parsed by ``JSONParser``.
///
/// Objects keep their members in document order (``JSONObject``); numbers are always finite
/// `Double`s, because the parser refuses `NaN`, `Infinity` and numbers too large for a `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type name, for messages: `null`, `boolean`, `number`, `string`, `array`, `object`.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object: its members in document order.
///
/// Duplicate keys are kept as they appear (RFC 8259 leaves them to the receiver);
/// ``subscript(_:)`` returns the last one, as JavaScript does.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection {
    /// One `"key": value` member.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in document order.
    public var members: [Member]

    public init(_ members: [Member] = []) {
        self.members = members
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Member { members[position] }

    /// The value of the last member called `key`, or `nil` when there is none.
    public subscript(key: String) -> JSONValue? {
        var i = members.endIndex
        while i > members.startIndex {
            i -= 1
            if members[i].key == key { return members[i].value }
        }
        return nil
    }
}

/// Why ``JSONParser`` refused its input: a code, the byte offset of the fault and a sentence.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of fault.
    public enum Code: String, Sendable, Hashable {
        case unexpectedEnd = "unexpected_end"
        case unexpectedCharacter = "unexpected_character"
        case nonFiniteLiteral = "non_finite_literal"
        case invalidLiteral = "invalid_literal"
        case invalidNumber = "invalid_number"
        case numberOutOfRange = "number_out_of_range"
        case controlCharacter = "control_character"
        case invalidEscape = "invalid_escape"
        case invalidSurrogate = "invalid_surrogate"
        case invalidUTF8 = "invalid_utf8"
        case trailingComma = "trailing_comma"
        case tooDeep = "too_deep"
        case trailingData = "trailing_data"
    }

    public var code: Code
    /// The offset, in bytes from the start of the input, of the byte at fault.
    public var offset: Int
    /// A sentence saying what is wrong, without the offset.
    public var message: String

    public init(code: Code, offset: Int, message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    /// The message followed by the offset, for example `NaN is not valid JSON (byte 7)`.
    public var description: String { "\(message) (byte \(offset))" }
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Refuses `NaN`/`Infinity`, leading zeros, trailing commas, control characters and invalid
/// escapes in strings, invalid UTF-8 (including lone surrogates in `\u` escapes), numbers
/// that overflow a `Double`, nesting deeper than ``maximumDepth`` and anything after the
/// value but whitespace. A leading UTF-8 byte order mark is skipped, as RFC 8259 allows.
/// Strings without escapes are copied once, straight from the input bytes.
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted; `[[…]]` 64 deep parses, 65 does not.
    public static let maximumDepth = 64

    /// Parses one JSON text.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBytes { parseResult($0) }
        return try result.get()
    }

    /// Parses one JSON text from raw bytes (no copy; the bytes are read during the call only).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        try parseResult(bytes).get()
    }

    /// Parses one JSON text from a string's UTF-8.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONError> = text.withUTF8 { parseResult(UnsafeRawBufferPointer($0)) }
        return try result.get()
    }

    /// The value of `bytes` when the whole of them is one JSON number (no whitespace), else `nil`.
    ///
    /// Used for numeric strings such as `"5.2"` and `"1763700000"`.
    public static func parseNumber(_ bytes: UnsafeRawBufferPointer) -> Double? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        var reader = Reader(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        guard case .number(let value)? = try? reader.parseNumber(), reader.index == bytes.count else { return nil }
        return value
    }

    /// The value of `text` when the whole of it is one JSON number, else `nil`.
    public static func parseNumber(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parseNumber(UnsafeRawBufferPointer($0)) }
    }

    private static func parseResult(_ bytes: UnsafeRawBufferPointer) -> Result<JSONValue, JSONError> {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            return .failure(JSONError(code: .unexpectedEnd, offset: 0, message: "the input is empty"))
        }
        var reader = Reader(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        do throws(JSONError) {
            return .success(try reader.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

// MARK: - Reader

private let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, slash: UInt8 = 0x2F
private let minus: UInt8 = 0x2D, plus: UInt8 = 0x2B, dot: UInt8 = 0x2E, zero: UInt8 = 0x30, nine: UInt8 = 0x39
private let comma: UInt8 = 0x2C, colon: UInt8 = 0x3A
private let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D, openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D

/// Exact powers of ten representable as `Double` (10^0 … 10^22), for the fast number path.
let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private struct Reader {
    let base: UnsafePointer<UInt8>
    let count: Int
    var index = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always) func peek() -> UInt8? { index < count ? base[index] : nil }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        if count >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { index = 3 }
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index < count {
            throw error(.trailingData, "unexpected \(describeByte(at: index)) after the JSON value")
        }
        return value
    }

    @inline(__always) mutating func skipWhitespace() {
        while index < count {
            switch base[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func error(_ code: JSONError.Code, _ message: String, at offset: Int? = nil) -> JSONError {
        JSONError(code: code, offset: offset ?? index, message: message)
    }

    func describeByte(at offset: Int) -> String {
        guard offset < count else { return "end of input" }
        let b = base[offset]
        if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
        let hex = String(b, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard index < count else { throw error(.unexpectedEnd, "unexpected end of input, expected a value") }
        switch base[index] {
        case openBrace: return try parseObject(depth: depth + 1)
        case openBracket: return try parseArray(depth: depth + 1)
        case quote: return .string(try parseString())
        case minus, zero...nine: return try parseNumber()
        case 0x74: try expectLiteral("true"); return .bool(true)
        case 0x66: try expectLiteral("false"); return .bool(false)
        case 0x6E:
            if matches("nan") || matches("NaN") { throw nonFinite("NaN") }
            try expectLiteral("null"); return .null
        case 0x4E:
            throw matches("NaN") ? nonFinite("NaN") : error(.unexpectedCharacter, "unexpected \(describeByte(at: index)), expected a value")
        case 0x49:
            throw matches("Infinity") || matches("Inf") ? nonFinite("Infinity") : error(.unexpectedCharacter, "unexpected \(describeByte(at: index)), expected a value")
        default:
            throw error(.unexpectedCharacter, "unexpected \(describeByte(at: index)), expected a value")
        }
    }

    func nonFinite(_ word: String) -> JSONError {
        error(.nonFiniteLiteral, "\(word) is not valid JSON; JSON numbers must be finite")
    }

    func matches(_ literal: StaticString, at offset: Int? = nil) -> Bool {
        let start = offset ?? index
        let n = literal.utf8CodeUnitCount
        guard start + n <= count else { return false }
        let p = literal.utf8Start
        for k in 0..<n where base[start + k] != p[k] { return false }
        return true
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        guard matches(literal) else {
            throw error(.invalidLiteral, "invalid literal, expected \(literal)")
        }
        index += literal.utf8CodeUnitCount
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        if depth > JSONParser.maximumDepth {
            throw error(.tooDeep, "arrays and objects are nested deeper than \(JSONParser.maximumDepth) levels")
        }
        index += 1  // {
        var members: [JSONObject.Member] = []
        skipWhitespace()
        if peek() == closeBrace {
            index += 1
            return .object(JSONObject(members))
        }
        while true {
            skipWhitespace()
            guard let b = peek() else { throw error(.unexpectedEnd, "unexpected end of input inside an object") }
            guard b == quote else {
                if b == closeBrace, !members.isEmpty { throw error(.trailingComma, "trailing comma before '}'") }
                throw error(.unexpectedCharacter, "unexpected \(describeByte(at: index)), expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == colon else {
                throw error(index < count ? .unexpectedCharacter : .unexpectedEnd,
                            "unexpected \(describeByte(at: index)), expected ':' after the key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard let next = peek() else { throw error(.unexpectedEnd, "unexpected end of input inside an object") }
            if next == comma { index += 1; continue }
            if next == closeBrace { index += 1; return .object(JSONObject(members)) }
            throw error(.unexpectedCharacter, "unexpected \(describeByte(at: index)), expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        if depth > JSONParser.maximumDepth {
            throw error(.tooDeep, "arrays and objects are nested deeper than \(JSONParser.maximumDepth) levels")
        }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == closeBracket {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if peek() == closeBracket, !elements.isEmpty { throw error(.trailingComma, "trailing comma before ']'") }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let next = peek() else { throw error(.unexpectedEnd, "unexpected end of input inside an array") }
            if next == comma { index += 1; continue }
            if next == closeBracket { index += 1; return .array(elements) }
            throw error(.unexpectedCharacter, "unexpected \(describeByte(at: index)), expected ',' or ']'")
        }
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote. The fast path (no escapes) validates
    /// UTF-8 in place and copies the bytes once.
    mutating func parseString() throws(JSONError) -> String {
        let open = index
        index += 1
        let start = index
        while index < count {
            let b = base[index]
            if b == quote {
                let s = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
                index += 1
                return s
            }
            if b == backslash { return try parseEscapedString(from: start) }
            if b < 0x20 { throw controlCharacter(b) }
            if b < 0x80 { index += 1 } else { try skipUTF8Sequence() }
        }
        throw error(.unexpectedEnd, "unterminated string", at: open)
    }

    func controlCharacter(_ b: UInt8) -> JSONError {
        let hex = String(b, radix: 16, uppercase: true)
        return error(.controlCharacter, "control character U+00\(hex.count == 1 ? "0" + hex : hex) must be escaped in a string")
    }

    /// The slow path: copies what was scanned so far, then decodes escapes byte by byte.
    mutating func parseEscapedString(from start: Int) throws(JSONError) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(index - start + 16)
        buffer.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index - start))
        while index < count {
            let b = base[index]
            if b == quote {
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if b == backslash {
                let escapeStart = index
                index += 1
                guard index < count else { break }
                let e = base[index]
                index += 1
                switch e {
                case quote: buffer.append(quote)
                case backslash: buffer.append(backslash)
                case slash: buffer.append(slash)
                case 0x62: buffer.append(0x08)  // b
                case 0x66: buffer.append(0x0C)  // f
                case 0x6E: buffer.append(0x0A)  // n
                case 0x72: buffer.append(0x0D)  // r
                case 0x74: buffer.append(0x09)  // t
                case 0x75:  // u
                    var scalar = try parseHex4(escapeStart: escapeStart)
                    if scalar >= 0xD800 && scalar <= 0xDBFF {
                        guard matches("\\u") else {
                            throw error(.invalidSurrogate, "high surrogate \\u\(hex4(scalar)) is not followed by a low surrogate", at: escapeStart)
                        }
                        index += 2
                        let low = try parseHex4(escapeStart: index - 2)
                        guard low >= 0xDC00 && low <= 0xDFFF else {
                            throw error(.invalidSurrogate, "high surrogate \\u\(hex4(scalar)) is followed by \\u\(hex4(low)), not a low surrogate", at: escapeStart)
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                        throw error(.invalidSurrogate, "lone low surrogate \\u\(hex4(scalar))", at: escapeStart)
                    }
                    appendUTF8(scalar, to: &buffer)
                default:
                    throw error(.invalidEscape, "invalid escape sequence '\\\(describeEscape(e))' in a string", at: escapeStart)
                }
                continue
            }
            if b < 0x20 { throw controlCharacter(b) }
            if b < 0x80 {
                buffer.append(b)
                index += 1
            } else {
                let s = index
                try skipUTF8Sequence()
                buffer.append(contentsOf: UnsafeBufferPointer(start: base + s, count: index - s))
            }
        }
        throw error(.unexpectedEnd, "unterminated string", at: start - 1)
    }

    func describeEscape(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? String(Character(Unicode.Scalar(b))) : "0x" + String(b, radix: 16, uppercase: true)
    }

    func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    mutating func parseHex4(escapeStart: Int) throws(JSONError) -> UInt32 {
        guard index + 4 <= count else {
            throw error(.invalidEscape, "\\u escape needs four hexadecimal digits", at: escapeStart)
        }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[index + k]
            let d: UInt8
            switch c {
            case zero...nine: d = c - zero
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw error(.invalidEscape, "\\u escape needs four hexadecimal digits", at: escapeStart)
            }
            v = v << 4 | UInt32(d)
        }
        index += 4
        return v
    }

    func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | scalar >> 6))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | scalar >> 12))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        default:
            buffer.append(UInt8(0xF0 | scalar >> 18))
            buffer.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `index` (Unicode Table 3-7) and steps over it.
    mutating func skipUTF8Sequence() throws(JSONError) {
        let b0 = base[index]
        let length: Int
        var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw error(.invalidUTF8, "invalid UTF-8 byte 0x\(String(b0, radix: 16, uppercase: true)) in a string")
        }
        guard index + length <= count else {
            throw error(.invalidUTF8, "truncated UTF-8 sequence in a string")
        }
        let b1 = base[index + 1]
        guard b1 >= lower && b1 <= upper else {
            throw error(.invalidUTF8, "invalid UTF-8 sequence in a string")
        }
        for k in 2..<max(2, length) where base[index + k] & 0xC0 != 0x80 {
            throw error(.invalidUTF8, "invalid UTF-8 sequence in a string")
        }
        index += length
    }

    // MARK: Numbers

    /// Parses `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    ///
    /// Up to 19 significant digits with a small exponent are converted exactly with one
    /// multiplication or division by an exact power of ten (Clinger's fast path); anything
    /// else goes through the standard library's correctly rounded conversion.
    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = index
        var negative = false
        if base[index] == minus {
            negative = true
            index += 1
            if matches("Infinity") { throw nonFinite("-Infinity") }
        }
        guard index < count, base[index] >= zero, base[index] <= nine else {
            throw error(index < count ? .invalidNumber : .unexpectedEnd, "expected a digit after '-'")
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var exact = true
        if base[index] == zero {
            index += 1
            if index < count, base[index] >= zero, base[index] <= nine {
                throw error(.invalidNumber, "numbers must not have leading zeros", at: start)
            }
        } else {
            while index < count, base[index] >= zero, base[index] <= nine {
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(base[index] - zero)
                    significantDigits += 1
                } else {
                    exact = false
                }
                index += 1
            }
        }
        if index < count, base[index] == dot {
            index += 1
            guard index < count, base[index] >= zero, base[index] <= nine else {
                throw error(.invalidNumber, "expected a digit after the decimal point")
            }
            while index < count, base[index] >= zero, base[index] <= nine {
                let d = UInt64(base[index] - zero)
                if mantissa == 0 && d == 0 {
                    exponent -= 1  // leading zeros of a fraction are not significant
                } else if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ d
                    significantDigits += 1
                    exponent -= 1
                } else {
                    exact = false
                }
                index += 1
            }
        }
        if index < count, base[index] | 0x20 == 0x65 {  // e or E
            index += 1
            var expNegative = false
            if index < count, base[index] == minus || base[index] == plus {
                expNegative = base[index] == minus
                index += 1
            }
            guard index < count, base[index] >= zero, base[index] <= nine else {
                throw error(.invalidNumber, "expected a digit in the exponent")
            }
            var e = 0
            while index < count, base[index] >= zero, base[index] <= nine {
                if e < 100_000 { e = e * 10 + Int(base[index] - zero) }
                index += 1
            }
            exponent += expNegative ? -e : e
        }
        if mantissa == 0 && exact { return .number(negative ? -0.0 : 0.0) }
        if exact, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            value = exponent >= 0 ? value * exactPowersOfTen[exponent] : value / exactPowersOfTen[-exponent]
            return .number(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error(.numberOutOfRange, "number \(text.prefix(40)) is too large for a double", at: start)
        }
        return .number(value)
    }
}

// MARK: - Serialising

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text for this value; integral numbers are written without a fraction.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += JSONValue.format(d)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += "," }
                e.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, m) in object.members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(m.key, to: &out)
                out += ":"
                m.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// A number as JSON text: integral values below 10^15 without a fraction (`5`, not `5.0`),
    /// others in Swift's shortest round-tripping form.
    public static func format(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
            return d == 0 ? "0" : String(Int64(d))
        }
        return d.isFinite ? "\(d)" : "null"
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
