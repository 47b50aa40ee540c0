import Testing
@testable import ShennongCore

/// A sonde-like profile exercising scale, offset, ignore and pass-through.
let testProfile = DeviceProfile(
    name: "test-sonde", domain: .water, description: "测试 — test profile", expectedInterval: 300,
    fields: [
        "DO": FieldMapping(metric: "dissolved_oxygen"),
        "Cond": FieldMapping(metric: "conductivity", scale: 1000, unit: "mS/cm"),
        "level_cm": FieldMapping(metric: "water_level", scale: 0.01, offset: 12.5, unit: "cm"),
        "relay": FieldMapping(metric: "aerator_on"),
        "Huge": FieldMapping(metric: "turbidity", scale: 1e300),
    ],
    ignore: ["seq", "sn"]
)

@Suite("Payload decoder: forms")
struct PayloadFormTests {
    static let t0: Int64 = 1_763_707_200_000  // 2025-11-21T06:40:00Z

    @Test(arguments: ["1763707200000", "1763707200", "\"2025-11-21T06:40:00Z\"", "\"2025-11-21T14:40:00+08:00\"",
                      "\"1763707200\"", "1763707200.000"])
    func envelopeWithEveryTimestampKind(ts: String) {
        let r = decode(#"{"ts": \#(ts), "values": {"dissolved_oxygen": 5.2, "ph": 7.1}}"#)
        #expect(r.rejections.isEmpty)
        #expect(r.form == .envelope)
        #expect(r.readings == [
            Reading(device: "dev-1", metric: "dissolved_oxygen", timestamp: Self.t0, value: 5.2),
            Reading(device: "dev-1", metric: "ph", timestamp: Self.t0, value: 7.1),
        ])
    }

    @Test func envelopeWithoutTimestampUsesReceiveTime() {
        let r = decode(#"{"values": {"ph": 7.1}, "device": "x"}"#)
        #expect(r.rejections.isEmpty)
        #expect(r.readings == [Reading(device: "dev-1", metric: "ph", timestamp: receivedAt, value: 7.1)])
    }

    @Test func envelopeAcceptsTimeAliases() {
        #expect(decode(#"{"time": 1763707200, "values": {"ph": 7}}"#).readings.first?.timestamp == Self.t0)
        #expect(decode(#"{"timestamp": 1763707200, "values": {"ph": 7}}"#).readings.first?.timestamp == Self.t0)
        // "ts" wins over the others.
        #expect(decode(#"{"time": 1, "ts": 1763707200, "values": {"ph": 7}}"#).readings.first?.timestamp == Self.t0)
    }

    @Test func flatObjectIsStampedWithReceiveTime() {
        let r = decode(#"{"dissolved_oxygen": 5.2, "ph": 7.1}"#)
        #expect(r.form == .flat)
        #expect(r.rejections.isEmpty)
        #expect(r.readings.map(\.timestamp) == [receivedAt, receivedAt])
        #expect(r.values == ["dissolved_oxygen": 5.2, "ph": 7.1])
    }

    @Test(arguments: ["ts", "time", "timestamp"])
    func flatObjectUsesItsOwnTimestamp(key: String) {
        let r = decode(#"{"\#(key)": "2025-11-21T06:40:00Z", "ph": 7.1}"#)
        #expect(r.rejections.isEmpty)
        #expect(r.readings == [Reading(device: "dev-1", metric: "ph", timestamp: Self.t0, value: 7.1)])
    }

    @Test func backfillArrayKeepsEachRecordsTime() {
        let r = decode(#"""
        [{"ts": 1763707200000, "values": {"water_temp": 24.1}},
         {"ts": 1763707500000, "values": {"water_temp": 24.3, "ph": 7.2}},
         {"ts": "2025-11-21T06:50:00Z", "values": {"water_temp": 24.6}}]
        """#)
        #expect(r.form == .backfill)
        #expect(r.rejections.isEmpty)
        #expect(r.readings.map(\.timestamp) == [Self.t0, Self.t0 + 300_000, Self.t0 + 300_000, Self.t0 + 600_000])
        #expect(r.readings.map(\.value) == [24.1, 24.3, 7.2, 24.6])
    }

    @Test func backfillBadElementDoesNotLoseTheOthers() {
        let r = decode(#"[{"ts": 1763707200, "values": {"ph": 7}}, 42, {"ts": "soon", "values": {"ph": 8}}, {"ts": 1763707260, "values": {"ph": 7.5}}]"#)
        #expect(r.readings.map(\.value) == [7, 7.5])
        #expect(r.codes == [.unsupportedPayload, .badTimestamp])
        #expect(r.rejections[0].message.hasPrefix("record [1]: "))
        #expect(r.rejections[1].message.hasPrefix("record [2]: "))
        #expect(r.rejections[1].field == "ts")
    }

    @Test func profileMapsScalesOffsetsAndIgnores() {
        let r = decode(#"{"DO": 6.4, "Cond": 0.412, "level_cm": 235.4, "seq": 17, "sn": "A1", "ph": 7.3, "relay": true}"#,
                       profile: testProfile)
        #expect(r.rejections.isEmpty)
        #expect(r.values == [
            "dissolved_oxygen": 6.4, "conductivity": 412, "water_level": 14.854, "ph": 7.3, "aerator_on": 1,
        ])
    }

    @Test func canonicalPassThroughCanBeTurnedOff() {
        var profile = testProfile
        profile.passThroughCanonical = false
        let r = decode(#"{"DO": 6.4, "ph": 7.3}"#, profile: profile)
        #expect(r.values == ["dissolved_oxygen": 6.4])
        #expect(r.codes == [.unknownMetric])
        #expect(r.rejections.first?.field == "ph")
    }

    @Test func numericStringsAreAccepted() {
        let r = decode(#"{"ph": "7.12", "DO": "5", "Cond": "0.5"}"#, profile: testProfile)
        #expect(r.rejections.isEmpty)
        #expect(r.values == ["ph": 7.12, "dissolved_oxygen": 5, "conductivity": 500])
    }

    @Test func duplicateFieldKeepsTheLastValue() {
        let r = decode(#"{"ph": 7.0, "ph": 7.4}"#)
        #expect(r.readings == [Reading(device: "dev-1", metric: "ph", timestamp: receivedAt, value: 7.4)])
    }

    @Test func decodesFromRawBytesAndParsedValues() throws {
        let bytes = Array(#"{"ph": 7.1}"#.utf8)
        let viaPointer = bytes.withUnsafeBytes {
            PayloadDecoder.decode($0, device: "d", profile: .generic, receivedAt: receivedAt)
        }
        let viaValue = PayloadDecoder.decode(try JSONParser.parse(bytes), device: "d", profile: .generic, receivedAt: receivedAt)
        #expect(viaPointer == viaValue)
        #expect(viaPointer.readings.first?.value == 7.1)
    }
}

@Suite("Payload decoder: rejections")
struct PayloadRejectionTests {
    @Test func payloadTooLargeIsNotParsed() {
        let mib = [UInt8](repeating: 0x20, count: 1 << 20)  // 1 MiB of spaces: not even valid JSON
        let r = PayloadDecoder.decode(mib, device: "dev-1", profile: .generic, receivedAt: receivedAt)
        #expect(r.codes == [.payloadTooLarge])
        #expect(r.readings.isEmpty)
        #expect(r.rejections[0].message.contains("1048576"))
        #expect(r.rejections[0].message.contains("262144"))
        // Just at the limit it is parsed.
        let options = DecodeOptions(maxPayloadBytes: 11)
        #expect(decode(#"{"ph": 7.1}"#, options: options).readings.count == 1)
        #expect(decode(#"{"ph": 7.10}"#, options: options).codes == [.payloadTooLarge])
    }

    @Test(arguments: [#"{"ph": NaN}"#, #"{"ph": Infinity}"#, #"{"ph": -Infinity}"#, #"{"ph": 7.1,}"#, "{\"ph\": 07}", "", "not json", #"{"ph": 7.1} x"#])
    func malformedJSON(text: String) {
        let r = decode(text)
        #expect(r.codes == [.malformedJSON])
        #expect(r.readings.isEmpty)
        #expect(r.rejections[0].message.hasPrefix("payload is not valid JSON: "))
        #expect(r.form == nil)
    }

    @Test func nanMessageNamesTheProblem() {
        let r = decode(#"{"ph": NaN}"#)
        #expect(r.rejections[0].message == "payload is not valid JSON: NaN is not valid JSON; JSON numbers must be finite (byte 7)")
    }

    @Test(arguments: ["42", "\"hello\"", "true", "null", "{}", #"{"values": {}}"#, #"{"ts": 1763707200}"#, "[]", "[1, 2]",
                      #"[{"a": 1}]"#, #"{"values": [1, 2]}"#])
    func unsupportedPayload(text: String) {
        let r = decode(text)
        #expect(r.codes == [.unsupportedPayload], "\(text)")
        #expect(r.readings.isEmpty)
    }

    @Test func ignoredFieldsOnlyIsNotAnError() {
        let r = decode(#"{"seq": 12}"#, profile: testProfile)
        #expect(r.readings.isEmpty)
        #expect(r.rejections.isEmpty)
    }

    @Test func unknownMetricKeepsGoodFields() {
        let r = decode(#"{"ph": 7.1, "foo": 3, "DO": 5}"#)
        #expect(r.values == ["ph": 7.1])
        #expect(r.codes == [.unknownMetric, .unknownMetric])
        #expect(r.rejections.map(\.field) == ["foo", "DO"])
        #expect(r.rejections[0].message.contains(#"field "foo""#))
        #expect(r.rejections[0].message.contains("generic"))
    }

    @Test(arguments: [
        (#""high""#, "is a string"), ("null", "null"), ("[7]", "array"), (#"{"v": 7}"#, "object"), ("true", "boolean"),
        (#"" 7""#, "is a string"), (#""7,1""#, "is a string"),
    ])
    func wrongTypeKeepsGoodFields(value: String, mentions: String) {
        let r = decode(#"{"water_temp": 25, "ph": \#(value), "flame": false}"#)
        #expect(r.values == ["water_temp": 25, "flame": 0])
        #expect(r.codes == [.wrongType])
        #expect(r.rejections[0].field == "ph")
        #expect(r.rejections[0].message.hasPrefix(#"field "ph": value "#))
        #expect(r.rejections[0].message.contains(mentions))
    }

    @Test func booleansOnlyForBinaryMetrics() {
        let r = decode(#"{"flame": true, "aerator_on": false, "smoke": true}"#)
        #expect(r.values == ["flame": 1, "aerator_on": 0])
        #expect(r.codes == [.wrongType])
        #expect(r.rejections[0].field == "smoke")
    }

    @Test func nonFiniteAfterScaling() {
        let r = decode(#"{"Huge": 1e10, "ph": 7}"#, profile: testProfile)
        #expect(r.values == ["ph": 7])
        #expect(r.codes == [.nonFinite])
        #expect(r.rejections[0].field == "Huge")
        #expect(r.rejections[0].message.contains("1e+10") || r.rejections[0].message.contains("10000000000"))
    }

    @Test func outOfRangeKeepsGoodFields() {
        let r = decode(#"{"ph": 15.3, "dissolved_oxygen": 5.2, "water_temp": -6}"#)
        #expect(r.values == ["dissolved_oxygen": 5.2])
        #expect(r.codes == [.outOfRange, .outOfRange])
        #expect(r.rejections[0].message == #"field "ph": value 15.3 is outside the physical range 0…14"#)
        #expect(r.rejections[1].message == #"field "water_temp": value -6 is outside the physical range -5…50 °C"#)
    }

    @Test func outOfRangeAfterScalingShowsBothValues() {
        let r = decode(#"{"Cond": 250}"#, profile: testProfile)
        #expect(r.codes == [.outOfRange])
        #expect(r.rejections[0].message.contains("value 250 (250000 µS/cm conductivity after conversion)"))
    }

    @Test func rangeBoundsAreInclusive() {
        #expect(decode(#"{"ph": 14, "rssi": 0, "water_temp": -5}"#).rejections.isEmpty)
    }

    @Test func badTimestampRejectsTheRecordOnly() {
        let r = decode(#"{"ts": "yesterday", "values": {"ph": 7}}"#)
        #expect(r.codes == [.badTimestamp])
        #expect(r.readings.isEmpty)
        #expect(r.rejections[0].field == "ts")
        #expect(r.rejections[0].message.contains(#""yesterday""#))
        #expect(decode(#"{"ts": true, "ph": 7}"#).codes == [.badTimestamp])
        #expect(decode(#"{"ts": null, "ph": 7}"#).codes == [.badTimestamp])
    }

    @Test func timestampTenYearsAheadIsFuture() {
        let tenYears: Int64 = 10 * 365 * 86_400_000
        let r = decode(#"{"ts": \#(receivedAt + tenYears), "values": {"ph": 7}}"#)
        #expect(r.codes == [.futureTimestamp])
        #expect(r.readings.isEmpty)
        #expect(r.rejections[0].message.contains("2035-"))
        #expect(r.rejections[0].message.contains("1 h"))
    }

    @Test func futureSkewBoundary() {
        #expect(decode(#"{"ts": \#(receivedAt + 3_600_000), "ph": 7}"#).rejections.isEmpty)
        #expect(decode(#"{"ts": \#(receivedAt + 3_600_001), "ph": 7}"#).codes == [.futureTimestamp])
        let strict = DecodeOptions(maxFutureSkew: 60_000)
        #expect(decode(#"{"ts": \#(receivedAt + 60_001), "ph": 7}"#, options: strict).codes == [.futureTimestamp])
    }

    @Test func timestampBefore2000IsTooOld() {
        #expect(decode(#"{"ts": "1999-12-31T23:59:59Z", "ph": 7}"#).codes == [.tooOld])
        #expect(decode(#"{"ts": 946684800, "ph": 7}"#).rejections.isEmpty)
        #expect(decode(#"{"ts": 0, "ph": 7}"#).codes == [.tooOld])
    }

    @Test func everyFieldRejectionInOneMessage() {
        let r = decode(#"{"DO": 5.5, "ph": 15, "foo": 1, "water_temp": "hot", "Huge": 1e10, "flame": 1}"#, profile: testProfile)
        #expect(r.values == ["dissolved_oxygen": 5.5, "flame": 1])
        #expect(Set(r.codes) == [.outOfRange, .unknownMetric, .wrongType, .nonFinite])
        #expect(r.rejections.allSatisfy { $0.field != nil })
    }

    @Test func neverCrashesOnOddInput() {
        let inputs = ["[[[[", "{\"values\": null}", "[{\"values\": 3}]", "[null]", "[{\"n\": 5}]", "[{\"bn\": 1, \"v\": 1}]",
                      "{\"ts\": 1e18, \"ph\": 1}", "{\"ts\": -1e18, \"ph\": 1}", "{\"ts\": 9.3e18, \"ph\": 1}",
                      "[{\"t\": 1e300, \"n\": \"ph\", \"v\": 7}]", "[{\"n\": \"ph\", \"v\": 1e308, \"bv\": 1e308}]"]
        for text in inputs {
            let r = decode(text)
            #expect(!r.rejections.isEmpty || !r.readings.isEmpty, "\(text)")
        }
    }
}
