import GRDB
import GRDBSQLite
import ShennongCore

extension Store {
    /// Writes the readings of a burst that are newer than their series' newest stored one with
    /// multi-row INSERTs (up to ``maxRows`` a statement), bucket by bucket.
    ///
    /// Such a reading cannot meet a stored key (every stored reading of a series is at or
    /// before the series' `latest`), so the rows need no per-row duplicate check: each
    /// statement must insert all of its rows. One that inserts fewer throws
    /// ``NewestAppendConflict`` and the burst is written again row by row. A multi-row
    /// statement runs SQLite's statement start and end (cursor open, halt) once for many rows.
    struct NewestAppender {
        static let maxRows = 64

        /// Statement sizes: 1, 2, 4, …, 64 rows.
        static let sizes = 7

        /// The open bucket the pending rows go to, and its statements by size (log2 of rows).
        private var bucket: BucketInfo?
        private var statements: [Statement?] = []
        private var pending: [InsertedReading] = []

        /// Queues `row` for its bucket's raw table; `false` when its bucket holds compacted
        /// data (a reading there may have to reopen the series: ``insertReading``'s path).
        mutating func append(_ row: InsertedReading, layout: BucketLayout, state: inout IngestState, in db: Database) throws
            -> Bool
        {
            let start = layout.start(of: row.ts)
            if bucket?.start != start {
                try flush(state: &state, in: db)
                let info = try Store.openBucket(start: start, ts: row.ts, layout: layout, state: &state, in: db)
                guard !info.hasCompacted else { return false }
                bucket = info
                statements = state.appends[start] ?? Array(repeating: nil, count: Self.sizes)
            }
            pending.append(row)
            if pending.count == Self.maxRows { try flush(state: &state, in: db) }
            return true
        }

        /// Writes what is pending.
        mutating func flush(state: inout IngestState, in db: Database) throws {
            guard let bucket, !pending.isEmpty else { return }
            var i = 0
            while i < pending.count {
                let n = Self.rows(pending.count - i)
                let size = n.trailingZeroBitCount
                let insert: Statement
                if let known = statements[size] {
                    insert = known
                } else {
                    insert = try db.makeStatement(sql: Self.insertSQL(bucket.rawTable, rows: n))
                    statements[size] = insert
                    state.appends[bucket.start] = statements
                }
                try insert.bindRows(pending[i..<(i + n)])
                guard try insert.stepChanges(in: db) == n else { throw NewestAppendConflict() }
                i += n
            }
            pending.removeAll(keepingCapacity: true)
        }

        /// Rows of the next statement for `remaining` rows: 64, 32, …, 1, so that a bucket
        /// needs at most seven statements in the cache.
        static func rows(_ remaining: Int) -> Int {
            Swift.min(1 << (Int.bitWidth - 1 - remaining.leadingZeroBitCount), maxRows)
        }

        static func insertSQL(_ table: String, rows: Int) -> String {
            "INSERT OR IGNORE INTO \(table) (series_id, ts, value) VALUES "
                + repeatElement("(?, ?, ?)", count: rows).joined(separator: ", ")
        }
    }

    /// Moves `latest` forward for the series of a burst with multi-row upserts.
    struct LatestWriter {
        private var pending: [InsertedReading] = []

        /// Upsert statements by size (1, 2, 4, …, 64 rows).
        static let upsertSQLs = (0..<NewestAppender.sizes).map { upsertSQL(rows: 1 << $0) }

        /// Queues a series' newest reading; give them in series order.
        mutating func add(_ point: InsertedReading, in db: Database) throws {
            pending.append(point)
            if pending.count == NewestAppender.maxRows { try flush(in: db) }
        }

        mutating func flush(in db: Database) throws {
            var i = 0
            while i < pending.count {
                let n = NewestAppender.rows(pending.count - i)
                let upsert = try db.cachedStatement(sql: Self.upsertSQLs[n.trailingZeroBitCount])
                try upsert.bindRows(pending[i..<(i + n)])
                try upsert.stepOnce(in: db)
                i += n
            }
            pending.removeAll(keepingCapacity: true)
        }

        static func upsertSQL(rows: Int) -> String {
            "INSERT INTO latest (series_id, ts, value) VALUES "
                + repeatElement("(?, ?, ?)", count: rows).joined(separator: ", ")
                + " ON CONFLICT(series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value WHERE excluded.ts > latest.ts"
        }
    }
}

extension Statement {
    /// Resets, then binds `rows` as (series, ts, value) triples from parameter 1: the values
    /// of a multi-row statement over readings.
    func bindRows(_ rows: ArraySlice<Store.InsertedReading>) throws {
        resetForBinding()
        for (k, row) in rows.enumerated() {
            let p = Int32(3 * k)
            try bind(p + 1, row.series)
            try bind(p + 2, row.ts)
            try bind(p + 3, row.value)
        }
    }
}
