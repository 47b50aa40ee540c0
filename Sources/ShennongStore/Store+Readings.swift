import GRDB
import ShennongCore

extension Store {
    /// The newest reading of every series, filtered by device, site and domain.
    ///
    /// "Newest" is by the reading's own timestamp, not by when it arrived: a backfilled
    /// older reading never replaces a newer one.
    public func latest(device: String? = nil, site: String? = nil, domain: Domain? = nil) throws -> [LatestValue] {
        try pool.read { db in
            // Only the filters given, so that SQLite can use devices(id) or devices_site and
            // walk devices → series → latest (CROSS JOIN fixes that order).
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let device {
                conditions.append("d.id = ?")
                arguments += [device]
            }
            if let site {
                conditions.append("d.site = ?")
                arguments += [site]
            }
            if let domain {
                conditions.append("d.domain = ?")
                arguments += [domain.rawValue]
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.device, d.site, d.domain, s.metric, l.ts, l.value
                    FROM devices d CROSS JOIN series s ON s.device = d.id CROSS JOIN latest l ON l.series_id = s.id
                    \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    ORDER BY s.device, s.metric
                    """,
                arguments: arguments)
            return rows.map { row in
                let metric: String = row["metric"]
                let domain: String = row["domain"]
                return LatestValue(
                    device: row["device"], site: row["site"], domain: Domain(rawValue: domain) ?? .weather,
                    metric: metric, unit: MetricCatalogue.metric(named: metric)?.unit ?? "",
                    timestamp: row["ts"], value: row["value"])
            }
        }
    }

    /// Raw readings of `device` (one metric or all) with `from <= timestamp < to`, ordered by
    /// metric then time, at most `limit` of them.
    ///
    /// Spans buckets and decodes compacted blocks; the caller sees one sequence.
    public func readings(device: String, metric: String? = nil, from: Int64, to: Int64, limit: Int = 100_000) throws
        -> [Reading]
    {
        try pool.read { db in
            let buckets = try Self.buckets(overlapping: from, to, in: db)
            return try SeriesQuery.readings(
                device: device, from: from, to: to, limit: limit,
                series: { try seriesOf(device: device, metric: metric, in: db) }
            ) { series, from, to, limit in
                try Self.points(series: series, from: from, to: to, limit: limit, buckets: buckets, in: db)
            }
        }
    }

    /// Aggregates of `device` (one metric or all) over UTC-aligned intervals of `every`
    /// milliseconds, for intervals starting in `from..<to` (`from` is rounded down), counting
    /// readings with `timestamp < to`.
    ///
    /// Reads the coarsest rollup tier (1 d, 1 h, 1 m) whose width divides `every`, so whole
    /// intervals come from rollups and only a partial last cell (when `to` is not on a cell
    /// boundary) from raw readings; with no such tier (an `every` that is not whole minutes) it
    /// aggregates raw readings. Count, min, max, first and last are exact either way; a sum
    /// over several cells adds the cells' sums, which may differ from one pass over the raw
    /// readings in the last bits.
    public func aggregates(device: String, metric: String? = nil, from: Int64, to: Int64, every: Int64) throws
        -> [AggregatePoint]
    {
        try pool.read { db in
            try SeriesQuery.aggregates(
                device: device, from: from, to: to, every: every,
                series: { try seriesOf(device: device, metric: metric, in: db) },
                cells: { try Self.cells(series: $0, tier: $1, from: $2, to: $3, in: db) },
                points: { try Self.points(series: $0, from: $1, to: $2, in: db) })
        }
    }

    /// The rollup cells of one series in `tier` with start in `[from, to)`, as aggregates.
    ///
    /// For checks and tools: reads the tier as stored (live and packed cells), and 1-minute
    /// cells of buckets whose raw readings are kept computed from them (they are not stored
    /// until compaction packs them).
    public func rollups(device: String, metric: String, tier: StorageTier, from: Int64, to: Int64) throws
        -> [AggregatePoint]
    {
        try pool.read { db in
            try SeriesQuery.rollups(
                device: device, metric: metric, tier: tier, series: { try seriesOf(device: device, metric: metric, in: db) }
            ) { try Self.cells(series: $0, tier: tier, from: from, to: to, in: db) }
        }
    }

    private func seriesOf(device: String, metric: String?, in db: Database) throws -> SeriesQuery.Series {
        try Row.fetchAll(
            db, sql: "SELECT id, metric FROM series WHERE device = ?1 AND (?2 IS NULL OR metric = ?2) ORDER BY metric",
            arguments: [device, metric]
        ).map { ($0[0], $0[1]) }
    }

    /// Counts for `shennong db stats`.
    ///
    /// Counting raw rows reads every open bucket table: an admin query, not a hot path.
    public func stats() throws -> StoreStats {
        try pool.read { db in
            let pageCount = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            let freePages = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            var raw = 0
            var compacted = 0
            let buckets = try Self.allBuckets(in: db)
            for bucket in buckets {
                if bucket.hasRaw {
                    raw += try Self.rows(of: bucket.rawTable, .raw, in: db)
                }
                if bucket.hasBlocks {
                    compacted += try Self.rows(of: bucket.blockTable, .blocks, in: db)
                }
            }
            var stats = StoreStats(
                devices: try Int.fetchOne(db, sql: "SELECT count(*) FROM devices") ?? 0,
                series: try Int.fetchOne(db, sql: "SELECT count(*) FROM series") ?? 0,
                readings: raw + compacted,
                rejects: try Int.fetchOne(db, sql: "SELECT count(*) FROM rejects") ?? 0,
                fileBytes: pageCount * pageSize,
                buckets: buckets.count,
                rawReadings: raw,
                compactedReadings: compacted)
            stats.freeBytes = freePages * pageSize
            return stats
        }
    }
}
