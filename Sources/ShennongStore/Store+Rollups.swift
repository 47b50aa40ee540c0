import ShennongCore
import GRDB

/// Rollups at 1 minute, 1 hour and 1 day.
///
/// While a bucket's raw readings are kept (until compaction), its cells are not stored: they
/// are computed from its readings when read (``cells(series:tier:from:to:in:)``), and packed
/// (1 m, 1 h) or written (1 d) from them at compaction. A burst then writes only readings and
/// `latest`, however many series it touches (it used to rewrite a 1 h and a 1 d cell of each),
/// and a late reading in an open bucket costs nothing more than its row. The exception: 1 d
/// cells of buckets narrower than a day span several buckets and are kept up to date inside
/// the ingest transaction, as is every tier of a bucket whose raw readings retention dropped.
///
/// Stored cells: only readings that were actually inserted (not duplicates) touch them. They
/// are applied per cell, in timestamp order: a cell newer than the series' newest stored
/// reading is inserted whole; readings newer than everything in an existing cell are appended
/// (count, min, max, sum in order, last); a reading that lands before a cell's last one — out
/// of order, or a backfill — is merged at once and the cell is recomputed from its readings in
/// timestamp order at the end of the transaction. So every cell, stored or computed, equals
/// the aggregate of its raw readings exactly, its sum bit for bit. Cells older than the raw
/// horizon (readings dropped by retention) cannot be recomputed and stay merged: count, min,
/// max, first and last exact, the sum up to floating-point order.
extension Store {
    struct CellKey: Hashable, Comparable {
        var tier: Int
        var series: Int64
        var start: Int64

        static func < (a: CellKey, b: CellKey) -> Bool {
            (a.tier, a.series, a.start) < (b.tier, b.series, b.start)
        }
    }

    struct SeriesBucket: Hashable {
        var series: Int64
        var bucket: Int64
    }

    /// A reading stored by this transaction, waiting for its rollups.
    struct InsertedReading {
        var series: Int64
        var ts: Int64
        var value: Double
    }

    /// What one ingest transaction knows: open buckets and their insert statements, series
    /// already reopened, readings inserted, cells to recompute.
    struct IngestState {
        init(bucketWidth: Int64) { self.bucketWidth = bucketWidth }

        var buckets: [Int64: BucketInfo] = [:]
        var inserts: [Int64: Statement] = [:]
        /// Per bucket, its multi-row inserts by size (``NewestAppender``).
        var appends: [Int64: [Statement?]] = [:]
        var reopened: Set<SeriesBucket> = []
        var recompute: Set<CellKey> = []
        /// Per rollup tier, its cell statements, prepared on first use in the transaction.
        private var cells: [(insertNew: Statement, update: Statement)?] = Array(repeating: nil, count: StorageTier.rollups.count)
        /// Readings before this time may have been dropped by retention (``rawHorizon(in:)``).
        var rawHorizon = Int64.min
        /// The width of the store's buckets (``tierIsStored(_:ts:bucketWidth:rawHorizon:)``).
        var bucketWidth: Int64

        /// The statements that insert a new cell (nothing when it exists) and overwrite an
        /// existing one, of rollup tier `index`.
        mutating func cellStatements(_ index: Int, in db: Database) throws -> (insertNew: Statement, update: Statement) {
            if let known = cells[index] { return known }
            let tier = StorageTier.rollups[index]
            let made = (
                insertNew: try db.cachedStatement(
                    sql: insertCellSQL(tier, orReplace: false) + " ON CONFLICT (series_id, start) DO NOTHING"),
                update: try db.cachedStatement(sql: updateCellSQL(tier))
            )
            cells[index] = made
            return made
        }
    }

    /// ``insertCellSQL(_:orReplace:)`` (replacing) of each rollup tier, by index.
    static let replaceCellSQLs = StorageTier.rollups.map { insertCellSQL($0, orReplace: true) }

    /// ``upsertCellSQL(_:)`` of each rollup tier, by index.
    static let upsertCellSQLs = StorageTier.rollups.map(upsertCellSQL)

