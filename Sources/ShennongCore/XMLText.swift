/// Text for XML documents Shennong writes (SVG charts and labels, CAP alerts).
public enum XMLText {
    /// Escapes `&`, `<`, `>`, `"` and `'` (safe in character data and in attribute values) and
    /// drops the characters XML 1.0 does not allow (controls other than tab and newline,
    /// U+FFFE, U+FFFF).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
