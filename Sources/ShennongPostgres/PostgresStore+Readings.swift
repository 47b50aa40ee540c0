import PostgresNIO
import ShennongCore

extension PostgresStore {
    /// The newest reading of every series (by its own timestamp, not by arrival), filtered by
    /// device, site and domain, ordered by device then metric (byte order, as on SQLite).
    public func latest(device: String? = nil, site: String? = nil, domain: Domain? = nil) throws -> [LatestValue] {
        try read { s in
            try s.query(
                """
                SELECT s.device, d.site, d.domain, s.metric, l.ts, l.value
                FROM devices d JOIN series s ON s.device = d.id JOIN latest l ON l.series_id = s.id
                WHERE ($1::text IS NULL OR d.id = $1) AND ($2::text IS NULL OR d.site = $2)
                    AND ($3::text IS NULL OR d.domain = $3)
                ORDER BY s.device COLLATE "C", s.metric COLLATE "C"
                """, bindings(device, site, domain?.rawValue)
            ).map { row in
                let (device, site, domain, metric, ts, value) = try row.decode(
                    (String, String?, String, String, Int64, Double).self)
                return LatestValue(
                    device: device, site: site, domain: Domain(rawValue: domain) ?? .weather, metric: metric,
                    unit: MetricCatalogue.metric(named: metric)?.unit ?? "", timestamp: ts, value: value)
            }
        }
    }

    /// Raw readings of `device` (one metric or all) with `from <= timestamp < to`, ordered by
    /// metric then time, at most `limit`; compacted blocks are decoded on the way.
    public func readings(device: String, metric: String? = nil, from: Int64, to: Int64, limit: Int = 100_000) throws
        -> [Reading]
    {
        try read { s in
            try SeriesQuery.readings(
                device: device, from: from, to: to, limit: limit,
                series: { try Self.seriesOf(device: device, metric: metric, in: s) }
            ) { series, from, to, limit in
                try points(series: series, from: from, to: to, limit: limit, in: s)
            }
        }
    }

    /// Aggregates over UTC-aligned intervals of `every` ms, from the coarsest rollup tier whose
    /// width divides `every` (a partial last cell from raw readings), as on SQLite.
    public func aggregates(device: String, metric: String? = nil, from: Int64, to: Int64, every: Int64) throws
        -> [AggregatePoint]
    {
        try read { s in
            try SeriesQuery.aggregates(
                device: device, from: from, to: to, every: every,
                series: { try Self.seriesOf(device: device, metric: metric, in: s) },
                cells: { try cells(series: $0, tier: $1, from: $2, to: $3, in: s) },
                points: { try points(series: $0, from: $1, to: $2, in: s) })
        }
    }

    /// The rollup cells of one series in `tier` with start in `[from, to)`, as stored (live
    /// and packed), never raw. For checks and tools.
    public func rollups(device: String, metric: String, tier: StorageTier, from: Int64, to: Int64) throws
        -> [AggregatePoint]
    {
        try read { s in
            try SeriesQuery.rollups(
                device: device, metric: metric, tier: tier,
                series: { try Self.seriesOf(device: device, metric: metric, in: s) }
            ) { try cells(series: $0, tier: tier, from: from, to: to, in: s) }
        }
    }

    static func seriesOf(device: String, metric: String?, in s: PostgresSession) throws -> SeriesQuery.Series {
        try s.query(
            """
            SELECT id, metric FROM series WHERE device = $1 AND ($2::text IS NULL OR metric = $2)
            ORDER BY metric COLLATE "C"
            """, bindings(device, metric)
        ).map { try $0.decode((Int64, String).self) }
    }

    /// Counts for `shennong db stats` (counts every raw row: an admin query).
    public func stats() throws -> StoreStats {
        try read { s in
            let row = try s.query(
                """
                SELECT (SELECT count(*) FROM devices)::int8, (SELECT count(*) FROM series)::int8,
                    (SELECT count(*) FROM rejects)::int8, (SELECT count(*) FROM raw)::int8,
                    (SELECT coalesce(sum(count), 0) FROM blk)::int8, (SELECT count(*) FROM buckets)::int8,
                    pg_database_size(current_database())::int8
                """
            ).first!
            let (devices, series, rejects, raw, compacted, buckets, bytes) = try row.decode(
                (Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
            return StoreStats(
                devices: Int(devices), series: Int(series), readings: Int(raw + compacted), rejects: Int(rejects),
                fileBytes: bytes, buckets: Int(buckets), rawReadings: Int(raw), compactedReadings: Int(compacted))
        }
    }
}
