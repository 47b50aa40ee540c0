import ShennongCore
import Crypto

/// An item code (一物一码): 13 random Crockford base32 symbols (65 bits from the system
/// CSPRNG) followed by 7 check symbols (35 bits of HMAC-SHA256 under the server's secret),
/// written in four groups of five for reading aloud: `XXXXX-XXXXX-XXXXX-XXXXX`.
///
/// The check symbols make a forged or mistyped code fail ``TraceCodec/isAuthentic(_:)``
/// without any database lookup: a random guess passes with probability 2⁻³⁵. The canonical
/// (stored) form is the 20 symbols without hyphens, upper case; it is also the GS1 serial
/// (AI 21, at most 20 characters).
public struct TraceCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Random symbols.
    public static let randomLength = 13
    /// HMAC check symbols.
    public static let checkLength = 7
    /// Symbols in a code.
    public static let length = randomLength + checkLength

    /// The 20 symbols, canonical (upper case, no hyphens).
    public let compact: String

    init(uncheckedCompact: String) { compact = uncheckedCompact }

    /// Grouped for reading aloud: `XXXXX-XXXXX-XXXXX-XXXXX`.
    public var grouped: String {
        var out = ""
        for (i, c) in compact.enumerated() {
            if i > 0 && i % 5 == 0 { out.append("-") }
            out.append(c)
        }
        return out
    }

    public var description: String { grouped }

    public static func < (a: TraceCode, b: TraceCode) -> Bool { a.compact < b.compact }

    /// The canonical symbols of `text` (hyphens and spaces dropped, case folded, I/L read as
    /// 1 and O as 0), or `nil` when it is not 20 Crockford symbols. Says nothing about
    /// authenticity: see ``TraceCodec/parse(_:)``.
    public static func normalize(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        for byte in text.utf8 {
            if byte == 0x2D || byte == 0x20 { continue }
            guard out.count < length, let v = Crockford.value(of: byte) else { return nil }
            out.append(Crockford.alphabet[Int(v)])
        }
        return out.count == length ? out : nil
    }
}

/// Makes and checks item codes under the server's secret.
///
/// The secret (32 random bytes in `trace.secret_file`) never leaves the server; losing it
/// makes every printed code fail the check, so back it up with the database.
public struct TraceCodec: Sendable {
    private let key: SymmetricKey

    /// A codec over `secret` (at least 16 bytes).
    public init(secret: [UInt8]) throws {
        guard secret.count >= 16 else {
            throw TraceError(.invalidArgument, "the trace secret must be at least 16 bytes, not \(secret.count)")
        }
        key = SymmetricKey(data: secret)
    }

    /// `count` new codes: random symbols from `SystemRandomNumberGenerator` (getrandom on
    /// Linux), check symbols from the HMAC. Codes within one call are distinct.
    public func generate(count: Int) -> [TraceCode] {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<String>(minimumCapacity: count)
        var codes: [TraceCode] = []
        codes.reserveCapacity(count)
        while codes.count < count {
            let high = generator.next() as UInt64
            let low = generator.next() as UInt8
            var bytes = withUnsafeBytes(of: high.bigEndian, Array.init)
            bytes.append(low)
            let random = Crockford.encode(bits: bytes, count: TraceCode.randomLength)
            let code = String(decoding: random + check(random), as: UTF8.self)
            if seen.insert(code).inserted { codes.append(TraceCode(uncheckedCompact: code)) }
        }
        return codes
    }

    /// The code in `text` if it is well formed and its check symbols match; `nil` for
    /// anything else (a forged, mistyped or foreign code). No database is involved.
    public func parse(_ text: some StringProtocol) -> TraceCode? {
        guard let symbols = TraceCode.normalize(text) else { return nil }
        let random = symbols[..<TraceCode.randomLength]
        let expected = check(Array(random))
        // Compare every symbol (no early exit) so the time does not tell how many matched.
        var difference: UInt8 = 0
        for (a, b) in zip(symbols[TraceCode.randomLength...], expected) { difference |= a ^ b }
        guard difference == 0 else { return nil }
        return TraceCode(uncheckedCompact: String(decoding: symbols, as: UTF8.self))
    }

    /// True when `text` is a well-formed code with matching check symbols.
    public func isAuthentic(_ text: some StringProtocol) -> Bool { parse(text) != nil }

    /// Check symbols of the random symbols: the first 35 bits of
    /// HMAC-SHA256(secret, "shennong-trace-v1:" + random).
    func check(_ random: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Self.domain)
        hmac.update(data: random)
        let mac = hmac.finalize()
        return mac.withUnsafeBytes { Crockford.encode(bits: $0.prefix(5), count: TraceCode.checkLength) }
    }

    private static let domain = Array("shennong-trace-v1:".utf8)
}
