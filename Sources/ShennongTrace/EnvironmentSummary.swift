import ShennongCore

/// One warning raised on a plot's device during the growing period and how it was closed
/// (闭环), as the warnings module reports it.
public struct WarningRecord: Sendable, Hashable, Codable {
    /// blue, yellow, orange, red.
    public var level: String
    /// The rule's id.
    public var rule: String
    /// The rule's name for consumers (Chinese: 森林火险等级), when known; pages show it
    /// instead of the id. Absent from summaries frozen before it was recorded.
    public var ruleName: String?
    public var device: String
    public var raisedAt: Int64
    public var closedAt: Int64?
    public var closedBy: String?
    public var note: String?

    public init(
        level: String, rule: String, ruleName: String? = nil, device: String, raisedAt: Int64, closedAt: Int64? = nil,
        closedBy: String? = nil, note: String? = nil
    ) {
        self.level = level
        self.rule = rule
        self.ruleName = ruleName
        self.device = device
        self.raisedAt = raisedAt
        self.closedAt = closedAt
        self.closedBy = closedBy
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case level, rule, device, note
        case ruleName = "rule_name"
        case raisedAt = "raised_at"
        case closedAt = "closed_at"
        case closedBy = "closed_by"
    }
}

/// Where the environment summary gets the warnings of a plot's devices over a period.
///
/// The warnings module provides it; ``NoWarningHistory`` answers "none" until it is wired.
public protocol WarningHistory: Sendable {
    /// Warnings of `devices` raised in `from..<to` (ms), oldest first.
    func warnings(devices: [String], from: Int64, to: Int64) throws -> [WarningRecord]
}

/// A ``WarningHistory`` with no warnings (the alerts store is not connected).
public struct NoWarningHistory: WarningHistory {
    public init() {}
    public func warnings(devices: [String], from: Int64, to: Int64) throws -> [WarningRecord] { [] }
}

/// The production environment of a batch, from its plot's devices between planting and
/// harvest; frozen into the batch's chain at harvest.
///
/// Means are over all readings of the metric on the plot's devices; rainfall is the total of
/// each rain gauge averaged over gauges; ranges are min–max. The share at GB 3838 class III
/// or better is time-weighted per water device (each DO reading holds until the next one, at
/// most ``maxHold`` ms) with pH 6–9 and, where the device reports them, COD_Mn ≤ 6,
/// ammonia nitrogen ≤ 1.0 and total phosphorus ≤ 0.2 mg/L (rivers) at their latest value.
public struct EnvironmentSummary: Sendable, Hashable, Codable {
    /// A reading counted by device and metric.
    public struct Range: Sendable, Hashable, Codable {
        public var min: Double
        public var max: Double
    }

    public var from: Int64
    public var to: Int64
    public var devices: [String]
    public var readings: Int
    public var soilMoistureMean: Double?
    public var soilTempMean: Double?
    public var airTempMean: Double?
    public var rainfallTotal: Double?
    public var dissolvedOxygen: Range?
    public var ph: Range?
    /// 0…1, time at GB 3838 class III or better over time with DO readings.
    public var classThreeShare: Double?
    public var warnings: [WarningRecord]

    enum CodingKeys: String, CodingKey {
        case from, to, devices, readings, ph, warnings
        case soilMoistureMean = "soil_moisture_mean"
        case soilTempMean = "soil_temp_mean"
        case airTempMean = "air_temp_mean"
        case rainfallTotal = "rainfall_total"
        case dissolvedOxygen = "dissolved_oxygen"
        case classThreeShare = "class_three_share"
    }

    /// A DO reading holds at most this long (1 h) when weighting time.
    public static let maxHold: Int64 = 3_600_000

    /// Summarises `readings` (of the plot's devices, in `from..<to`).
    public static func compute(
        devices: [String], from: Int64, to: Int64, readings: [Reading], warnings: [WarningRecord]
    ) -> EnvironmentSummary {
        var byMetric: [String: [Reading]] = [:]
        for r in readings where r.timestamp >= from && r.timestamp < to { byMetric[r.metric, default: []].append(r) }
        func mean(_ metric: String) -> Double? {
            guard let rs = byMetric[metric], !rs.isEmpty else { return nil }
            return round(rs.reduce(0) { $0 + $1.value } / Double(rs.count), metric)
        }
        func range(_ metric: String) -> Range? {
            guard let rs = byMetric[metric], let lo = rs.map(\.value).min(), let hi = rs.map(\.value).max() else { return nil }
            return Range(min: lo, max: hi)
        }
        var rainfall: Double?
        if let rain = byMetric["rainfall"], !rain.isEmpty {
            let perDevice = Dictionary(grouping: rain, by: \.device).values.map { $0.reduce(0) { $0 + $1.value } }
            rainfall = round(perDevice.reduce(0, +) / Double(perDevice.count), "rainfall")
        }
        return EnvironmentSummary(
            from: from, to: to, devices: devices.sorted(),
            readings: byMetric.values.reduce(0) { $0 + $1.count },
            soilMoistureMean: mean("soil_moisture"), soilTempMean: mean("soil_temp"), airTempMean: mean("air_temp"),
            rainfallTotal: rainfall, dissolvedOxygen: range("dissolved_oxygen"), ph: range("ph"),
            classThreeShare: classThreeShare(byMetric), warnings: warnings)
    }

    /// Rounds to two more decimals than the metric's precision (to 0.001 when unknown).
    static func round(_ value: Double, _ metric: String) -> Double {
        let digits = (MetricCatalogue.metric(named: metric)?.precision ?? 1) + 2
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded() / scale
    }

    static func classThreeShare(_ byMetric: [String: [Reading]]) -> Double? {
        guard let oxygen = byMetric["dissolved_oxygen"], !oxygen.isEmpty else { return nil }
        let limits: [(String, (Double) -> Bool)] = [
            ("ph", { $0 >= 6 && $0 <= 9 }), ("cod_mn", { $0 <= 6 }), ("ammonia_nitrogen", { $0 <= 1.0 }),
            ("total_phosphorus", { $0 <= 0.2 }),
        ]
        var good: Int64 = 0
        var total: Int64 = 0
        for (device, series) in Dictionary(grouping: oxygen, by: \.device) {
            let points = series.sorted { $0.timestamp < $1.timestamp }
            let others = limits.map { metric, ok in
                (ok, (byMetric[metric] ?? []).filter { $0.device == device }.sorted { $0.timestamp < $1.timestamp })
            }
            var gaps: [Int64] = []
            for i in points.indices.dropLast() { gaps.append(min(points[i + 1].timestamp - points[i].timestamp, maxHold)) }
            let lastWeight = gaps.isEmpty ? maxHold : gaps.sorted()[gaps.count / 2]
            // One cursor per other metric: the latest reading at or before the DO reading.
            var cursors = [Int](repeating: 0, count: others.count)
            for (i, p) in points.enumerated() {
                let weight = i < gaps.count ? gaps[i] : lastWeight
                var ok = p.value >= 5
                for (k, (test, series)) in others.enumerated() where !series.isEmpty {
                    while cursors[k] + 1 < series.count && series[cursors[k] + 1].timestamp <= p.timestamp { cursors[k] += 1 }
                    if ok { ok = test(series[cursors[k]].value) }
                }
                total += weight
                if ok { good += weight }
            }
        }
        guard total > 0 else { return nil }
        return (Double(good) / Double(total) * 10_000).rounded() / 10_000
    }
}
