import Foundation

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
