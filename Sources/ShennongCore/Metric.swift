/// A canonical metric: its name on the wire and in storage, its fixed unit, and what values
/// are physically possible.
///
/// Units are fixed per metric (DESIGN.md, "Canonical metrics"); a device profile converts a
/// vendor's field into the canonical unit with a scale and an offset before anything is stored.
public struct Metric: Sendable, Hashable, Codable {
    /// The canonical name, for example `dissolved_oxygen`.
    public let name: String
    /// The canonical unit, for example `mg/L`; empty for dimensionless metrics such as pH.
    public let unit: String
    /// The domain the metric belongs to.
    public let domain: Domain
    /// Decimal digits that are significant; compaction stores values scaled to this precision.
    public let precision: Int
    /// The smallest physically possible value; readings below it are rejected.
    public let minimum: Double
    /// The largest physically possible value; readings above it are rejected.
    public let maximum: Double
    /// The Chinese label shown to staff and consumers.
    public let chineseName: String

    public init(
        name: String, unit: String, domain: Domain, precision: Int,
        minimum: Double, maximum: Double, chineseName: String
    ) {
        self.name = name
        self.unit = unit
        self.domain = domain
        self.precision = precision
        self.minimum = minimum
        self.maximum = maximum
        self.chineseName = chineseName
    }

    /// Whether `value` is finite and inside the physical range.
    public func accepts(_ value: Double) -> Bool {
        value.isFinite && value >= minimum && value <= maximum
    }
}

/// The catalogue of canonical metrics (DESIGN.md). Extend it here; units never change once
/// readings are stored under them.
public enum MetricCatalogue {
    /// Every canonical metric, in display order.
    public static let all: [Metric] = [
        // water
        Metric(name: "water_temp", unit: "°C", domain: .water, precision: 2, minimum: -5, maximum: 50, chineseName: "水温"),
        Metric(name: "ph", unit: "", domain: .water, precision: 2, minimum: 0, maximum: 14, chineseName: "pH"),
        Metric(name: "dissolved_oxygen", unit: "mg/L", domain: .water, precision: 2, minimum: 0, maximum: 30, chineseName: "溶解氧"),
        Metric(name: "turbidity", unit: "NTU", domain: .water, precision: 1, minimum: 0, maximum: 10_000, chineseName: "浊度"),
        Metric(name: "conductivity", unit: "µS/cm", domain: .water, precision: 1, minimum: 0, maximum: 200_000, chineseName: "电导率"),
        Metric(name: "ammonia_nitrogen", unit: "mg/L", domain: .water, precision: 3, minimum: 0, maximum: 100, chineseName: "氨氮"),
        Metric(name: "cod_mn", unit: "mg/L", domain: .water, precision: 2, minimum: 0, maximum: 200, chineseName: "高锰酸盐指数"),
        Metric(name: "total_phosphorus", unit: "mg/L", domain: .water, precision: 3, minimum: 0, maximum: 50, chineseName: "总磷"),
        Metric(name: "aerator_on", unit: "", domain: .water, precision: 0, minimum: 0, maximum: 1, chineseName: "增氧机状态"),
        // soil
        Metric(name: "soil_moisture", unit: "% vol", domain: .soil, precision: 1, minimum: 0, maximum: 100, chineseName: "土壤体积含水量"),
        Metric(name: "soil_relative_moisture", unit: "%", domain: .soil, precision: 1, minimum: 0, maximum: 150, chineseName: "土壤相对湿度"),
        Metric(name: "soil_temp", unit: "°C", domain: .soil, precision: 2, minimum: -30, maximum: 80, chineseName: "土壤温度"),
        Metric(name: "soil_ec", unit: "dS/m", domain: .soil, precision: 3, minimum: 0, maximum: 50, chineseName: "土壤电导率"),
        Metric(name: "soil_ph", unit: "", domain: .soil, precision: 2, minimum: 0, maximum: 14, chineseName: "土壤pH"),
        // weather
        Metric(name: "air_temp", unit: "°C", domain: .weather, precision: 2, minimum: -60, maximum: 65, chineseName: "气温"),
        Metric(name: "relative_humidity", unit: "%", domain: .weather, precision: 1, minimum: 0, maximum: 100, chineseName: "相对湿度"),
        Metric(name: "rainfall", unit: "mm", domain: .weather, precision: 1, minimum: 0, maximum: 500, chineseName: "降雨量"),
        Metric(name: "wind_speed", unit: "m/s", domain: .weather, precision: 1, minimum: 0, maximum: 100, chineseName: "风速"),
        Metric(name: "wind_direction", unit: "°", domain: .weather, precision: 0, minimum: 0, maximum: 360, chineseName: "风向"),
        Metric(name: "air_pressure", unit: "hPa", domain: .weather, precision: 1, minimum: 300, maximum: 1100, chineseName: "气压"),
        Metric(name: "solar_radiation", unit: "W/m²", domain: .weather, precision: 0, minimum: 0, maximum: 2000, chineseName: "太阳辐射"),
        // fire watch
        Metric(name: "smoke", unit: "%obs/m", domain: .fire, precision: 2, minimum: 0, maximum: 100, chineseName: "烟雾浓度"),
        Metric(name: "co", unit: "ppm", domain: .fire, precision: 1, minimum: 0, maximum: 10_000, chineseName: "一氧化碳"),
        Metric(name: "flame", unit: "", domain: .fire, precision: 0, minimum: 0, maximum: 1, chineseName: "火焰"),
        Metric(name: "ir_max_temp", unit: "°C", domain: .fire, precision: 1, minimum: -40, maximum: 1500, chineseName: "红外最高温度"),
        // flood
        Metric(name: "water_level", unit: "m", domain: .flood, precision: 3, minimum: -100, maximum: 10_000, chineseName: "水位"),
        Metric(name: "flow", unit: "m³/s", domain: .flood, precision: 2, minimum: 0, maximum: 100_000, chineseName: "流量"),
        // device health
        Metric(name: "battery_voltage", unit: "V", domain: .health, precision: 2, minimum: 0, maximum: 60, chineseName: "电池电压"),
        Metric(name: "rssi", unit: "dBm", domain: .health, precision: 0, minimum: -150, maximum: 0, chineseName: "信号强度"),
    ]

    private static let byName: [String: Metric] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The canonical metric called `name`, or `nil` when there is none.
    public static func metric(named name: String) -> Metric? { byName[name] }
}
