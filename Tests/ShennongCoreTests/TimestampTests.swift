import Testing
@testable import ShennongCore

@Suite("Timestamps")
struct TimestampTests {
    /// 2025-11-21T06:40:00Z.
    static let t0: Int64 = 1_763_707_200_000

    @Test(arguments: [
        ("2025-11-21T06:40:00Z", t0),
        ("2025-11-21t06:40:00z", t0),
        ("2025-11-21 06:40:00Z", t0),
        ("2025-11-21T14:40:00+08:00", t0),
        ("2025-11-21T14:40:00+0800", t0),
        ("2025-11-21T01:10:00-05:30", t0),
        ("2025-11-21T06:40:00.5Z", t0 + 500),
        ("2025-11-21T06:40:00.123Z", t0 + 123),
        ("2025-11-21T06:40:00.123999Z", t0 + 123),
        ("2025-11-21T14:40:00.250+08:00", t0 + 250),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000),
    ])
    func parsesRFC3339(text: String, expected: Int64) {
        #expect(Timestamp.milliseconds(from: text) == expected)
        #expect(Timestamp.milliseconds(from: JSONValue.string(text)) == expected)
    }

    @Test(arguments: [
        "2025-11-21T06:40:00", "2025-11-21", "2025-11-21T06:40Z", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2025-11-31T00:00:00Z", "2025-11-21T24:00:00Z", "2025-11-21T06:60:00Z", "2025-11-21T06:40:00.Z",
        "2025-11-21T06:40:00+8:00", "2025-11-21T06:40:00+24:00", "2025-11-21X06:40:00Z", "2025/11/21T06:40:00Z",
        "2025-11-21T06:40:00Z ", " 2025-11-21T06:40:00Z", "yesterday", "", "1763707200 ", "0x10", "NaN", "1e400",
    ])
    func rejectsInvalidText(text: String) {
        #expect(Timestamp.milliseconds(from: text) == nil, "\(text)")
    }

    @Test(arguments: [
        (1_763_707_200.0, t0),            // epoch seconds
        (1_763_707_200_000.0, t0),        // epoch milliseconds
        (1_763_707_200.25, t0 + 250),     // fractional seconds
        (1_763_707_200_000.4, t0),        // fractional ms rounds
        (99_999_999_999.0, 99_999_999_999_000),  // just below 1e11: seconds
        (100_000_000_000.0, 100_000_000_000),    // at 1e11: milliseconds
        (0.0, 0),
    ])
    func parsesEpochNumbers(value: Double, expected: Int64) {
        #expect(Timestamp.milliseconds(fromEpoch: value) == expected)
        #expect(Timestamp.milliseconds(from: JSONValue.number(value)) == expected)
    }

    @Test func parsesNumericStrings() {
        #expect(Timestamp.milliseconds(from: "1763707200") == Self.t0)
        #expect(Timestamp.milliseconds(from: "1763707200000") == Self.t0)
        #expect(Timestamp.milliseconds(from: "1763707200.5") == Self.t0 + 500)
        #expect(Timestamp.milliseconds(from: JSONValue.bool(true)) == nil)
        #expect(Timestamp.milliseconds(from: JSONValue.null) == nil)
        #expect(Timestamp.milliseconds(fromEpoch: .infinity) == nil)
        #expect(Timestamp.milliseconds(fromEpoch: 1e300) == nil)
    }

    @Test(arguments: [
        (t0, "2025-11-21T06:40:00.000Z"),
        (t0 + 7, "2025-11-21T06:40:00.007Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsRFC3339(ms: Int64, expected: String) {
        #expect(Timestamp.format(ms) == expected)
        #expect(Timestamp.milliseconds(from: expected) == ms)
    }

    @Test func formatRoundTripsAcrossCenturies() {
        // Every 1 000 003 minutes from 1900 to 2200, plus odd milliseconds.
        var ms: Int64 = -2_208_988_800_000
        while ms < 7_258_118_400_000 {
            let text = Timestamp.format(ms)
            #expect(Timestamp.milliseconds(from: text) == ms, "\(text)")
            ms += 60_000_180_017
        }
        #expect(Timestamp.format(300_000_000_000_000).hasPrefix("+011476-"))
    }

    @Test func civilDaysMatchKnownDates() {
        #expect(Timestamp.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(Timestamp.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
        #expect(Timestamp.civilFromDays(20_413) == (2025, 11, 21))
        #expect(Timestamp.civilFromDays(-719_468) == (0, 3, 1))
    }
}
