import GRDB
import ShennongCore

extension Store {
    /// The newest reading of every series, filtered by device, site and domain.
    ///
    /// "Newest" is by the reading's own timestamp, not by when it arrived: a backfilled
    /// older reading never replaces a newer one.
    public func latest(device: String? = nil, site: String? = nil, domain: Domain? = nil) throws -> [LatestValue] {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.device, d.site, d.domain, s.metric, l.ts, l.value
                    FROM latest l JOIN series s ON s.id = l.series_id JOIN devices d ON d.id = s.device
                    WHERE (?1 IS NULL OR s.device = ?1) AND (?2 IS NULL OR d.site = ?2) AND (?3 IS NULL OR d.domain = ?3)
                    ORDER BY s.device, s.metric
                    """,
                arguments: [device, site, domain?.rawValue])
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
    public func readings(device: String, metric: String? = nil, from: Int64, to: Int64, limit: Int = 100_000) throws
        -> [Reading]
    {
        try pool.read { db in
            var result: [Reading] = []
            for (series, name) in try seriesOf(device: device, metric: metric, in: db) {
                let remaining = limit - result.count
                guard remaining > 0 else { break }
                let cursor = try Row.fetchCursor(
                    db,
                    sql: "SELECT ts, value FROM readings WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?",
                    arguments: [series, from, to, remaining])
                while let row = try cursor.next() {
                    result.append(Reading(device: device, metric: name, timestamp: row[0], value: row[1]))
                }
            }
            return result
        }
    }

    /// Aggregates of `device` (one metric or all) over UTC-aligned intervals of `every`
    /// milliseconds, for intervals starting in `from..<to` (`from` is rounded down).
    public func aggregates(device: String, metric: String? = nil, from: Int64, to: Int64, every: Int64) throws
        -> [AggregatePoint]
    {
        guard every > 0 else { throw StoreError(.invalidArgument, "interval must be positive") }
        let start = from - ((from % every) + every) % every
        return try pool.read { db in
            var result: [AggregatePoint] = []
            for (series, name) in try seriesOf(device: device, metric: metric, in: db) {
                let cursor = try Row.fetchCursor(
                    db, sql: "SELECT ts, value FROM readings WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
                    arguments: [series, start, to])
                var current: AggregatePoint?
                while let row = try cursor.next() {
                    let ts: Int64 = row[0]
                    let value: Double = row[1]
                    let bucket = ts - ((ts % every) + every) % every
                    if var point = current, point.start == bucket {
                        point.count += 1
                        point.min = Swift.min(point.min, value)
                        point.max = Swift.max(point.max, value)
                        point.sum += value
                        point.last = value
                        current = point
                    } else {
                        if let point = current { result.append(point) }
                        current = AggregatePoint(
                            device: device, metric: name, start: bucket, count: 1, min: value, max: value, sum: value,
                            first: value, last: value)
                    }
                }
                if let point = current { result.append(point) }
            }
            return result
        }
    }

    private func seriesOf(device: String, metric: String?, in db: Database) throws -> [(Int64, String)] {
        try Row.fetchAll(
            db, sql: "SELECT id, metric FROM series WHERE device = ?1 AND (?2 IS NULL OR metric = ?2) ORDER BY metric",
            arguments: [device, metric]
        ).map { ($0[0], $0[1]) }
    }

    /// Counts for `shennong db stats`.
    public func stats() throws -> StoreStats {
        try pool.read { db in
            let pageCount = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return StoreStats(
                devices: try Int.fetchOne(db, sql: "SELECT count(*) FROM devices") ?? 0,
                series: try Int.fetchOne(db, sql: "SELECT count(*) FROM series") ?? 0,
                readings: try Int.fetchOne(db, sql: "SELECT count(*) FROM readings") ?? 0,
                rejects: try Int.fetchOne(db, sql: "SELECT count(*) FROM rejects") ?? 0,
                fileBytes: pageCount * pageSize)
        }
    }
}
