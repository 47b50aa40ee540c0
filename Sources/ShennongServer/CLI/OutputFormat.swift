import Foundation

/// How the CLI prints a listing: an aligned table for people, CSV for spreadsheets, JSON for scripts.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table
    case csv
    case json

    /// Renders `rows` (JSON objects) with `columns` (keys) in this format.
    public func render(_ rows: [[String: Any]], columns: [String]) -> String {
        switch self {
        case .json:
            let data = (try? JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        case .csv:
            var out = columns.map(Self.csvField).joined(separator: ",") + "\n"
            for row in rows {
                out += columns.map { Self.csvField(Self.text(row[$0])) }.joined(separator: ",") + "\n"
            }
            return out
        case .table:
            let cells = rows.map { row in columns.map { Self.text(row[$0]) } }
            var widths = columns.map(Self.width)
            for line in cells {
                for (i, cell) in line.enumerated() { widths[i] = max(widths[i], Self.width(cell)) }
            }
            func line(_ values: [String]) -> String {
                values.enumerated().map { i, v in
                    i == values.count - 1 ? v : v + String(repeating: " ", count: widths[i] - Self.width(v))
                }.joined(separator: "  ") + "\n"
            }
            var out = line(columns.map { $0.uppercased() })
            for cellLine in cells { out += line(cellLine) }
            if rows.isEmpty { out += "(none)\n" }
            return out
        }
    }

    /// A JSON value as plain text: numbers without trailing `.0` noise, null as empty.
    public static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return ""
        case let s as String: return s
        case let n as NSNumber:
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return "\(d)"
        case let a as [Any]: return a.map { text($0) }.joined(separator: ",")
        default: return "\(value!)"
        }
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Display width: CJK characters take two columns.
    static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 && ($1.value <= 0x115F || (0x2E80...0xA4CF).contains($1.value) || (0xAC00...0xD7A3).contains($1.value) || (0xF900...0xFAFF).contains($1.value) || (0xFE30...0xFE4F).contains($1.value) || (0xFF00...0xFF60).contains($1.value) || (0xFFE0...0xFFE6).contains($1.value)) ? 2 : 1) }
    }
}
