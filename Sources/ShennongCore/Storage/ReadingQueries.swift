import Foundation

/// The newest reading of a series, with what staff need beside it.
public struct LatestValue: Sendable, Hashable, Codable {
    public var device: String
    public var site: String?
    public var domain: Domain
    public var metric: String
    public var unit: String
    public var timestamp: Int64
    public var value: Double

    public init(device: String, site: String?, domain: Domain, metric: String, unit: String, timestamp: Int64, value: Double) {
        self.device = device
        self.site = site
        self.domain = domain
        self.metric = metric
        self.unit = unit
        self.timestamp = timestamp
        self.value = value
    }
}

/// One aggregate over an interval of a series.
public struct AggregatePoint: Sendable, Hashable, Codable {
    public var device: String
    public var metric: String
    /// Start of the interval, ms since the epoch (UTC-aligned).
    public var start: Int64
    public var count: Int
    public var min: Double
    public var max: Double
    public var sum: Double
    public var mean: Double { count > 0 ? sum / Double(count) : .nan }
    public var first: Double
    public var last: Double

    /// The interval `cell` covers, as an aggregate of `device` / `metric` (both engines answer
    /// from rollup cells merged to the interval asked).
    package init(device: String, metric: String, cell: RollupCell) {
        self.device = device
        self.metric = metric
        start = cell.start
        count = cell.count
        min = cell.min
        max = cell.max
        sum = cell.sum
        first = cell.first
        last = cell.last
    }
}



/// The door to stored readings for those who read them: the staff API and dashboard, the
/// rules (window rebuilds) and traceability (environment summaries).
///
/// Readings are idempotent on (device, metric, timestamp); times are epoch milliseconds and
/// ranges are half-open `[from, to)`. An engine answers from whatever it keeps (raw buckets,
/// compacted blocks, rollups): callers never see the layout.
public protocol ReadingQueries: Sendable {
    /// The newest reading of every series (by timestamp, not arrival), filtered by device,
    /// site and domain when given.
    func latest(device: String?, site: String?, domain: Domain?) throws -> [LatestValue]
    /// Readings of a device (one metric or all) in `[from, to)`, oldest first, at most `limit`.
    func readings(device: String, metric: String?, from: Int64, to: Int64, limit: Int) throws -> [Reading]
    /// Aggregates over UTC-aligned intervals of `every` ms in `[from, to)`, per series, oldest first.
    func aggregates(device: String, metric: String?, from: Int64, to: Int64, every: Int64) throws -> [AggregatePoint]
}

extension ReadingQueries {
    /// The newest reading of every series of a site or domain (or of all).
    public func latest(site: String? = nil, domain: Domain? = nil) throws -> [LatestValue] {
        try latest(device: nil, site: site, domain: domain)
    }

    /// The newest reading of every series of `device`.
    public func latest(device: String) throws -> [LatestValue] {
        try latest(device: device, site: nil, domain: nil)
    }

    /// Readings in `[from, to)`, at most 100,000.
    public func readings(device: String, metric: String? = nil, from: Int64, to: Int64) throws -> [Reading] {
        try readings(device: device, metric: metric, from: from, to: to, limit: 100_000)
    }

    /// Readings of every metric of `device` in `[from, to)`, at most `limit`.
    public func readings(device: String, from: Int64, to: Int64, limit: Int) throws -> [Reading] {
        try readings(device: device, metric: nil, from: from, to: to, limit: limit)
    }

    /// Aggregates of every metric of `device`.
    public func aggregates(device: String, from: Int64, to: Int64, every: Int64) throws -> [AggregatePoint] {
        try aggregates(device: device, metric: nil, from: from, to: to, every: every)
    }
}