    static func upsertCellSQL(_ tier: StorageTier) -> String {
        """
        INSERT INTO \(tier.liveTable) (series_id, start, count, "min", "max", "sum", first, last, first_ts, last_ts)
        VALUES (?1, ?2, 1, ?3, ?3, ?3, ?3, ?3, ?4, ?4)
        ON CONFLICT (series_id, start) DO UPDATE SET
            count = count + 1,
            "min" = min("min", excluded."min"),
            "max" = max("max", excluded."max"),
            "sum" = "sum" + excluded."sum",
            first = CASE WHEN excluded.first_ts < first_ts THEN excluded.first ELSE first END,
            first_ts = min(first_ts, excluded.first_ts),
            last = CASE WHEN excluded.last_ts > last_ts THEN excluded.last ELSE last END,
            last_ts = max(last_ts, excluded.last_ts)
        RETURNING \(cellColumns)
        """
    }

    /// Stores one reading in the raw table of its bucket (reopening the series' compacted
    /// part of the bucket first if need be). Returns whether it was inserted (false: a
    /// duplicate of a stored reading).
    static func insertReading(
        series: Int64, ts: Int64, value: Double, layout: BucketLayout, state: inout IngestState, in db: Database
    ) throws -> Bool {
        let start = layout.start(of: ts)
        let bucket = try openBucket(start: start, ts: ts, layout: layout, state: &state, in: db)
        if bucket.hasCompacted, state.reopened.insert(SeriesBucket(series: series, bucket: start)).inserted {
            try reopen(series: series, bucket: bucket, rawHorizon: state.rawHorizon, in: db)
        }
        let insert = state.inserts[start]!
        insert.resetForBinding()
        try insert.bind(1, series)
        try insert.bind(2, ts)
        try insert.bind(3, value)
        return try insert.stepChanges(in: db) == 1
    }

    /// The bucket of `ts` (starting at `start`), opened for raw readings once per transaction.
    static func openBucket(
        start: Int64, ts: Int64, layout: BucketLayout, state: inout IngestState, in db: Database
    ) throws -> BucketInfo {
        if let known = state.buckets[start] { return known }
        let bucket = try openBucket(for: ts, layout: layout, in: db)
        state.buckets[start] = bucket
        state.inserts[start] = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO \(bucket.rawTable) (series_id, ts, value) VALUES (?, ?, ?)")
        return bucket
    }

