import Foundation
import ShennongAlerts

/// The forest-fire danger and Nesterov indices from a weather station's metrics.
///
/// LY/T 1172-95 index = A(max temperature) + B(min relative humidity) + C(consecutive dry
/// days) + E(max wind) − phenology correction; levels ≤ 25 / 26–50 / 51–72 / 73–90 / ≥ 91.
/// The scoring table is a regional one [check] (STANDARDS.md): A: Tmax ≤ 5 °C → 0, then
/// 4/8/12/16 per 5 °C, > 25 °C → 20; B: RH ≥ 65 % → 0, then 4/8/12/16 per 10 %, < 25 % → 20;
/// C: +5 a dry day (≤ 0.1 mm) up to 50; E: Beaufort 0–8 → 0–40 in steps of 5.
/// Maxima and minima are over the last 24 h; dry days are whole local days (UTC+8).
public enum FireDangerScore {
    /// A: score of the maximum air temperature (°C).
    public static func temperature(_ tmax: Double) -> Double {
        switch tmax {
        case ...5: 0
        case ...10: 4
        case ...15: 8
        case ...20: 12
        case ...25: 16
        default: 20
        }
    }

    /// B: score of the minimum relative humidity (%).
    public static func humidity(_ rhMin: Double) -> Double {
        switch rhMin {
        case 65...: 0
        case 55...: 4
        case 45...: 8
        case 35...: 12
        case 25...: 16
        default: 20
        }
    }

    /// C: 5 per consecutive dry day, at most 50.
    public static func dryDays(_ days: Int) -> Double { Double(min(10, max(0, days)) * 5) }

    /// E: 5 per Beaufort force of the maximum wind (m/s), at most 40 (force 8).
    public static func wind(_ speed: Double) -> Double { Double(min(8, beaufort(speed)) * 5) }

    /// Beaufort force of a mean wind speed in m/s (WMO upper bounds).
    public static func beaufort(_ speed: Double) -> Int {
        let bounds: [Double] = [0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7]
        return bounds.firstIndex { speed < $0 } ?? 12
    }

    /// The index from its parts.
    public static func index(tmax: Double, rhMin: Double, dryDays: Int, windMax: Double, phenology: Double = 0) -> Double {
        temperature(tmax) + humidity(rhMin) + Self.dryDays(dryDays) + wind(windMax) - phenology
    }

    /// The lowest index of levels 2…5 (LY/T 1172-95: ≤ 25 / 26–50 / 51–72 / 73–90 / ≥ 91).
    public static let levelBounds: [Double] = [26, 51, 73, 91]
}

/// The level of a derived index value (1…5) and its name, for people: what staff see of an
/// index whether or not it raises a warning.
///
/// For the LY/T 1172 fire danger these are the forest-fire danger weather levels of
/// QX/T 77-2007 as Guangdong forecasts them: 一级 低火险, 二级 较低火险, 三级 较高火险 (可燃),
/// 四级 高火险 (易燃), 五级 极高火险 (极易燃). Only levels 3–5 have warning signals
/// (yellow, orange, red, STANDARDS.md); levels 1–2 are shown as the index and its level name.
public struct IndexGrade: Sendable, Hashable, Codable {
    /// 1…5.
    public var level: Int
    /// The level's Chinese name (较低火险).
    public var name: String
    /// The level as people write it: 二级 较低火险.
    public var title: String { "\(Self.ordinals[level - 1])级 \(name)" }
    /// The colour of the level in the daily forecast (green, blue, yellow, orange, red); not a warning signal.
    public var forecastColour: String { ["green", "blue", "yellow", "orange", "red"][level - 1] }

    static let ordinals = ["一", "二", "三", "四", "五"]

    public init(level: Int, name: String) {
        self.level = level
        self.name = name
    }
}

extension DerivedIndex {
    /// The lowest value of levels 2…5: LY/T 1172-95 levels (fire danger), Nesterov classes [check].
    public var levelBounds: [Double] {
        switch self {
        case .fireDanger: FireDangerScore.levelBounds
        case .nesterov: [300, 1000, 4000, 10000]
        }
    }

    /// The names of levels 1…5.
    public var levelNames: [String] {
        switch self {
        case .fireDanger: ["低火险", "较低火险", "较高火险", "高火险", "极高火险"]
        case .nesterov: ["无火险", "低火险", "中等火险", "高火险", "极高火险"]
        }
    }

    /// The level (1…5) of an index value and its name.
    public func grade(of value: Double) -> IndexGrade {
        let level = 1 + levelBounds.filter { value >= $0 }.count
        return IndexGrade(level: level, name: levelNames[level - 1])
    }

