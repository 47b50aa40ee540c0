import ShennongCore
import Testing

struct GatewayMappingTests {
    static let pond = DeviceProfile(
        name: "pond", domain: .water, description: "池塘", expectedInterval: 60,
        fields: ["do": FieldMapping(metric: "dissolved_oxygen")])
    static let dtu = DeviceProfile(
        name: "dtu", domain: .water, description: "网关", expectedInterval: 60,
        gateway: GatewayMapping(childrenKey: "devices", childID: "{key}", childProfile: "pond"))
    static let receivedAt: Int64 = 1_763_707_500_000

    func decode(_ text: String, profile: DeviceProfile = dtu, device: String = "dtu-1") -> (DecodeResult, [String]) {
        PayloadDecoder.decodeMessage(
            Array(text.utf8), device: device, profile: profile, receivedAt: Self.receivedAt, profileOf: { _ in Self.pond })
    }

    @Test func childrenTakeTheMessageTimeUnlessTheyCarryTheirOwn() {
        let (r, children) = decode(
            #"{"ts": 1763707200000, "devices": {"p1": {"do": 5.5}, "p2": {"ts": 1763707140000, "values": {"do": 4.25}}}}"#)
        #expect(r.rejections.isEmpty)
        #expect(children == ["p1", "p2"])
        #expect(r.readings == [
            Reading(device: "p1", metric: "dissolved_oxygen", timestamp: 1_763_707_200_000, value: 5.5),
            Reading(device: "p2", metric: "dissolved_oxygen", timestamp: 1_763_707_140_000, value: 4.25),
        ])
    }

    @Test func aChildWithoutAnyTimeIsStampedWithTheReceiveTime() {
        let (r, _) = decode(#"{"devices": {"p1": {"do": 6}}}"#)
        #expect(r.readings == [Reading(device: "p1", metric: "dissolved_oxygen", timestamp: Self.receivedAt, value: 6)])
    }

    @Test func aBackfillOfGatewayMessagesGivesEachChildItsRecordsInOrder() {
        let (r, children) = decode(
            #"[{"ts": 1763707080000, "devices": {"p1": {"do": 5}}}, {"ts": 1763707140000, "devices": {"p1": {"do": 5.25}, "p2": {"do": 3}}}]"#)
        #expect(r.rejections.isEmpty)
        #expect(children == ["p1", "p2"])
        #expect(r.readings.map(\.timestamp) == [1_763_707_080_000, 1_763_707_140_000, 1_763_707_140_000])
        #expect(r.readings.map(\.device) == ["p1", "p1", "p2"])
    }

    @Test func templatedChildIDsNameTheGateway() {
        let probe = DeviceProfile(
            name: "probe", domain: .soil, description: "剖面", expectedInterval: 1800,
            gateway: GatewayMapping(childrenKey: "depths", childID: "{device}-{key}cm", childProfile: "soil"))
        let (r, children) = PayloadDecoder.decodeMessage(
            Array(#"{"ts": 1763707200, "depths": {"10": {"soil_moisture": 18.5}, "40": {"soil_moisture": 29}}}"#.utf8),
            device: "st-01", profile: probe, receivedAt: Self.receivedAt, profileOf: { _ in .generic })
        #expect(r.rejections.isEmpty)
        #expect(children == ["st-01-10cm", "st-01-40cm"])
        #expect(r.readings.map(\.value) == [18.5, 29])
    }

    @Test func badChildrenAreRejectedByNameWhileGoodOnesAreKept() {
        let (r, children) = decode(
            #"{"ts": 1763707200000, "devices": {"p1": {"do": 5}, "bad id!": {"do": 1}, "p3": 7, "p4": {"do": "x"}}}"#)
        #expect(children == ["p1", "p4"])
        #expect(r.readings.map(\.device) == ["p1"])
        #expect(r.rejections.map(\.code) == [.invalidDeviceID, .unsupportedPayload, .wrongType])
        #expect(r.rejections[2].message.hasPrefix("child p4: "))
    }

    @Test(arguments: [
        (#"{"ts": 1763707200000, "values": {"do": 5}}"#, RejectCode.unsupportedPayload),
        (#"{"devices": []}"#, .unsupportedPayload),
        (#"{"devices": {}}"#, .unsupportedPayload),
        (#"[1, 2]"#, .unsupportedPayload),
        (#"7"#, .unsupportedPayload),
        (#"{"devices": {"p1": {"do": 5}"#, .malformedJSON),
    ])
    func messagesThatAreNotGatewayMessagesAreRejected(text: String, code: RejectCode) {
        let (r, _) = decode(text)
        #expect(r.readings.isEmpty)
        #expect(!r.rejections.isEmpty)
        #expect(r.rejections.allSatisfy { $0.code == code }, "\(r.rejections)")
    }

    @Test func profilesRefuseAChildIDWithoutTheKey() {
        let yaml = "name: g\ndomain: water\ndescription: 网关\nexpected_interval: 60\ngateway:\n  child_id: fixed\n"
        #expect(throws: DeviceProfileError.self) { try DeviceProfile.parse(yaml: yaml, sourceName: "g.yaml") }
    }
}
