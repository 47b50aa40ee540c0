import Foundation
import ShennongAPI
import ShennongCore

/// How the CLI prints a listing: an aligned table for people, CSV for spreadsheets, JSON for scripts.
///
/// Rows are JSON objects (a typed answer seen through ``JSONValue/init(encoding:)``); columns
/// are their keys. JSON output has every key of every row, not only the columns. A table's
/// headers are in the CLI's language (``CLIStrings``); CSV headers are the keys.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table
    case csv
    case json

    /// `values` (the contract's types) as rows with `columns`.
    public func render<T: Encodable>(_ values: [T], columns: [String], strings: CLIStrings = .current) throws -> String {
        var rows: [JSONValue] = []
        for value in values { rows.append(try JSONValue(encoding: value)) }
        return render(rows, columns: columns, strings: strings)
    }

    /// Renders `rows` (JSON objects) with `columns` (keys) in this format; a table's headers
    /// and its empty row in the words of `strings`.
    public func render(_ rows: [JSONValue], columns: [String], strings: CLIStrings = .current) -> String {
        switch self {
        case .json:
            return Self.json(rows) + "\n"
        case .csv:
            var out = columns.map(Self.csvField).joined(separator: ",") + "\n"
            for row in rows {
                out += columns.map { Self.csvField(Self.text(row[$0])) }.joined(separator: ",") + "\n"
            }
            return out
        case .table:
            let cells = rows.map { row in columns.map { Self.text(row[$0]) } }
            let headers = columns.map(strings.header(for:))
            var widths = headers.map(Self.width)
            for line in cells {
                for (i, cell) in line.enumerated() { widths[i] = max(widths[i], Self.width(cell)) }
            }
            func line(_ values: [String]) -> String {
                values.enumerated().map { i, v in
                    i == values.count - 1 ? v : v + String(repeating: " ", count: widths[i] - Self.width(v))
                }.joined(separator: "  ") + "\n"
            }
            var out = line(headers)
            for cellLine in cells { out += line(cellLine) }
            if rows.isEmpty { out += strings.none + "\n" }
            return out
        }
    }

    /// A row of `pairs`, in this order.
    public static func row(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(JSONObject(pairs))
    }

    /// `value` as indented JSON with sorted keys (slashes unescaped).
    public static func json(_ value: some Encodable) -> String {
        let encoder = APICoding.makeEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    /// A JSON value as plain text: numbers without trailing `.0` noise, booleans as 1 and 0,
    /// null as empty, arrays comma-separated.
    public static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "1" : "0"
        case .number(let d)?: return number(d)
        case .array(let a)?: return a.map { text($0) }.joined(separator: ",")
        case .object(let o)?:
            let members = o.sorted { $0.key < $1.key }.map { member -> String in
                if case .string(let s) = member.value { return "\"\(member.key)\": \"\(s)\"" }
                return "\"\(member.key)\": \(text(member.value))"
            }
            return members.isEmpty ? "[:]" : "[" + members.joined(separator: ", ") + "]"
        }
    }

    static func number(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// A CSV field, quoted when it must be.
    public static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Display width: CJK characters take two columns.
    static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 && ($1.value <= 0x115F || (0x2E80...0xA4CF).contains($1.value) || (0xAC00...0xD7A3).contains($1.value) || (0xF900...0xFAFF).contains($1.value) || (0xFE30...0xFE4F).contains($1.value) || (0xFF00...0xFF60).contains($1.value) || (0xFFE0...0xFFE6).contains($1.value)) ? 2 : 1) }
    }
}