    /// `森林火险指数（LY/T 1172）`, `Nesterov 指数`.
    public var chineseName: String {
        switch self {
        case .fireDanger: "森林火险指数（LY/T 1172）"
        case .nesterov: "Nesterov 指数"
        }
    }
}

/// The latest value of a derived index on one device (a weather station), with its level:
/// what the dashboard shows of fire danger at every level, warning or not.
public struct IndexStatus: Sendable, Hashable {
    public var rule: String
    public var device: String
    public var index: DerivedIndex
    /// The index value at the latest evaluated reading.
    public var value: Double
    /// Its level (1…5) and name (二级 较低火险).
    public var grade: IndexGrade
    /// Since when (ms, reading time) the index has had this value.
    public var at: Int64
    /// The warning level in force for the rule (`nil`: none — always so at levels 1–2 of the fire-danger preset).
    public var warning: AlertLevel?

    public init(rule: String, device: String, index: DerivedIndex, value: Double, at: Int64, warning: AlertLevel?) {
        self.rule = rule
        self.device = device
        self.index = index
        self.value = value
        self.grade = index.grade(of: value)
        self.at = at
        self.warning = warning
    }

    /// The status kept in a persisted rule state (``RuleStateRecord/state``) of a derived-index
    /// rule: for readers of the store (the dashboard) without the engine. `nil` when the rule
    /// is not a derived index or the state holds no value yet.
    public init?(record: RuleStateRecord, rule: Rule) {
        guard case .derived(let index) = rule.condition, record.rule == rule.id,
            let state = try? JSONDecoder().decode(PersistedRuleState.self, from: Data(record.state.utf8)),
            let value = state.x, let at = state.xt
        else { return nil }
        self.init(rule: rule.id, device: record.device, index: index, value: value, at: at, warning: record.level)
    }
}

/// Nesterov ignition index: NI = Σ T·(T − Td) over dry days, reset when a day's rain is
/// above 3 mm; T is the day's maximum temperature and Td the dew point at it (from the
/// day's minimum humidity, an approximation of the 13:00 observation). Classes < 300 /
/// 300–1000 / 1000–4000 / 4000–10000 / > 10000 [check].
public enum Nesterov {
    /// Dew point (°C) by the Magnus formula.
    public static func dewPoint(temperature t: Double, humidity rh: Double) -> Double {
        let a = 17.27, b = 237.7
        let gamma = log(max(1, min(100, rh)) / 100) + a * t / (b + t)
        return b * gamma / (a - gamma)
    }

    /// One day's term T·(T − Td), never negative.
    public static func term(tmax: Double, rhMin: Double) -> Double {
        max(0, tmax * (tmax - dewPoint(temperature: tmax, humidity: rhMin)))
    }
}

/// A station's current local day and what came before it: persisted with the rule state.
struct WeatherDay: Codable, Equatable, Sendable {
    /// Local day number (days since 1970-01-01 in UTC+8).
    var day: Int64
    var tmax: Double?
    var rhMin: Double?
    /// Rain so far today (mm).
    var rain: Double = 0
    /// Consecutive whole dry days (≤ 0.1 mm) up to yesterday.
    var dryDays = 0
    /// Nesterov index through yesterday.
    var nesterov: Double = 0

    static let offset: Int64 = 8 * 3_600_000

    static func localDay(_ ts: Int64) -> Int64 {
        let t = ts + offset
        return t >= 0 ? t / 86_400_000 : (t - 86_399_999) / 86_400_000
    }

    /// Moves to the day of `ts`, closing the days in between.
    mutating func advance(to ts: Int64) {
        let d = Self.localDay(ts)
        guard d > day else { return }
        if rain <= 0.1 { dryDays += 1 } else { dryDays = 0 }
        if rain > 3 {
            nesterov = 0
        } else if let tmax, let rhMin {
            nesterov += Nesterov.term(tmax: tmax, rhMin: rhMin)
        }
        day = d
        tmax = nil
        rhMin = nil
        rain = 0
    }

    mutating func observe(metric: String, value: Double) {
        switch metric {
        case "air_temp": tmax = Swift.max(tmax ?? value, value)
        case "relative_humidity": rhMin = Swift.min(rhMin ?? value, value)
        case "rainfall": rain += value
        default: break
        }
    }

    /// Consecutive dry days including today while it has not rained.
    var dryDaysNow: Int { rain > 0.1 ? 0 : dryDays + 1 }

    /// The Nesterov index now: through yesterday plus today's term so far.
    var nesterovNow: Double {
        if rain > 3 { return 0 }
        guard let tmax, let rhMin else { return nesterov }
        return nesterov + Nesterov.term(tmax: tmax, rhMin: rhMin)
    }
}
