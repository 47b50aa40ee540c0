/// Timestamps on the wire, converted to milliseconds since the Unix epoch (UTC), and back.
///
/// Accepted forms:
/// - a number: epoch milliseconds when its magnitude is at least 10^11 (1973-03-03 in ms,
///   year 5138 in seconds), else epoch seconds; a fraction is allowed and rounded to the
///   nearest millisecond;
/// - a string holding such a number in JSON syntax (`"1763700000"`);
/// - an RFC 3339 string: `2025-11-21T06:40:00Z`, `2025-11-21T14:40:00.250+08:00`. A lowercase
///   `t`/`z` and a space instead of `T` are tolerated, as is an offset without its colon
///   (`+0800`). Seconds and a zone are required (a time without a zone is ambiguous).
///   Fractional seconds beyond milliseconds are truncated; a leap second `:60` counts as the
///   first second of the next minute.
///
/// Hand-written (days-from-civil arithmetic), no `DateFormatter`, no locale, no allocation
/// when parsing.
public enum Timestamp {
    /// Numbers at or above this magnitude are epoch milliseconds; below it, epoch seconds.
    public static let millisecondsThreshold: Double = 1e11

    /// Epoch milliseconds for a JSON timestamp value (number or string), or `nil`.
    public static func milliseconds(from value: JSONValue) -> Int64? {
        switch value {
        case .number(let d): milliseconds(fromEpoch: d)
        case .string(let s): milliseconds(from: s)
        default: nil
        }
    }

    /// Epoch milliseconds for a number that is epoch ms (≥ 10^11) or epoch seconds, or `nil`
    /// when it is not finite or does not fit an `Int64`.
    public static func milliseconds(fromEpoch value: Double) -> Int64? {
        guard value.isFinite else { return nil }
        let ms = (abs(value) >= millisecondsThreshold ? value : value * 1000).rounded()
        guard ms > -9.2e18, ms < 9.2e18 else { return nil }
        return Int64(ms)
    }

    /// Epoch milliseconds for a string: a JSON number (epoch ms or s) or RFC 3339; `nil` otherwise.
    public static func milliseconds(from text: String) -> Int64? {
        var text = text
        return text.withUTF8 { milliseconds(fromUTF8: UnsafeRawBufferPointer($0)) }
    }

    /// Epoch milliseconds for UTF-8 text: a JSON number (epoch ms or s) or RFC 3339; `nil` otherwise.
    public static func milliseconds(fromUTF8 bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let first = bytes.first else { return nil }
        if bytes.count < 19 || first == 0x2D || bytes.count > 40 || !(bytes.count > 4 && bytes[4] == 0x2D) {
            // Not shaped like a date (YYYY-…): a number or nothing.
            guard let d = JSONParser.parseNumber(bytes) else { return nil }
            return milliseconds(fromEpoch: d)
        }
        return parseRFC3339(bytes)
    }

    /// Epoch milliseconds for an RFC 3339 date-time, or `nil` when `text` is not one.
    public static func parseRFC3339(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseRFC3339(UnsafeRawBufferPointer($0)) }
    }

    /// Epoch milliseconds for an RFC 3339 date-time in UTF-8, or `nil`.
    public static func parseRFC3339(_ s: UnsafeRawBufferPointer) -> Int64? {
        let n = s.count
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= n else { return nil }
            var v = 0
            for k in 0..<count {
                let c = s[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += count
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < n, s[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2) else { return nil }
        guard i < n, s[i] == 0x54 || s[i] == 0x74 || s[i] == 0x20 else { return nil }  // T t space
        i += 1
        guard let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A), let second = digits(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var millis = 0
        if i < n, s[i] == 0x2E {  // .
            i += 1
            var count = 0
            while i < n, s[i] >= 0x30, s[i] <= 0x39 {
                if count < 3 { millis = millis * 10 + Int(s[i] - 0x30) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }
        guard i < n else { return nil }
        var offsetMinutes = 0
        switch s[i] {
        case 0x5A, 0x7A:  // Z z
            i += 1
        case 0x2B, 0x2D:  // + -
            let sign = s[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return nil }
            _ = expect(0x3A)
            guard let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    /// RFC 3339 in UTC with milliseconds, for example `2025-11-21T06:40:00.000Z`.
    public static func format(_ milliseconds: Int64) -> String {
        let (days, msOfDay) = floorDivMod(milliseconds, 86_400_000)
        let (year, month, day) = civilFromDays(days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let ms = msOfDay % 1000
        guard (0...9999).contains(year) else {
            // Outside four-digit years (never a sensor's): ISO 8601 expanded form.
            return "\(year < 0 ? "-" : "+")\(pad(abs(year), 6))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(ms, 3))Z"
        }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, _ width: Int, at position: Int) {
                var v = value
                for k in stride(from: position + width - 1, through: position, by: -1) {
                    buffer[k] = UInt8(0x30 + v % 10)
                    v /= 10
                }
            }
            put(year, 4, at: 0); buffer[4] = 0x2D
            put(month, 2, at: 5); buffer[7] = 0x2D
            put(day, 2, at: 8); buffer[10] = 0x54
            put(hour, 2, at: 11); buffer[13] = 0x3A
            put(minute, 2, at: 14); buffer[16] = 0x3A
            put(second, 2, at: 17); buffer[19] = 0x2E
            put(ms, 3, at: 20); buffer[23] = 0x5A
            return 24
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
    public static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
