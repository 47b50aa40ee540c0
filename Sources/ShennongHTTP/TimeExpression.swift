import Foundation
import ShennongCore

/// Parses the time arguments of the API and CLI: `now`, a relative offset back from now
/// (`-90m`, `-6h`, `-7d`, `-30s`; the leading minus is optional), epoch seconds or
/// milliseconds, or RFC 3339.
public enum TimeExpression {
    /// The times the API takes: years 1 to 9999 (so that spans between them cannot overflow).
    public static let range: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// Milliseconds since the epoch for `text`, or `nil` if it is none of the accepted forms
    /// or falls outside ``range``.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return nil }
        if t == "now" { return now }
        let parsed: Int64?
        if let span = duration(t.hasPrefix("-") ? String(t.dropFirst()) : t), !t.allSatisfy(\.isNumber) {
            let (back, overflow) = now.subtractingReportingOverflow(span)
            parsed = overflow ? nil : back
        } else {
            parsed = Timestamp.milliseconds(from: t)
        }
        return parsed.flatMap { range.contains($0) ? $0 : nil }
    }

    /// Milliseconds in a span like `90m`, `1h`, `1d`, `30s`, `500ms`, or `nil` (also when it
    /// does not fit an `Int64`).
    public static func duration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if let n = Int64(number), n > 0 {
                let (ms, overflow) = n.multipliedReportingOverflow(by: scale)
                return overflow ? nil : ms
            }
        }
        return nil
    }
}
