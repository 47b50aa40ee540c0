import Foundation
import ShennongAlerts
import ShennongCore
import ShennongStore
import Testing

@testable import ShennongRules

/// Each kind of condition with an explicit reading sequence and the exact level changes it
/// must produce (minute from t0, from → to).
struct ConditionTests {
    @Test("threshold: a duration delays the raise, red steps down to orange after the clear delay, orange clears past the margin")
    func thresholdDurationAndClear() throws {
        let r = try rule("""
            - id: do-low
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels:
                orange: { below: 3 }
                red: { below: 2 }
              for: 5m
              clear_margin: 0.3
              clear_after: 10m
            """)
        var series: [(Int64, Double)] = [(0, 4.0)]
        series += (1...7).map { ($0, 2.8) }      // orange crossed from m1: raised at m6
        series += (8...13).map { ($0, 1.8) }     // red crossed from m8: raised at m13
        series += (14...24).map { ($0, 2.5) }    // red clear (≥ 2.3) from m14: dropped at m24
        series += [(25, 3.1)]                    // in orange's band (3 … 3.3): timers start over
        series += (26...36).map { ($0, 3.5) }    // orange clear from m26: dropped at m36
        let result = try changes([r], metric: "dissolved_oxygen", series)
        #expect(steps(result) == [Step(6, nil, .orange), Step(13, .orange, .red), Step(24, .red, .orange), Step(36, .orange, nil)])
        #expect(result[0].threshold == 3)
        #expect(result[0].value == 2.8)
        #expect(result[0].message.contains("溶解氧 2.8 mg/L < 3 mg/L"))
        #expect(result.allSatisfy { !$0.late })
    }

    @Test("a value flapping around the threshold raises once and clears once with hysteresis; without it, it flaps")
    func flappingInputDoesNotFlap() throws {
        var series: [(Int64, Double)] = [(0, 12.3)]
        for m in Int64(1)...40 { series.append((m, m % 2 == 1 ? 12.55 : 12.45)) }
        for m in Int64(41)...60 { series.append((m, 12.35)) }
        let base = """
            - id: stage
              metric: water_level
              condition: { kind: threshold }
              levels:
                yellow: { at_least: 12.5 }
            """
        let hysteresis = try rule(base + "\n  clear_margin: 0.1\n  clear_after: 10m")
        #expect(steps(try changes([hysteresis], metric: "water_level", series)) == [Step(1, nil, .yellow), Step(51, .yellow, nil)])
        // The clear delay alone also holds the alert through the oscillation.
        // (its clock starts at the last 12.45 of m40.)
        let delayOnly = try rule(base + "\n  clear_after: 10m")
        #expect(steps(try changes([delayOnly], metric: "water_level", series)) == [Step(1, nil, .yellow), Step(50, .yellow, nil)])
        // The same input with neither: an alert per crossing (what the two above prevent).
        let naive = try rule(base)
        #expect(try changes([naive], metric: "water_level", series).count == 40)
    }

    @Test("windowed sums: the rainstorm signals go yellow (50 mm/6 h), orange (50 mm/3 h), red (100 mm/3 h) at the exact readings")
    func windowedSums() throws {
        let r = try rule("""
            - id: rainstorm
              metric: rainfall
              condition: { kind: window, aggregate: sum }
              levels:
                blue: { window: 12h, at_least: 50 }
                yellow: { window: 6h, at_least: 50 }
                orange: { window: 3h, at_least: 50 }
                red: { window: 3h, at_least: 100 }
              clear_margin: 5
              clear_after: 1h
            """)
        var series: [(Int64, Double)] = []
        for m in stride(from: Int64(5), through: 250, by: 5) { series.append((m, 1.0)) }   // 50 × 1 mm: 50 mm in 6 h at m250
        for m in stride(from: Int64(255), through: 320, by: 5) { series.append((m, 2.0)) } // 3 h sum 22 + 28 = 50 at m320
        for m in stride(from: Int64(325), through: 400, by: 5) { series.append((m, 5.0)) } // 3 h sum 50 + 4j ≥ 100 at j = 13: m385
        let result = try changes([r], metric: "rainfall", series)
        #expect(steps(result) == [Step(250, nil, .yellow), Step(320, .yellow, .orange), Step(385, .orange, .red)])
        #expect(result.map(\.value) == [50, 50, 102])
        #expect(result[2].message.contains("3小时降雨量累计 102 mm ≥ 100 mm"))
    }

