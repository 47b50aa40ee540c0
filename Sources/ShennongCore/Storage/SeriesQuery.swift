/// The steps both engines take to answer ``ReadingQueries``' readings, aggregates and
/// rollups of a device: the engine hands over its series and reads their points and rollup
/// cells (its I/O); which series, which tier, which ranges and how they become answers is
/// decided here, once.
package enum SeriesQuery {
    /// The series of a device an engine reads: (series id, metric), ordered by metric.
    package typealias Series = [(Int64, String)]

    /// Readings of `device` in `[from, to)`, metric by metric, at most `limit`.
    /// `points(series, from, to, limit)` reads one series' points, ascending.
    package static func readings(
        device: String, from: Int64, to: Int64, limit: Int, series: () throws -> Series,
        points: (_ series: Int64, _ from: Int64, _ to: Int64, _ limit: Int) throws -> [Point]
    ) throws -> [Reading] {
        var result: [Reading] = []
        guard from < to else { return result }
        for (id, metric) in try series() {
            let remaining = limit - result.count
            guard remaining > 0 else { break }
            for p in try points(id, from, to, remaining) {
                result.append(Reading(device: device, metric: metric, timestamp: p.ts, value: p.value))
            }
        }
        return result
    }

    /// Aggregates of `device` over UTC-aligned intervals of `every` ms starting in
    /// `from..<to` (`from` rounded down), counting readings with `timestamp < to`.
    ///
    /// From the coarsest rollup tier (1 d, 1 h, 1 m) whose width divides `every`: whole cells
    /// come from `cells(series, tier, from, to)`, a partial last cell (when `to` is not on a
    /// cell boundary) from `points(series, from, to)`; with no such tier, from points alone.
    package static func aggregates(
        device: String, from: Int64, to: Int64, every: Int64, series: () throws -> Series,
        cells: (_ series: Int64, _ tier: StorageTier, _ from: Int64, _ to: Int64) throws -> [RollupCell],
        points: (_ series: Int64, _ from: Int64, _ to: Int64) throws -> [Point]
    ) throws -> [AggregatePoint] {
        guard every > 0 else { throw StoreError(.invalidArgument, "interval must be positive") }
        let start = floorAlign(from, every)
        let tier = StorageTier.rollups.last { every % $0.width == 0 }
        var result: [AggregatePoint] = []
        guard start < to else { return result }
        for (id, metric) in try series() {
            var found: [RollupCell]
            if let tier {
                let whole = max(floorAlign(to, tier.width), start)
                found = try cells(id, tier, start, whole)
                if whole < to {
                    found += RollupCell.cells(of: try points(id, whole, to), width: tier.width)
                }
            } else {
                found = RollupCell.cells(of: try points(id, start, to), width: every)
            }
            result += RollupCell.aggregates(found, every: every, device: device, metric: metric)
        }
        return result
    }

    /// The rollup cells of `device`'s `metric` in `tier` with start in `[from, to)`, as
    /// aggregates; none when the device has no such series.
    package static func rollups(
        device: String, metric: String, tier: StorageTier, series: () throws -> Series,
        cells: (_ series: Int64) throws -> [RollupCell]
    ) throws -> [AggregatePoint] {
        guard tier != .raw else { throw StoreError(.invalidArgument, "raw is not a rollup tier") }
        guard let id = try series().first?.0 else { return [] }
        return try cells(id).map { $0.aggregate(device: device, metric: metric) }
    }
}
