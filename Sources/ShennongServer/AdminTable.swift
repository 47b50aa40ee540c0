import ShennongCore

/// What an admin verb (``AdminCommands``) answers: rows (JSON objects, keys sorted) for the
/// CLI's table, CSV or JSON output, their columns, and whether all was well.
public struct AdminTable: Sendable {
    public var rows: [JSONValue]
    public var columns: [String]
    /// `false`: the verb found a fault it names in the rows (the CLI exits 1).
    public var ok: Bool
    /// Said instead of an empty table (CSV and JSON print the empty listing).
    public var whenEmpty: String?

    public init(_ rows: [JSONValue], columns: [String], ok: Bool = true, whenEmpty: String? = nil) {
        self.rows = rows
        self.columns = columns
        self.ok = ok
        self.whenEmpty = whenEmpty
    }

    /// `item`, `value` rows.
    public static func items(_ rows: [JSONValue], ok: Bool = true) -> AdminTable {
        AdminTable(rows, columns: ["item", "value"], ok: ok)
    }
}