    /// Applies one series' readings inserted by this transaction (ascending time) to its
    /// rollup cells. Call before the series' `latest` moves: `entry.newest`, its newest stored
    /// reading before this transaction, tells which cells are new. Cells that out-of-order
    /// readings touched are queued in `state.recompute` for ``recomputeCells(_:in:)`` at the
    /// end of the transaction.
    ///
    /// `entry` (see ``IngestCache``) spares the reads: a cell it holds is appended to in
    /// memory and written once. It comes out describing the rows as this transaction leaves them.
    static func applyRollups(
        _ rows: ArraySlice<InsertedReading>, series: Int64, entry: inout IngestCache.SeriesEntry, state: inout IngestState,
        in db: Database
    ) throws {
        guard !rows.isEmpty else { return }
        let newest = entry.newest
        for (index, tier) in StorageTier.rollups.enumerated() {
            // Cells of buckets whose raw readings are kept are answered from them
            // (``cells(series:tier:from:to:in:)``): a burst would otherwise rewrite a cell of
            // each tier for every series it touches, and a series reporting once a minute
            // would pay a 1-minute cell for every reading. Only readings in buckets whose raw
            // readings retention dropped (older than the raw horizon), and 1-day cells that
            // span buckets, still add to live cells.
            guard tierIsStored(tier, ts: rows.first!.ts, bucketWidth: state.bucketWidth, rawHorizon: state.rawHorizon) else {
                continue
            }
            let tierRows = rows.prefix { tierIsStored(tier, ts: $0.ts, bucketWidth: state.bucketWidth, rawHorizon: state.rawHorizon) }
            let statements = try state.cellStatements(index, in: db)
            var i = tierRows.startIndex
            while i < tierRows.endIndex {
                let start = floorAlign(tierRows[i].ts, tier.width)
                var j = i + 1
                while j < tierRows.endIndex && tierRows[j].ts < start + tier.width { j += 1 }
                let group = tierRows[i..<j]
                i = j
                let key = CellKey(tier: index, series: series, start: start)
                // The cell as the cache knows it, and every reading newer than it: append.
                if var cell = entry[head: index], cell.start == start, group.first!.ts > cell.lastTs {
                    for r in group { cell.append(ts: r.ts, value: r.value) }
                    if try statements.update.writeCell(series: series, cell, in: db) == 1 {
                        entry[head: index] = cell
                        continue
                    }
                    // The row is gone after all: forget it and take the general path.
                    entry[head: index] = nil
                }
                // Newer than anything stored for the series: a new cell, in order.
                if newest.map({ start > floorAlign($0, tier.width) }) ?? true {
                    var cell = RollupCell(start: start, ts: group.first!.ts, value: group.first!.value)
                    for r in group.dropFirst() { cell.append(ts: r.ts, value: r.value) }
                    if try statements.insertNew.writeCell(series: series, cell, in: db) == 1 {
                        entry[head: index] = cell
                        continue
                    }
                }
                // Older than the series' newest reading (a gateway's buffer behind its live
                // values), in an earlier cell or in the newest one: recomputed from its readings
                // at the end of the transaction, nothing to read or write before that.
                if let n = newest, group.first!.ts < n, start >= state.rawHorizon {
                    state.recompute.insert(key)
                    if entry[head: index]?.start == start { entry[head: index] = nil }
                    continue
                }
                let written = try applyToExistingCell(group, key: key, tier: tier, state: &state, in: db)
                entry[head: index] = state.recompute.contains(key) ? nil : written
            }
        }
    }

    /// Adds readings (ascending, one cell) to a cell that may exist; returns the cell as
    /// written (before any recompute the cell is queued for).
    static func applyToExistingCell(
        _ group: ArraySlice<InsertedReading>, key: CellKey, tier: StorageTier, state: inout IngestState, in db: Database
    ) throws -> RollupCell? {
        if group.count == 1, let r = group.first {
            let upsert = try db.cachedStatement(sql: upsertCellSQLs[key.tier])
            upsert.resetForBinding()
            try upsert.bind(1, key.series)
            try upsert.bind(2, key.start)
            try upsert.bind(3, r.value)
            try upsert.bind(4, r.ts)
            let written = try upsert.fetchCell(in: db)
            if written?.lastTs != r.ts { state.recompute.insert(key) }
            return written
        }
        let select = try db.cachedStatement(
            sql: "SELECT \(cellColumns) FROM \(tier.liveTable) WHERE series_id = ? AND start = ?")
        select.resetForBinding()
        try select.bind(1, key.series)
        try select.bind(2, key.start)
        let existing = try select.fetchCell(in: db)
        let statements = try state.cellStatements(key.tier, in: db)
        if var known = existing {
            if group.first!.ts > known.lastTs {
                for r in group { known.append(ts: r.ts, value: r.value) }
            } else {
                for r in group { known.merge(ts: r.ts, value: r.value) }
                state.recompute.insert(key)
            }
            // The row exists (read just now, in this transaction): overwritten in place.
            try statements.update.writeCell(series: key.series, known, in: db)
            return known
        }
        var cell = RollupCell(start: key.start, ts: group.first!.ts, value: group.first!.value)
        for r in group.dropFirst() { cell.append(ts: r.ts, value: r.value) }
        try statements.insertNew.writeCell(series: key.series, cell, in: db)
        return cell
    }

