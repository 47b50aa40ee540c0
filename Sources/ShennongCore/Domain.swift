/// The five sensing domains Shennong serves, plus device health which every domain shares.
///
/// A device belongs to one domain; a metric belongs to one domain (health metrics such as
/// `battery_voltage` belong to ``health`` and are carried by devices of any domain).
public enum Domain: String, Sendable, Codable, CaseIterable, Hashable {
    /// Fish ponds, reservoirs, rivers: water quality (水质).
    case water
    /// Farm plots: soil moisture, temperature, salinity (墒情).
    case soil
    /// Automatic weather stations (气象).
    case weather
    /// Forest fire-watch nodes (森林防火).
    case fire
    /// River and torrent gauges: water level, flow (山洪/水位).
    case flood
    /// Device health: battery, signal. Never a device's own domain.
    case health

    /// The Chinese name shown beside the English one.
    public var chineseName: String {
        switch self {
        case .water: "水质"
        case .soil: "墒情"
        case .weather: "气象"
        case .fire: "森林防火"
        case .flood: "水位雨情"
        case .health: "设备状态"
        }
    }

    /// The domains a device can belong to.
    public static let deviceDomains: [Domain] = [.water, .soil, .weather, .fire, .flood]

    /// The domain most of `metrics` belong to, ignoring health metrics; `nil` when none is known.
    ///
    /// Used to place an auto-registered device. Ties go to the order of ``deviceDomains``.
    public static func infer(from metrics: some Sequence<String>) -> Domain? {
        var counts: [Domain: Int] = [:]
        for name in metrics {
            guard let metric = MetricCatalogue.metric(named: name), metric.domain != .health else { continue }
            counts[metric.domain, default: 0] += 1
        }
        let best = counts.values.max() ?? 0
        guard best > 0 else { return nil }
        return deviceDomains.first { counts[$0] == best }
    }
}
