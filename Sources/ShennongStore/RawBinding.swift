import ShennongCore
import GRDB
import GRDBSQLite

/// SQLite copies a value bound with this destructor before the bind returns.
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// Binding and stepping a prepared statement through SQLite's C API, for the few statements
/// ingest runs once per reading or per series in a burst.
///
/// GRDB's `execute(arguments:)` boxes every value in an existential, builds an array of
/// arguments and runs its execution hooks; for a 3- or 10-integer INSERT that costs more than
/// SQLite's own work. These statements are INSERTs inside a transaction GRDB already opened
/// (no BEGIN/COMMIT of their own, so GRDB's transaction bookkeeping has nothing to see), and
/// the statement is reset after each step as GRDB would.
extension Statement {
    /// Resets the statement before binding: GRDB resets a statement before it runs it, not
    /// after, and SQLite refuses bindings on a statement that has not been reset.
    @inline(__always)
    func resetForBinding() {
        sqlite3_reset(sqliteStatement)
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int64) throws {
        let code = sqlite3_bind_int64(sqliteStatement, index, value)
        if code != SQLITE_OK { throw bindError(code, index) }
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Double) throws {
        let code = sqlite3_bind_double(sqliteStatement, index, value)
        if code != SQLITE_OK { throw bindError(code, index) }
    }

    /// Binds text (copied by SQLite).
    @inline(__always)
    func bind(_ index: Int32, _ value: String) throws {
        var value = value
        let code = value.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { text in
                guard let base = text.baseAddress else { return sqlite3_bind_text(sqliteStatement, index, "", 0, sqliteTransient) }
                return sqlite3_bind_text(sqliteStatement, index, base, Int32(text.count), sqliteTransient)
            }
        }
        if code != SQLITE_OK { throw bindError(code, index) }
    }

    private func bindError(_ code: Int32, _ index: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: "cannot bind parameter \(index): \(String(cString: sqlite3_errstr(code)))",
            sql: sql)
    }

    /// Steps a statement that returns no rows once, then resets it. Throws SQLite's error.
    func stepOnce(in db: Database) throws {
        let code = sqlite3_step(sqliteStatement)
        sqlite3_reset(sqliteStatement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
        }
    }

    /// Steps a statement that returns no rows once, resets it, and returns how many rows it
    /// changed (`sqlite3_changes`, without GRDB's queue check on every call).
    @inline(__always)
    func stepChanges(in db: Database) throws -> Int {
        try stepOnce(in: db)
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    /// Steps once and returns column 0 of the first row as an integer (`nil`: no row or NULL),
    /// then resets.
    func fetchInt64(in db: Database) throws -> Int64? {
        defer { sqlite3_reset(sqliteStatement) }
        guard try stepRow(in: db), sqlite3_column_type(sqliteStatement, 0) != SQLITE_NULL else { return nil }
        return sqlite3_column_int64(sqliteStatement, 0)
    }

    /// Steps once and reads the first row as a rollup cell (columns as ``Store/cellColumns``:
    /// start, count, min, max, sum, first, last, first_ts, last_ts), then resets.
    func fetchCell(in db: Database) throws -> RollupCell? {
        defer { sqlite3_reset(sqliteStatement) }
        guard try stepRow(in: db) else { return nil }
        let s = sqliteStatement
        return RollupCell(
            start: sqlite3_column_int64(s, 0), count: Int(sqlite3_column_int64(s, 1)), min: sqlite3_column_double(s, 2),
            max: sqlite3_column_double(s, 3), sum: sqlite3_column_double(s, 4), first: sqlite3_column_double(s, 5),
            last: sqlite3_column_double(s, 6), firstTs: sqlite3_column_int64(s, 7), lastTs: sqlite3_column_int64(s, 8))
    }

    /// Steps through every row, appending (column 0, column 1) as a point (ts, value), then resets.
    func appendPoints(to points: inout [Point], in db: Database) throws {
        defer { sqlite3_reset(sqliteStatement) }
        while try stepRow(in: db) {
            points.append(Point(ts: sqlite3_column_int64(sqliteStatement, 0), value: sqlite3_column_double(sqliteStatement, 1)))
        }
    }

    /// Steps once: `true` with a row to read, `false` when done; throws SQLite's error.
    @inline(__always)
    private func stepRow(in db: Database) throws -> Bool {
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
        }
    }

    /// Binds a rollup cell's ten columns (series, start, count, min, max, sum, first, last,
    /// first_ts, last_ts) and steps once; returns the rows changed.
    @discardableResult
    func writeCell(series: Int64, _ c: RollupCell, in db: Database) throws -> Int {
        resetForBinding()
        try bind(1, series)
        try bind(2, c.start)
        try bind(3, Int64(c.count))
        try bind(4, c.min)
        try bind(5, c.max)
        try bind(6, c.sum)
        try bind(7, c.first)
        try bind(8, c.last)
        try bind(9, c.firstTs)
        try bind(10, c.lastTs)
        return try stepChanges(in: db)
    }
}