    @Test("windowed mean (gale over 10 min), max (24 h maximum) and min")
    func windowedMeanMaxMin() throws {
        let gale = try rule("""
            - id: gale
              metric: wind_speed
              condition: { kind: window, aggregate: mean, window: 10m }
              levels:
                blue: { at_least: 10.8 }
            """)
        let wind = (0...9).map { (Int64($0), 10.0) } + (10...20).map { (Int64($0), 12.0) }
        // Mean of the readings in (t − 10 min, t]: 10 + 0.2 × (k + 1) reaches 10.8 at m13.
        #expect(steps(try changes([gale], metric: "wind_speed", wind)) == [Step(13, nil, .blue)])

        let heat = try rule("""
            - id: heat
              metric: air_temp
              condition: { kind: window, aggregate: max, window: 1h }
              levels:
                orange: { at_least: 37 }
            """)
        // 37.5 at m30 holds the 1 h maximum until m90 (out of (t − 60, t] after m89).
        let temps = (0...120).map { m in (Int64(m), m == 30 ? 37.5 : 30.0) }
        #expect(steps(try changes([heat], metric: "air_temp", temps)) == [Step(30, nil, .orange), Step(90, .orange, nil)])

        let cold = try rule("""
            - id: cold
              metric: air_temp
              condition: { kind: window, aggregate: min, window: 30m }
              levels:
                blue: { below: 0 }
            """)
        let night = (0...60).map { m in (Int64(m), m == 10 ? -0.5 : 2.0) }
        #expect(steps(try changes([cold], metric: "air_temp", night)) == [Step(10, nil, .blue), Step(40, .blue, nil)])
    }

    @Test("rate of change per hour: a rising water level goes blue at 0.36 m/h and yellow at 0.6 m/h")
    func rateOfRise() throws {
        let r = try rule("""
            - id: rise
              metric: water_level
              condition: { kind: rate, per: 1h, window: 1h }
              levels:
                blue: { at_least: 0.3 }
                yellow: { at_least: 0.5 }
            """)
        var series = stride(from: Int64(0), through: 60, by: 10).map { ($0, 2.0) }
        for (k, m) in stride(from: Int64(70), through: 150, by: 10).enumerated() { series.append((m, 2.0 + 0.1 * Double(k + 1))) }
        #expect(steps(try changes([r], metric: "water_level", series)) == [Step(90, nil, .blue), Step(110, .blue, .yellow)])
    }

    @Test("fraction of a window: DO at 4 mg/L fails the 16-of-24 h rule once 8.5 h are bad (GB 11607)")
    func fractionOfWindow() throws {
        let r = try rule("""
            - id: do-16of24
              metric: dissolved_oxygen
              condition: { kind: fraction, good: { above: 5 }, window: 24h, max_gap: 30m }
              levels:
                yellow: { below: 16 }
              clear_margin: 0.5
            """)
        let series = stride(from: Int64(0), through: 600, by: 30).map { ($0, 4.0) }
        let result = try changes([r], metric: "dissolved_oxygen", series)
        #expect(steps(result) == [Step(510, nil, .yellow)])
        #expect(result[0].value == 15.5)
        // Readings 3 h apart hold only 30 min each: the rest of the gap is not counted as bad.
        let sparse = stride(from: Int64(0), through: 1440, by: 180).map { ($0, 4.0) }
        #expect(try changes([r], metric: "dissolved_oxygen", sparse).isEmpty)
    }