    /// Recomputes, from their readings in timestamp order, the cells that out-of-order
    /// readings touched in this transaction.
    ///
    /// A series' cells are read together: one read of its points serves every cell that
    /// range covers (a late reading's hour and day), and the buckets are listed once for the
    /// whole burst, not once a cell.
    static func recomputeCells(_ keys: Set<CellKey>, in db: Database) throws {
        guard !keys.isEmpty else { return }
        let horizon = try rawHorizon(in: db)
        let live = keys.filter { $0.start >= horizon }
        guard let lo = live.lazy.map(\.start).min(),
            let hi = live.lazy.map({ $0.start + StorageTier.rollups[$0.tier].width }).max()
        else { return }
        let known = try buckets(overlapping: lo, hi, in: db)
        for (series, cells) in Dictionary(grouping: live, by: \.series).sorted(by: { $0.key < $1.key }) {
            // Ranges of the series' cells, earliest first (the widest of a start first), joined
            // where they overlap: a read each.
            let ranges = cells.map { (key: $0, end: $0.start + StorageTier.rollups[$0.tier].width) }
                .sorted { $0.key.start != $1.key.start ? $0.key.start < $1.key.start : $0.end > $1.end }
            var i = 0
            while i < ranges.count {
                var end = ranges[i].end
                var j = i + 1
                while j < ranges.count && ranges[j].key.start < end {
                    end = max(end, ranges[j].end)
                    j += 1
                }
                let points = try points(series: series, from: ranges[i].key.start, to: end, buckets: known, in: db)
                for (key, cellEnd) in ranges[i..<j] {
                    let first = points.partitioningIndex { $0.ts >= key.start }
                    let last = points[first...].partitioningIndex { $0.ts >= cellEnd }
                    let tier = StorageTier.rollups[key.tier]
                    guard let cell = RollupCell.cells(of: Array(points[first..<last]), width: tier.width).first else { continue }
                    try db.cachedStatement(sql: replaceCellSQLs[key.tier]).writeCell(series: series, cell, in: db)
                }
                i = j
            }
        }
    }

    /// Readings before this time may have been dropped by retention (raw tier).
    static func rawHorizon(in db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM store_meta WHERE key = 'raw_horizon'")) ?? Int64.min
    }

    /// The horizons of one compaction pass: raw (``rawHorizon(in:)``) and per rollup tier
    /// (``horizon(_:in:)``), read once.
    struct RollupHorizons {
        var raw: Int64
        private var tiers: [Int64]

        init(in db: Database) throws {
            raw = try rawHorizon(in: db)
            tiers = try StorageTier.rollups.map { try horizon($0, in: db) }
        }

        subscript(tier: StorageTier) -> Int64 {
            tiers[StorageTier.rollups.firstIndex(of: tier)!]
        }
    }

    /// Cells of `tier` ending at or before this time were dropped by retention: they are not
    /// computed again from raw readings retention kept longer.
    static func horizon(_ tier: StorageTier, in db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT value FROM store_meta WHERE key = ?"), arguments: [horizonKey(tier)]) ?? Int64.min
    }

    /// The `store_meta` key of ``horizon(_:in:)`` (`minute_horizon`, `1h_horizon`, `1d_horizon`).
    static func horizonKey(_ tier: StorageTier) -> String {
        tier == .minute ? "minute_horizon" : "\(tier.rawValue)_horizon"
    }

    /// Whether the cells of rollup `tier` at time `ts`, in buckets `bucketWidth` wide, are
    /// stored (live or packed) rather than computed from raw readings. They are computed while
    /// their bucket's raw readings are kept, wherever a bucket holds whole cells: every tier of
    /// buckets that are whole days, 1 m and 1 h of narrower ones. They are stored in buckets
    /// older than the raw horizon (whose raw readings retention dropped: the horizon is the end
    /// of such a bucket), and 1 d cells that span buckets narrower than a day are always stored.
    @inline(__always) static func tierIsStored(_ tier: StorageTier, ts: Int64, bucketWidth: Int64, rawHorizon: Int64) -> Bool {
        ts < rawHorizon || bucketWidth % tier.width != 0
    }
}
