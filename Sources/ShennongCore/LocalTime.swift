import Foundation

/// Local time as staff and CAP see it: RFC 3339 with a numeric offset (never `Z`).
public enum LocalTime {
    /// `2025-11-21T14:40:00+08:00`: whole seconds, the offset written out.
    public static func format(_ ms: Int64, offsetMinutes: Int = 480) -> String {
        let local = ms + Int64(offsetMinutes) * 60_000
        let (days, msOfDay) = Timestamp.floorDivMod(local, 86_400_000)
        let (y, m, d) = Timestamp.civilFromDays(days)
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60
        let sign = offsetMinutes < 0 ? "-" : "+"
        let off = abs(offsetMinutes)
        return "\(Timestamp.pad(y, 4))-\(Timestamp.pad(m, 2))-\(Timestamp.pad(d, 2))T\(Timestamp.pad(h, 2)):\(Timestamp.pad(mi, 2)):\(Timestamp.pad(s, 2))\(sign)\(Timestamp.pad(Int64(off / 60), 2)):\(Timestamp.pad(Int64(off % 60), 2))"
    }

    /// `2025-11-21T14:40:00.250+08:00`: to the millisecond (readings, receive times).
    public static func precise(_ ms: Int64, offsetMinutes: Int = 480) -> String {
        let text = format(ms, offsetMinutes: offsetMinutes)
        let fraction = Timestamp.floorDivMod(ms, 1000).1
        return String(text.prefix(19)) + "." + Timestamp.pad(fraction, 3) + String(text.dropFirst(19))
    }

    /// `20251121144000` (local), for CAP identifiers.
    public static func compact(_ ms: Int64, offsetMinutes: Int = 480) -> String {
        format(ms, offsetMinutes: offsetMinutes).prefix(19).filter(\.isNumber)
    }

    /// Minutes of a `+08:00` / `-05:30` offset, or `nil`.
    public static func offsetMinutes(_ text: String) -> Int? {
        let t = Array(text)
        guard t.count == 6, t[0] == "+" || t[0] == "-", t[3] == ":", let h = Int(String(t[1...2])), let m = Int(String(t[4...5])),
            h <= 14, m < 60
        else { return nil }
        return (t[0] == "-" ? -1 : 1) * (h * 60 + m)
    }
}