    @Test("derived: LY/T 1172 fire danger from temperature, humidity, wind and dry days; rain brings it down")
    func fireDangerIndex() throws {
        let r = try rule("""
            - id: fire
              condition: { kind: derived, index: fire_danger_lyt1172 }
              levels:
                blue: { at_least: 26 }
                yellow: { at_least: 51 }
                orange: { at_least: 73 }
                red: { at_least: 91 }
              clear_margin: 3
              clear_after: 6h
            """)
        let engine = AlertEngine(rules: [r], options: EngineOptions(lateAfter: nil))
        let station = device("aws-1", domain: .weather)
        engine.setDevices([(station, nil)])
        var all: [AlertLevelChange] = []
        for h in Int64(0)..<(6 * 24 + 11) {
            let ts = t0 + h * hour
            let rain = h == 6 * 24 + 3 ? 10.0 : 0
            let readings = [("wind_speed", 9.0), ("air_temp", 30.0), ("relative_humidity", 20.0), ("rainfall", rain)].map {
                Reading(device: "aws-1", metric: $0.0, timestamp: ts, value: $0.1)
            }
            let out = try engine.evaluate(readings: readings, now: ts, history: { $0.map { _ in [] } })
            engine.committed(out)
            all += out.changes
        }
        // A 20 + B 20 + E 25 (9 m/s is Beaufort 5) + C 5 per dry day counting today:
        // 70 on day 0 (yellow), 75 on day 1 (orange), 95 on day 5 (red); 10 mm on day 6 at 03:00
        // makes C 0 (65): red and orange clear 6 h later.
        #expect(steps(all) == [Step(0, nil, .yellow), Step(1440, .yellow, .orange), Step(7200, .orange, .red), Step(9180, .red, .yellow)])
        #expect(all.map(\.value) == [70, 75, 95, 65])
    }

    @Test("derived: Nesterov accumulates T·(T − Td) over dry days and resets on a day above 3 mm")
    func nesterovIndex() throws {
        // 30 °C at 20 % has a dew point of about 4.6 °C (psychrometric tables).
        #expect(abs(Nesterov.dewPoint(temperature: 30, humidity: 20) - 4.57) < 0.05)
        let term = Nesterov.term(tmax: 30, rhMin: 20)
        #expect(abs(term - 762.8) < 1)
        let r = try rule("""
            - id: nesterov
              condition: { kind: derived, index: nesterov }
              levels:
                blue: { at_least: 300 }
                yellow: { at_least: 1000 }
                orange: { at_least: 4000 }
                red: { at_least: 10000 }
              clear_after: 1h
            """)
        let engine = AlertEngine(rules: [r], options: EngineOptions(lateAfter: nil))
        engine.setDevices([(device("aws-1", domain: .weather), nil)])
        var all: [AlertLevelChange] = []
        for h in Int64(0)..<(6 * 24 + 5) {
            let ts = t0 + h * hour
            let rain = h == 6 * 24 + 3 ? 5.0 : 0
            let readings = [("air_temp", 30.0), ("relative_humidity", 20.0), ("rainfall", rain)].map {
                Reading(device: "aws-1", metric: $0.0, timestamp: ts, value: $0.1)
            }
            let out = try engine.evaluate(readings: readings, now: ts, history: { $0.map { _ in [] } })
            engine.committed(out)
            all += out.changes
        }
        // Day k counts k + 1 terms of 762.8: blue on day 0, yellow on day 1, orange on day 5
        // (4577); 5 mm on day 6 at 03:00 resets it to 0, cleared an hour later.
        #expect(steps(all) == [Step(0, nil, .blue), Step(1440, .blue, .yellow), Step(7200, .yellow, .orange), Step(8880, .orange, nil)])
    }

