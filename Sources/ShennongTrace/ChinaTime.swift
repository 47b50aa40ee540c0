import Foundation
import ShennongCore

/// Dates as consumers in China read them: Beijing time (UTC+8, no daylight saving).
public enum ChinaTime {
    static let offset: Int64 = 8 * 3_600_000
    /// Times are shown within years 1–9999 of Beijing time: a stored time out there (written
    /// before the API checked dates) is shown at the edge instead of overflowing.
    static let shown: ClosedRange<Int64> = (-62_135_596_800_000 - offset)...(253_402_300_799_999 - offset)

    /// `2025年11月21日` or, with `time`, `2025年11月21日 12:40`.
    public static func format(_ ms: Int64, time: Bool = true) -> String {
        let local = ms.clamped(to: shown) + offset
        let days = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        let (y, m, d) = Timestamp.civilFromDays(days)
        let date = "\(y)年\(m)月\(d)日"
        guard time else { return date }
        let minutes = (local - days * 86_400_000) / 60_000
        return date + " " + two(minutes / 60) + ":" + two(minutes % 60)
    }

    /// `2025-11-21` (Beijing date), as GS1 and EPCIS dates want it.
    public static func isoDate(_ ms: Int64) -> String {
        let local = ms.clamped(to: shown) + offset
        let days = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        let (y, m, d) = Timestamp.civilFromDays(days)
        return "\(y)-\(two(m))-\(two(d))"
    }

    /// `YYMMDD` (Beijing date): GS1 AI 7007 / 11.
    public static func gs1Date(_ ms: Int64) -> String {
        String(isoDate(ms).replacingOccurrences(of: "-", with: "").dropFirst(2))
    }

    /// Milliseconds of `2025-03-01` (Beijing midnight), an RFC 3339 time, or epoch s/ms; `nil` otherwise.
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: "-")
        if t.count == 10, parts.count == 3, let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        {
            return Timestamp.daysFromCivil(year: y, month: m, day: d) * 86_400_000 - offset
        }
        return Timestamp.milliseconds(from: t)
    }

    static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// `138****1234`: a phone number as the public page shows it.
public func maskPhone(_ phone: String) -> String {
    let digits = phone.filter { $0.isASCII && $0.isNumber }
    guard digits.count >= 7 else { return "****" }
    return String(digits.prefix(3)) + "****" + String(digits.suffix(4))
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
