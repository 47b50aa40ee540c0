import Foundation
import ShennongCore

/// Parses the time arguments of the API and CLI: `now`, a relative offset back from now
/// (`-90m`, `-6h`, `-7d`, `-30s`; the leading minus is optional), epoch seconds or
/// milliseconds, or RFC 3339.
public enum TimeExpression {
    /// Milliseconds since the epoch for `text`, or `nil` if it is none of the accepted forms.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return nil }
        if t == "now" { return now }
        if let span = duration(t.hasPrefix("-") ? String(t.dropFirst()) : t), !t.allSatisfy(\.isNumber) {
            return now - span
        }
        return Timestamp.milliseconds(from: t)
    }

    /// Milliseconds in a span like `90m`, `1h`, `1d`, `30s`, `500ms`, or `nil`.
    public static func duration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if let n = Int64(number), n > 0 { return n * scale }
        }
        return nil
    }
}