    @Test("silence: k × the interval without data, then data again; an offline last will raises yellow at once")
    func silence() throws {
        let r = try rule("""
            - id: silent
              condition: { kind: silence, interval: 5m, offline: yellow }
              levels:
                blue: { at_least: 3 }
                yellow: { at_least: 12 }
            """)
        let engine = AlertEngine(rules: [r])
        let d = device()
        engine.setDevices([(d, t0)])
        var all: [AlertLevelChange] = []
        func keep(_ out: EvaluationOutput) {
            engine.committed(out)
            all += out.changes
        }
        keep(engine.checkSilence(now: t0 + 14 * minute))
        keep(engine.checkSilence(now: t0 + 15 * minute))
        keep(engine.checkSilence(now: t0 + 59 * minute))
        keep(engine.checkSilence(now: t0 + 60 * minute))
        keep(try engine.evaluate(readings: [], seen: [d.id: t0 + 61 * minute], now: t0 + 61 * minute, history: { _ in [] }))
        keep(try engine.evaluate(readings: [], presence: [d.id: (true, t0 + 62 * minute)], now: t0 + 62 * minute, history: { _ in [] }))
        keep(engine.checkSilence(now: t0 + 62 * minute + 30_000))
        keep(try engine.evaluate(readings: [], presence: [d.id: (false, t0 + 63 * minute)], now: t0 + 63 * minute, history: { _ in [] }))
        #expect(steps(all) == [Step(15, nil, .blue), Step(60, .blue, .yellow), Step(61, .yellow, nil), Step(62, nil, .yellow), Step(63, .yellow, nil)])
        #expect(all[3].message.contains("离线"))
    }

    @Test("data quality: outside the plausible range, and a value stuck for N reports")
    func dataQuality() throws {
        let range = try rule("""
            - id: do-range
              metric: dissolved_oxygen
              condition: { kind: range, min: 0.1, max: 20 }
              level: blue
            """)
        #expect(steps(try changes([range], metric: "dissolved_oxygen", [(0, 5), (1, 25), (2, 24), (3, 6), (4, 0.05), (5, 7)]))
            == [Step(1, nil, .blue), Step(3, .blue, nil), Step(4, nil, .blue), Step(5, .blue, nil)])
        let stuck = try rule("""
            - id: do-stuck
              metric: dissolved_oxygen
              condition: { kind: stuck, reports: 4 }
              level: blue
            """)
        #expect(steps(try changes([stuck], metric: "dissolved_oxygen", [(0, 5), (1, 5.2), (2, 5.2), (3, 5.2), (4, 5.2), (5, 5.2), (6, 5.3)]))
            == [Step(4, nil, .blue), Step(6, .blue, nil)])
    }

    @Test("per-device overrides: a gauge's own stages replace the rule's; a gauge not named gets nothing")
    func perDeviceOverrides() throws {
        let r = try rule("""
            - id: stage
              metric: water_level
              condition: { kind: threshold }
              devices:
                gauge-a:
                  yellow: { at_least: 12.5 }
                  orange: { at_least: 13.8 }
            """)
        let series: [(Int64, Double)] = [(0, 12.0), (1, 12.6), (2, 14.0)]
        #expect(steps(try changes([r], device: device("gauge-a", domain: .flood), metric: "water_level", series))
            == [Step(1, nil, .yellow), Step(2, .yellow, .orange)])
        #expect(try changes([r], device: device("gauge-b", domain: .flood), metric: "water_level", series).isEmpty)
    }

    @Test("readings older than late_after raise alerts marked late")
    func lateReadings() throws {
        let r = try rule("""
            - id: stage
              metric: water_level
              condition: { kind: threshold }
              levels:
                yellow: { at_least: 1 }
            """)
        let engine = AlertEngine(rules: [r], options: EngineOptions(lateAfter: hour))
        engine.setDevices([(device(), nil)])
        let old = Reading(device: "dev-1", metric: "water_level", timestamp: t0, value: 2)
        let out = try engine.evaluate(readings: [old], now: t0 + 2 * hour, history: { _ in [] })
        #expect(out.changes.count == 1)
        #expect(out.changes.first?.late == true)
    }
}
