import GRDB
import ShennongCore

/// A ShennongCore value kept as one row of a table, read and written through GRDB's Codable
/// records: its camelCase properties are the table's snake_case columns.
protocol StoredValue: Codable, Sendable {
    /// The table holding one row per value.
    static var tableName: String { get }
}

/// The GRDB record of a ``StoredValue`` (ShennongCore's values know nothing of GRDB).
struct CoreRecord<Value: StoredValue>: Codable, SnakeCaseColumns, FetchableRecord, PersistableRecord {
    var value: Value

    init(_ value: Value) { self.value = value }

    init(from decoder: any Decoder) throws { value = try Value(from: decoder) }

    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }

    static var databaseTableName: String { Value.tableName }
}

extension TraceRecordRow: StoredValue {
    static var tableName: String { "trace_records" }
}

extension TraceCodeRow: StoredValue {
    static var tableName: String { "trace_codes" }
}
