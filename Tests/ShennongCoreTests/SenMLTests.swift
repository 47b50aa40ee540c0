import Testing
@testable import ShennongCore

@Suite("Payload decoder: SenML")
struct SenMLTests {
    static let t0: Int64 = 1_763_707_200_000  // 2025-11-21T06:40:00Z

    @Test func baseNameTimeAndUnitResolve() {
        let r = decode(#"""
        [{"bn": "urn:dev:ow:10e2073a01080063:", "bt": 1763707200, "bu": "Cel", "bver": 10, "n": "water_temp", "v": 23.1},
         {"n": "dissolved_oxygen", "u": "mg/l", "v": 6.5, "t": 60},
         {"n": "ph", "u": "/", "v": 7.2, "t": 120.5}]
        """#)
        #expect(r.form == .senml)
        #expect(r.rejections.isEmpty)
        #expect(r.readings == [
            Reading(device: "dev-1", metric: "water_temp", timestamp: Self.t0, value: 23.1),
            Reading(device: "dev-1", metric: "dissolved_oxygen", timestamp: Self.t0 + 60_000, value: 6.5),
            Reading(device: "dev-1", metric: "ph", timestamp: Self.t0 + 120_500, value: 7.2),
        ])
    }

    @Test(arguments: [
        ("urn:dev:ow:10e2073a01080063:", "air_temp", "air_temp"),
        ("station-7/", "air_temp", "air_temp"),
        ("", "gw1:site/air_temp", "air_temp"),
        ("urn:dev:mac:0024befffe804ff1:air_temp", "", "air_temp"),
    ])
    func fieldIsThePartAfterTheLastSeparator(bn: String, n: String, field: String) {
        #expect(SenML.fieldName(of: bn + n) == field[...])
        let r = decode(#"[{"bn": "\#(bn)", "n": "\#(n)", "v": 20}]"#)
        #expect(r.values == ["air_temp": 20], "\(r.rejections)")
    }

    @Test func nameWithoutFieldPartIsUnknownMetric() {
        let r = decode(#"[{"bn": "urn:dev:ow:1:", "v": 20}, {"n": "ph", "v": 7}]"#)
        #expect(r.codes == [.unknownMetric])
        #expect(r.values == ["ph": 7])
    }

    @Test func timeWithoutAnyIsTheReceiveTimeAndSmallTimesAreRelative() {
        let r = decode(#"[{"n": "ph", "v": 7}, {"n": "water_temp", "v": 20, "t": -60}, {"n": "turbidity", "v": 3, "bt": 100}]"#)
        #expect(r.rejections.isEmpty)
        #expect(r.readings.map(\.timestamp) == [receivedAt, receivedAt - 60_000, receivedAt + 100_000])
    }

    @Test func relativeLimitIs2To28() {
        // 2^28 - 1 is relative (and far in the future), 2^28 absolute (1978: too old).
        #expect(decode(#"[{"n": "ph", "v": 7, "t": 268435455}]"#).codes == [.futureTimestamp])
        #expect(decode(#"[{"n": "ph", "v": 7, "t": 268435456}]"#).codes == [.tooOld])
    }

    @Test func baseValueIsAdded() {
        let r = decode(#"[{"bn": "x/", "bv": 20, "n": "water_temp", "v": 1.5}, {"n": "air_temp", "v": -2}]"#)
        #expect(r.values == ["water_temp": 21.5, "air_temp": 18])
    }

    @Test(arguments: [
        ("Cel", "water_temp", 21.5, 21.5), ("K", "water_temp", 294.65, 21.5), ("Pa", "air_pressure", 100870, 1008.7),
        ("%RH", "relative_humidity", 81, 81), ("/", "relative_humidity", 0.81, 81), ("m", "water_level", 2.354, 2.354),
        ("cm", "water_level", 235.4, 2.354), ("mm", "rainfall", 1.5, 1.5), ("m", "rainfall", 0.0015, 1.5),
        ("m/s", "wind_speed", 2.7, 2.7), ("km/h", "wind_speed", 36, 10), ("S/m", "conductivity", 0.0412, 412),
        ("mS/cm", "conductivity", 0.412, 412), ("uS/cm", "conductivity", 412, 412), ("µS/cm", "conductivity", 412, 412),
        ("\u{3BC}S/cm", "conductivity", 412, 412), ("\u{3BC}S/cm", "soil_ec", 412, 0.412),
        ("S/m", "soil_ec", 0.0412, 0.412), ("mS/cm", "soil_ec", 0.412, 0.412), ("W/m2", "solar_radiation", 650, 650),
        ("deg", "wind_direction", 135, 135), ("V", "battery_voltage", 3.7, 3.7), ("mV", "battery_voltage", 3705, 3.705),
        ("dBm", "rssi", -87, -87), ("ppm", "co", 3.5, 3.5), ("m3/s", "flow", 12.5, 12.5), ("l/s", "flow", 250, 0.25),
        ("%", "soil_moisture", 23.6, 23.6), ("/", "soil_moisture", 0.236, 23.6), ("hPa", "air_pressure", 1008.7, 1008.7),
    ])
    func unitsConvertToCanonical(unit: String, metric: String, value: Double, expected: Double) {
        let r = decode(#"[{"n": "\#(metric)", "u": "\#(unit)", "v": \#(value)}]"#)
        #expect(r.rejections.isEmpty, "\(r.rejections)")
        #expect(r.values == [metric: expected])
    }

    @Test func unknownOrWrongUnitIsUnitMismatch() {
        let r = decode(#"""
        [{"bu": "Cel", "n": "water_temp", "v": 21},
         {"n": "air_pressure", "v": 100870},
         {"n": "water_temp", "u": "degF", "v": 70},
         {"n": "ph", "u": "mg/l", "v": 7}]
        """#)
        // bu "Cel" applies to the pressure record too: Cel cannot become hPa.
        #expect(r.values == ["water_temp": 21])
        #expect(r.codes == [.unitMismatch, .unitMismatch, .unitMismatch])
        #expect(r.rejections.map(\.field) == ["air_pressure", "water_temp", "ph"])
        #expect(r.rejections[1].message.contains(#""degF""#))
        #expect(r.rejections[1].message.contains("°C"))
    }

    @Test func profileMappingAppliesWhenItsUnitMatches() {
        let profile = DeviceProfile(name: "rg", domain: .flood, description: "雨量计", expectedInterval: 300,
                                    fields: ["tips": FieldMapping(metric: "rainfall", scale: 0.5, unit: "count"),
                                             "level_cm": FieldMapping(metric: "water_level", scale: 0.01, offset: 12.5, unit: "cm")])
        let r = decode(#"""
        [{"n": "tips", "u": "count", "v": 7},
         {"n": "tips", "v": 2, "t": -300},
         {"n": "level_cm", "u": "cm", "v": 235.4},
         {"n": "level_cm", "u": "m", "v": 2.354, "t": -60},
         {"n": "tips", "u": "mm", "v": 3, "t": -600}]
        """#, profile: profile)
        #expect(r.rejections.isEmpty, "\(r.rejections)")
        // Unit equal to the mapping's: scale/offset; no unit: scale/offset; another unit: the unit table.
        #expect(r.readings.map(\.value) == [3.5, 1, 14.854, 2.354, 3])
    }

    @Test func booleanValuesOnlyForBinaryMetrics() {
        let r = decode(#"[{"n": "flame", "vb": true}, {"n": "aerator_on", "vb": false}, {"n": "ph", "vb": true}]"#)
        #expect(r.values == ["flame": 1, "aerator_on": 0])
        #expect(r.codes == [.wrongType])
        #expect(r.rejections[0].field == "ph")
    }

    @Test(arguments: [#"{"n": "ph", "vs": "seven"}"#, #"{"n": "ph", "vd": "AAEC"}"#, #"{"n": "ph", "s": 70}"#,
                      #"{"n": "ph"}"#, #"{"n": "ph", "v": "7"}"#, #"{"n": "ph", "vb": 1}"#])
    func recordWithoutNumericValueIsWrongType(record: String) {
        let r = decode("[\(record), {\"n\": \"water_temp\", \"v\": 20}]")
        #expect(r.codes == [.wrongType], "\(record)")
        #expect(r.rejections[0].field == "ph")
        #expect(r.values == ["water_temp": 20])
    }

    @Test func rangeAndTimeChecksApplyPerRecord() {
        let r = decode(#"""
        [{"bt": 1763707200, "n": "ph", "v": 15.3},
         {"n": "water_temp", "v": 22, "t": 315360000},
         {"n": "turbidity", "v": 4, "t": "later"},
         {"n": "dissolved_oxygen", "v": 5.2}]
        """#)
        #expect(r.codes == [.outOfRange, .futureTimestamp, .badTimestamp])
        #expect(r.readings == [Reading(device: "dev-1", metric: "dissolved_oxygen", timestamp: Self.t0, value: 5.2)])
    }

    @Test func baseOnlyRecordsSetBasesWithoutRejection() {
        let r = decode(#"[{"bn": "dev/", "bt": 1763707200, "bu": "Cel"}, {"n": "air_temp", "v": 20}]"#)
        #expect(r.rejections.isEmpty)
        #expect(r.readings == [Reading(device: "dev-1", metric: "air_temp", timestamp: Self.t0, value: 20)])
        #expect(decode(#"[{"bn": "dev/"}]"#).codes == [.unsupportedPayload])
    }

    @Test func mustUnderstandFieldsAndNewerVersionsAreRefused() {
        let r = decode(#"[{"n": "ph", "v": 7, "rt_": 1}, {"n": "water_temp", "v": 20, "ut": 60, "foo": 1}, {"bver": 11, "n": "ph", "v": 7}]"#)
        #expect(r.codes == [.unsupportedPayload, .unsupportedPayload])
        #expect(r.values == ["water_temp": 20])
    }

    @Test func unknownNameIsUnknownMetricAndIgnoredNamesAreDropped() {
        let r = decode(#"[{"n": "seq", "v": 1}, {"n": "lux", "v": 300}, {"n": "ph", "v": 7}]"#)
        #expect(r.codes == [.unknownMetric])
        #expect(r.rejections[0].field == "lux")
        #expect(r.values == ["ph": 7])
    }

    @Test func arrayShapeDecidesBetweenBackfillAndSenML() {
        #expect(decode(#"[{"ts": 1763707200, "values": {"ph": 7}}]"#).form == .backfill)
        #expect(decode(#"[{"n": "ph", "v": 7}]"#).form == .senml)
        #expect(decode(#"[{"t": 0, "n": "ph", "v": 7}]"#).form == .senml)
    }

    @Test func tidyRemovesConversionNoiseOnly() {
        #expect(3 * 0.2 != 0.6)
        #expect(UnitConversion.tidy(3 * 0.2) == 0.6)
        #expect(412 * 0.001 != 0.412)
        #expect(UnitConversion.tidy(412 * 0.001) == 0.412)
        #expect(UnitConversion.tidy(0.236 * 100) == 23.6)
        #expect(UnitConversion.tidy(0.412 * 1000) == 412)
        #expect(UnitConversion.tidy(294.65 - 273.15) == 21.5)
        #expect(UnitConversion.tidy(123.456789012345) == 123.456789012345)
        #expect(UnitConversion.tidy(-87) == -87)
        #expect(UnitConversion.tidy(1e-9) == 1e-9)
        #expect(UnitConversion.tidy(.infinity) == .infinity)
        #expect(UnitConversion.conversion(from: "Cel", to: "°C") == .identity)
        #expect(UnitConversion.conversion(from: "°C", to: "°C") == .identity)
        #expect(UnitConversion.conversion(from: "Cel", to: "hPa") == nil)
    }
}
