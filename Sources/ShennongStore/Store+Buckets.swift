import ShennongCore
import Foundation
import GRDB

/// Bucket tables: creating them on demand, reopening compacted ones for late readings, and
/// reading points and rollup cells across buckets.
///
/// Invariant: for one series in one bucket, a reading is either in the raw table or in the
/// compacted block, never both, and a rollup cell is either live (`rollup_1m`, `rollup_1h`)
/// or packed (`m1_X`, `h1_X`), never both.
extension Store {
    static let bucketColumns = "start, until, stamp, has_raw, has_blocks, has_1m, has_1h"

    static func bucketInfo(_ row: Row) -> BucketInfo {
        BucketInfo(
            start: row[0], until: row[1], stamp: row[2], hasRaw: row[3], hasBlocks: row[4], hasMinute: row[5],
            hasHour: row[6])
    }

    static func bucket(start: Int64, in db: Database) throws -> BucketInfo? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(bucketColumns) FROM buckets WHERE start = ?"), arguments: [start]
        ).map(bucketInfo)
    }

    /// Buckets with any part in `[from, to)`, oldest first; with `withRawOnly`, those with raw
    /// readings (open, closed or reopened) only.
    static func buckets(overlapping from: Int64, _ to: Int64, withRawOnly: Bool = false, in db: Database) throws -> [BucketInfo] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT \(bucketColumns) FROM buckets WHERE start < ? AND until > ?\(withRawOnly ? " AND has_raw = 1" : "") ORDER BY start"),
            arguments: [to, from]
        ).map(bucketInfo)
    }

    /// Appends the raw readings of `series` in `bucket` with `from <= ts < to`, in time order.
    static func appendRawPoints(
        series: Int64, of bucket: BucketInfo, from: Int64, to: Int64, into points: inout [Point], in db: Database
    ) throws {
        let select = try db.cachedStatement(
            sql: "SELECT ts, value FROM \(bucket.rawTable) WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts")
        select.resetForBinding()
        try select.bind(1, series)
        try select.bind(2, from)
        try select.bind(3, to)
        try select.appendPoints(to: &points, in: db)
    }

    static func allBuckets(in db: Database) throws -> [BucketInfo] {
        try Row.fetchAll(db, sql: "SELECT \(bucketColumns) FROM buckets ORDER BY start").map(bucketInfo)
    }

    /// The bucket that holds `ts`, with its raw table created (and the bucket registered)
    /// if needed, inside the caller's write transaction.
    static func openBucket(for ts: Int64, layout: BucketLayout, in db: Database) throws -> BucketInfo {
        let start = layout.start(of: ts)
        var info = try bucket(start: start, in: db)
        if info?.hasRaw == true { return info! }
        let stamp = layout.stamp(of: start)
        try db.execute(sql: createRawSQL("raw_\(stamp)"))
        if info == nil {
            try db.execute(
                sql: "INSERT INTO buckets (start, until, stamp, has_raw) VALUES (?, ?, ?, 1)",
                arguments: [start, start + layout.width, stamp])
            info = BucketInfo(
                start: start, until: start + layout.width, stamp: stamp, hasRaw: true, hasBlocks: false,
                hasMinute: false, hasHour: false)
        } else {
            try db.execute(sql: "UPDATE buckets SET has_raw = 1 WHERE start = ?", arguments: [start])
            info!.hasRaw = true
        }
        return info!
    }

    static func createRawSQL(_ table: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(table) (
            series_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID
        """
    }

    /// The aggregate columns a block row and a rollup cell share (count, min, max, sum, first,
    /// last and the times of the first and last reading), each followed by a comma.
    static let aggregateColumnsSQL = """
        count INTEGER NOT NULL, "min" REAL NOT NULL, "max" REAL NOT NULL, "sum" REAL NOT NULL,
                    first REAL NOT NULL, last REAL NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
        """

    static func createBlockSQL(_ table: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(table) (
            series_id INTEGER PRIMARY KEY,
            \(aggregateColumnsSQL)
            data BLOB NOT NULL
        )
        """
    }

    static func createPackedSQL(_ table: String) -> String {
        "CREATE TABLE IF NOT EXISTS \(table) (series_id INTEGER PRIMARY KEY, cells INTEGER NOT NULL, data BLOB NOT NULL)"
    }

    static func createLiveRollupSQL(_ tier: StorageTier) -> String {
        """
        CREATE TABLE \(tier.liveTable) (
            series_id INTEGER NOT NULL,
            start INTEGER NOT NULL,
            \(aggregateColumnsSQL)
            PRIMARY KEY (series_id, start)
        ) WITHOUT ROWID
        """
    }

    /// Moves what is compacted of `series` in `bucket` back into live tables: the block's
    /// points into the raw table, packed cells into the live rollup tables. A late reading
    /// then inserts (or is a duplicate) exactly as in an open bucket.
    ///
    /// Cells of tiers computed from raw readings (``tierIsStored(_:ts:bucketWidth:rawHorizon:)``)
    /// are deleted, not moved: packed 1 m and 1 h cells, and the 1 d cells compaction wrote. The
    /// raw table now holds every reading of the series in the bucket, and answers for them.
    static func reopen(series: Int64, bucket: BucketInfo, rawHorizon: Int64, in db: Database) throws {
        if bucket.hasBlocks,
            let data = try Data.fetchOne(
                db.cachedStatement(sql: "SELECT data FROM \(bucket.blockTable) WHERE series_id = ?"), arguments: [series])
        {
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO \(bucket.rawTable) (series_id, ts, value) VALUES (?, ?, ?)")
            for p in try BlockCodec.decodePoints([UInt8](data)) {
                try insert.execute(arguments: [series, p.ts, p.value])
            }
            try db.execute(sql: "DELETE FROM \(bucket.blockTable) WHERE series_id = ?", arguments: [series])
        }
        let width = bucket.until - bucket.start
        if !tierIsStored(.day, ts: bucket.start, bucketWidth: width, rawHorizon: rawHorizon) {
            try deleteLiveCells(.day, series: series, of: bucket, in: db)
        }
        for tier in [StorageTier.minute, .hour] where bucket.hasPacked(tier) {
            let table = bucket.packedTable(tier)!
            if !tierIsStored(tier, ts: bucket.start, bucketWidth: width, rawHorizon: rawHorizon) {
                try db.execute(sql: "DELETE FROM \(table) WHERE series_id = ?", arguments: [series])
                continue
            }
            guard
                let data = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT data FROM \(table) WHERE series_id = ?"), arguments: [series])
            else { continue }
            let insert = try db.cachedStatement(sql: insertCellSQL(tier, orReplace: true))
            for cell in try BlockCodec.decodeCells([UInt8](data), origin: bucket.start, width: tier.width) {
                try insert.execute(arguments: cellArguments(series, cell))
            }
            try db.execute(sql: "DELETE FROM \(table) WHERE series_id = ?", arguments: [series])
        }
    }

    static func insertCellSQL(_ tier: StorageTier, orReplace: Bool) -> String {
        """
        INSERT \(orReplace ? "OR REPLACE " : "")INTO \(tier.liveTable)
            (series_id, start, count, "min", "max", "sum", first, last, first_ts, last_ts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    }

    /// Overwrites an existing cell in place (the cell's row is known to exist): one seek, no
    /// delete and insert as `INSERT OR REPLACE` does. Parameters as ``insertCellSQL(_:orReplace:)``.
    static func updateCellSQL(_ tier: StorageTier) -> String {
        """
        UPDATE \(tier.liveTable) SET count = ?3, "min" = ?4, "max" = ?5, "sum" = ?6, first = ?7, last = ?8,
            first_ts = ?9, last_ts = ?10
        WHERE series_id = ?1 AND start = ?2
        """
    }

    static func cellArguments(_ series: Int64, _ c: RollupCell) -> StatementArguments {
        [series, c.start, c.count, c.min, c.max, c.sum, c.first, c.last, c.firstTs, c.lastTs]
    }

    static let cellColumns = #"start, count, "min", "max", "sum", first, last, first_ts, last_ts"#

    static func cell(_ row: Row) -> RollupCell {
        RollupCell(
            start: row[0], count: row[1], min: row[2], max: row[3], sum: row[4], first: row[5], last: row[6],
            firstTs: row[7], lastTs: row[8])
    }

    // MARK: Reading across buckets

    /// Points of `series` with `from <= ts < to`, ascending, at most `limit`: compacted blocks
    /// decoded and merged with raw rows, bucket by bucket.
    static func points(
        series: Int64, from: Int64, to: Int64, limit: Int = .max, buckets known: [BucketInfo]? = nil, in db: Database
    ) throws -> [Point] {
        var result: [Point] = []
        guard from < to, limit > 0 else { return result }
        for bucket in try known ?? buckets(overlapping: from, to, in: db) where bucket.start < to && bucket.until > from {
            var compacted: [Point] = []
            if bucket.hasBlocks,
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT first_ts, last_ts, data FROM \(bucket.blockTable) WHERE series_id = ?"),
                    arguments: [series])
            {
                let firstTs: Int64 = row[0]
                let lastTs: Int64 = row[1]
                if firstTs < to && lastTs >= from {
                    let data: Data = row[2]
                    compacted = try BlockCodec.decodePoints([UInt8](data)).filter { $0.ts >= from && $0.ts < to }
                }
            }
            var raw: [Point] = []
            if bucket.hasRaw { try appendRawPoints(series: series, of: bucket, from: from, to: to, into: &raw, in: db) }
            Point.merge(compacted, raw, into: &result)
            if result.count >= limit {
                result.removeSubrange(limit...)
                break
            }
        }
        return result
    }

    /// Rollup cells of `series` in `tier` whose start is in `[from, to)`, ascending: live rows
    /// merged with packed cells of the buckets in range, and cells computed from raw readings.
    ///
    /// Cells of buckets whose raw readings are kept are computed from them (ingest does not
    /// store them: ``tierIsStored(_:ts:bucketWidth:rawHorizon:)``); they are what a stored cell
    /// would hold, bit for bit, since stored cells are exact aggregates of the same readings in
    /// timestamp order. They win over a live or packed cell of the same start (a live cell left
    /// by an older version, or by the compaction before a bucket was reopened, may have missed
    /// later readings). Cells that retention dropped (``horizon(_:in:)``) are not computed again.
    static func cells(series: Int64, tier: StorageTier, from: Int64, to: Int64, in db: Database) throws -> [RollupCell] {
        guard from < to else { return [] }
        var live: [RollupCell] = []
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT \(cellColumns) FROM \(tier.liveTable) WHERE series_id = ? AND start >= ? AND start < ? ORDER BY start"),
            arguments: [series, from, to])
        while let row = try rows.next() { live.append(cell(row)) }
        // 1 d cells are not packed: only buckets with raw readings matter (a year of 1 d cells
        // would otherwise list a year of buckets for each series).
        let inRange = tier.packedPrefix != nil ? try buckets(overlapping: from, to, in: db) : []
        let withRaw = tier.packedPrefix != nil ? inRange.filter(\.hasRaw) : try buckets(overlapping: from, to, withRawOnly: true, in: db)
        var computed: [RollupCell] = []
        let rawHorizon = withRaw.isEmpty ? .max : try rawHorizon(in: db)
        let horizon = withRaw.isEmpty ? .max : try horizon(tier, in: db)
        for bucket in withRaw
        where !tierIsStored(tier, ts: bucket.start, bucketWidth: bucket.until - bucket.start, rawHorizon: rawHorizon) {
            // Cells starting in [from, to) hold readings in [lo, hi) (buckets hold whole cells).
            let lo = from <= bucket.start ? bucket.start : -floorAlign(-from, tier.width)
            let hi = to >= bucket.until ? bucket.until : -floorAlign(-to, tier.width)
            guard lo < hi else { continue }
            var points: [Point] = []
            try appendRawPoints(series: series, of: bucket, from: lo, to: hi, into: &points, in: db)
            computed += RollupCell.cells(of: points, width: tier.width).filter { $0.start + tier.width > horizon }
        }
        var packed: [RollupCell] = []
        for bucket in inRange where bucket.hasPacked(tier) {
            guard
                let data = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT data FROM \(bucket.packedTable(tier)!) WHERE series_id = ?"),
                    arguments: [series])
            else { continue }
            packed += try BlockCodec.decodeCells([UInt8](data), origin: bucket.start, width: tier.width)
                .filter { $0.start >= from && $0.start < to }
        }
        // Disjoint by the invariant; on a shared start the live cell (newer) wins, and a cell
        // computed from raw readings wins over both.
        return RollupCell.merged(RollupCell.merged(packed, live), computed)
    }
}
