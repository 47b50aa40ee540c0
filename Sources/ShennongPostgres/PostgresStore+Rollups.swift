import PostgresNIO
import ShennongCore

/// Rollups at 1 minute, 1 hour and 1 day, written in the ingest transaction.
///
/// Only readings actually inserted touch them. Per tier, the burst's readings are grouped by
/// cell; the cells they touch are read in one query, then in memory a cell is created, or
/// appended to (every new reading newer than its last), or — a reading before its last: out
/// of order, a backfill — merged and recomputed from its readings in timestamp order. So each
/// cell equals the aggregate of its raw readings exactly, its sum bit for bit, as on SQLite.
/// Cells older than the raw horizon (readings dropped by retention) stay merged. All cells
/// and the `latest` rows are then written in one statement.
extension PostgresStore {
    struct CellKey: Hashable {
        var tier: Int
        var series: Int64
        var start: Int64
    }

    /// Applies `rows` (inserted by this transaction, sorted by series then time) to the
    /// three rollup tiers and to `latest`.
    func applyRollups(_ rows: [Row], in s: PostgresSession) throws {
        guard !rows.isEmpty else { return }
        // The cells touched, per tier, with the range of `rows` that falls in each.
        var groups: [(key: CellKey, range: Range<Int>)] = []
        for (index, tier) in StorageTier.rollups.enumerated() {
            var i = 0
            while i < rows.count {
                let series = rows[i].series
                let start = floorAlign(rows[i].ts, tier.width)
                var j = i + 1
                while j < rows.count && rows[j].series == series && rows[j].ts < start + tier.width { j += 1 }
                groups.append((CellKey(tier: index, series: series, start: start), i..<j))
                i = j
            }
        }
        let existing = try existingCells(groups.map(\.key), in: s)
        var written: [[(series: Int64, cells: [RollupCell])]] = [[], [], []]
        var recompute: [(index: Int, key: CellKey)] = []
        for (key, range) in groups {
            let group = rows[range]
            var cell: RollupCell
            if var known = existing[key] {
                if group.first!.ts > known.lastTs {
                    for r in group { known.append(ts: r.ts, value: r.value) }
                } else {
                    for r in group { known.merge(ts: r.ts, value: r.value) }
                    recompute.append((written[key.tier].count, key))
                }
                cell = known
            } else {
                cell = RollupCell(start: key.start, ts: group.first!.ts, value: group.first!.value)
                for r in group.dropFirst() { cell.append(ts: r.ts, value: r.value) }
            }
            written[key.tier].append((key.series, [cell]))
        }
        if !recompute.isEmpty {
            let horizon =
                try s.query("SELECT value FROM store_meta WHERE key = 'raw_horizon'").first?.decode(Int64.self) ?? .min
            for (index, key) in recompute where key.start >= horizon {
                let tier = StorageTier.rollups[key.tier]
                let points = try points(series: key.series, from: key.start, to: key.start + tier.width, in: s)
                if let cell = RollupCell.cells(of: points, width: tier.width).first {
                    written[key.tier][index].cells = [cell]
                }
            }
        }
        // The newest inserted reading of each series, for `latest`.
        var latestSeries: [Int64] = []
        var latestTs: [Int64] = []
        var latestValue: [Double] = []
        for (i, r) in rows.enumerated() where i + 1 == rows.count || rows[i + 1].series != r.series {
            latestSeries.append(r.series)
            latestTs.append(r.ts)
            latestValue.append(r.value)
        }
        var binds = PostgresBindings(capacity: 33)
        for tier in 0..<3 { CellColumns(written[tier]).append(to: &binds) }
        binds.appendColumn(latestSeries)
        binds.appendColumn(latestTs)
        binds.appendColumn(latestValue)
        try s.query(
            """
            WITH m AS (\(Self.upsertCellsSQL(.minute, from: 1))),
                h AS (\(Self.upsertCellsSQL(.hour, from: 11))),
                d AS (\(Self.upsertCellsSQL(.day, from: 21)))
            INSERT INTO latest (series_id, ts, value) SELECT * FROM unnest($31::int8[], $32::int8[], $33::float8[])
            ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value WHERE excluded.ts > latest.ts
            """, binds)
    }

    /// The live cells among `keys` that exist, read in one query.
    private func existingCells(_ keys: [CellKey], in s: PostgresSession) throws -> [CellKey: RollupCell] {
        var binds = PostgresBindings(capacity: 6)
        for tier in 0..<3 {
            let ofTier = keys.filter { $0.tier == tier }
            binds.appendColumn(ofTier.map(\.series))
            binds.appendColumn(ofTier.map(\.start))
        }
        let selects = StorageTier.rollups.enumerated().map { index, tier in
            """
            SELECT \(index)::int8, c.series_id, c.start, c.count, c."min", c."max", c."sum", c.first, c.last, c.first_ts,
                c.last_ts
            FROM \(tier.liveTable) c
            JOIN unnest($\(2 * index + 1)::int8[], $\(2 * index + 2)::int8[]) AS k(series_id, start)
                ON c.series_id = k.series_id AND c.start = k.start
            """
        }
        var result: [CellKey: RollupCell] = [:]
        for row in try s.query(selects.joined(separator: "\nUNION ALL\n"), binds) {
            let r = row.makeRandomAccess()
            let key = CellKey(
                tier: Int(try r[0].decode(Int64.self)), series: try r[1].decode(Int64.self), start: try r[2].decode(Int64.self))
            result[key] = try Self.cell(row, from: 2)
        }
        return result
    }
}
