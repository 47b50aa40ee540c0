/// Feeds one untrusted input through every decoder of device data and checks what must hold
/// for any input: the libFuzzer target (`Sources/ShennongFuzz`, `make fuzz`) and the
/// regression test over `Tests/FuzzCorpus` both call ``run(_:)``.
///
/// The input is tried as a JSON document (parse, then serialise and parse again: the same
/// value must come back), as an MQTT payload of every profile given — plain, SenML and
/// gateway profiles (`PayloadDecoder.decodeMessage`) — as a device CSV file (`DeviceCSV`)
/// and as a time (`Timestamp`). A broken invariant stops the process with a message
/// (`preconditionFailure`), which libFuzzer reports as a crash with the input that caused it.
package struct DecoderFuzzHarness: Sendable {
    /// The profiles each payload is decoded with (the repository's devices/*.yaml, say).
    package let profiles: [DeviceProfile]
    private let domains: [String: Domain?]
    /// The receive time of every decoded payload: 2025-11-21T06:45:00Z.
    package static let receivedAt: Int64 = 1_763_707_500_000

    package init(profiles: [DeviceProfile]) {
        var all = profiles
        if !all.contains(where: { $0.name == DeviceProfile.generic.name }) { all.append(.generic) }
        self.profiles = all
        domains = Dictionary(all.map { ($0.name, $0.domain) }, uniquingKeysWith: { first, _ in first })
    }

    /// Runs `bytes` through every decoder; returns the number of readings decoded in all.
    @discardableResult
    package func run(_ bytes: UnsafeRawBufferPointer) -> Int {
        checkJSONRoundTrip(bytes)
        var decoded = 0
        let payload = Array(bytes)
        let byName = Dictionary(profiles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for profile in profiles {
            let (result, children) = PayloadDecoder.decodeMessage(
                payload, device: "fuzz-device", profile: profile, receivedAt: Self.receivedAt,
                profileOf: { _ in profile.gateway.flatMap { byName[$0.childProfile] } })
            check(result, children: children, profile: profile)
            decoded += result.readings.count
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if case .success(let devices) = DeviceCSV.parse(text, createdAt: Self.receivedAt, profileDomain: { domains[$0] }) {
            for device in devices where !Device.isValidID(device.id) {
                preconditionFailure("DeviceCSV accepted an invalid device id \(String(reflecting: device.id))")
            }
        }
        _ = Timestamp.milliseconds(from: text)
        return decoded
    }

    /// A document that parses must serialise to text that parses back to the same value.
    private func checkJSONRoundTrip(_ bytes: UnsafeRawBufferPointer) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        let text = value.description
        let again: JSONValue
        do {
            again = try JSONParser.parse(text)
        } catch {
            preconditionFailure("serialised JSON does not parse again: \(error) in \(text.prefix(200))")
        }
        precondition(again == value, "JSON round trip changed the value: \(text.prefix(200))")
    }

    /// What every decode result must satisfy, whatever the payload.
    private func check(_ result: DecodeResult, children: [String], profile: DeviceProfile) {
        for reading in result.readings {
            guard let metric = MetricCatalogue.metric(named: reading.metric) else {
                preconditionFailure("profile \(profile.name) produced unknown metric \(reading.metric)")
            }
            precondition(reading.value.isFinite, "profile \(profile.name) produced a non-finite \(reading.metric)")
            precondition(metric.accepts(reading.value), "profile \(profile.name): \(reading.metric) \(reading.value) is out of range")
            precondition(Device.isValidID(reading.device), "reading for invalid device id \(String(reflecting: reading.device))")
            precondition(reading.timestamp >= DecodeOptions().minimumTimestamp, "reading stamped before the minimum: \(reading.timestamp)")
            precondition(
                reading.timestamp <= Self.receivedAt + DecodeOptions().maxFutureSkew,
                "reading stamped beyond the allowed skew: \(reading.timestamp)")
            if profile.gateway == nil {
                precondition(reading.device == "fuzz-device", "a plain profile produced a reading of \(reading.device)")
            } else {
                precondition(children.contains(reading.device), "gateway reading of \(reading.device), not one of its children")
            }
        }
        for rejection in result.rejections {
            precondition(!rejection.message.isEmpty, "a rejection without a reason (\(rejection.code))")
        }
    }
}
