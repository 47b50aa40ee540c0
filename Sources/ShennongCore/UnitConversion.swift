/// Conversions from the units a sensor declares (SenML `u`/`bu`, RFC 8428 and RFC 8798
/// names, plus a few common non-SenML spellings) to Shennong's canonical units.
///
/// The table is deliberately small: a unit that is not listed for a metric's canonical unit
/// is a `unit_mismatch`, never a guess.
public enum UnitConversion {
    /// `canonical = value × scale + offset`.
    public struct Linear: Sendable, Hashable {
        public var scale: Double
        public var offset: Double

        public init(scale: Double, offset: Double = 0) {
            self.scale = scale
            self.offset = offset
        }

        public static let identity = Linear(scale: 1)

        /// Applies the conversion and removes the floating-point noise (``UnitConversion/tidy(_:)``).
        public func apply(_ value: Double) -> Double {
            scale == 1 && offset == 0 ? value : UnitConversion.tidy(value * scale + offset)
        }
    }

    private struct Key: Hashable {
        var from: String
        var to: String
    }

    /// (declared unit, canonical unit, scale, offset).
    public static let table: [(from: String, to: String, scale: Double, offset: Double)] = [
        // temperature
        ("Cel", "°C", 1, 0), ("degC", "°C", 1, 0), ("K", "°C", 1, -273.15),
        // dimensionless
        ("/", "", 1, 0), ("pH", "", 1, 0),
        // concentration
        ("mg/l", "mg/L", 1, 0), ("g/m3", "mg/L", 1, 0), ("kg/m3", "mg/L", 1000, 0),
        // conductivity
        ("S/m", "µS/cm", 10_000, 0), ("mS/cm", "µS/cm", 1000, 0), ("mS/m", "µS/cm", 10, 0), ("uS/cm", "µS/cm", 1, 0),
        ("\u{3BC}S/cm", "µS/cm", 1, 0),  // Greek mu, as many vendors write it; the canonical unit uses the micro sign
        ("\u{3BC}S/cm", "dS/m", 0.001, 0),
        ("S/m", "dS/m", 10, 0), ("mS/cm", "dS/m", 1, 0), ("mS/m", "dS/m", 0.01, 0),
        ("uS/cm", "dS/m", 0.001, 0), ("µS/cm", "dS/m", 0.001, 0),
        // fractions and percentages
        ("%RH", "%", 1, 0), ("/", "%", 100, 0), ("%", "% vol", 1, 0), ("/", "% vol", 100, 0),
        // lengths
        ("m", "mm", 1000, 0), ("cm", "mm", 10, 0),
        ("cm", "m", 0.01, 0), ("mm", "m", 0.001, 0), ("km", "m", 1000, 0),
        // speed, direction
        ("km/h", "m/s", 1 / 3.6, 0), ("deg", "°", 1, 0), ("rad", "°", 180 / Double.pi, 0),
        // pressure
        ("Pa", "hPa", 0.01, 0), ("kPa", "hPa", 10, 0), ("mbar", "hPa", 1, 0), ("bar", "hPa", 1000, 0),
        // radiation, flow, electrical
        ("W/m2", "W/m²", 1, 0),
        ("m3/s", "m³/s", 1, 0), ("l/s", "m³/s", 0.001, 0),
        ("mV", "V", 0.001, 0), ("dBW", "dBm", 1, 30),
    ]

    private static let lookup: [Key: Linear] = {
        var out: [Key: Linear] = [:]
        for row in table { out[Key(from: row.from, to: row.to)] = Linear(scale: row.scale, offset: row.offset) }
        return out
    }()

    /// The conversion from `unit` to the canonical unit `canonical`, or `nil` when there is none.
    /// A unit equal to the canonical one converts as the identity.
    public static func conversion(from unit: String, to canonical: String) -> Linear? {
        if unit == canonical { return .identity }
        return lookup[Key(from: unit, to: canonical)]
    }

    /// `x` rounded to 15 significant decimal digits: removes the noise binary arithmetic
    /// leaves after a scale or offset (`1234 × 0.01 = 12.340000000000002` becomes `12.34`)
    /// while keeping every digit a sensor can report. Values of magnitude ≥ 10^15 or
    /// < 10^-7, zero and non-finite values are returned unchanged.
    public static func tidy(_ x: Double) -> Double {
        let a = abs(x)
        guard a.isFinite, a >= 1e-7, a < 1e15 else { return x }
        // k = floor(log10(a)), found by comparison; p = 14 - k keeps 15 significant digits.
        var k = 14
        while k > -7 {
            let bound = k >= 0 ? exactPowersOfTen[k] : 1 / exactPowersOfTen[-k]
            if a >= bound { break }
            k -= 1
        }
        let p = 14 - k
        guard p >= 0, p <= 22 else { return x }
        let power = exactPowersOfTen[p]
        let scaled = (x * power).rounded()
        guard abs(scaled) < 9_007_199_254_740_992 else { return x }
        return scaled / power
    }
}
