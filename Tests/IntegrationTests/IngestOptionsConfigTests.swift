import ShennongIngest
import ShennongServer
import Testing

/// The server's `ingest:` section and the ingest module's options: one mapping, same defaults.
struct IngestOptionsConfigTests {
    @Test("ServerConfig.Ingest maps to IngestOptions key for key; the defaults agree")
    func mapping() throws {
        #expect(ServerConfig.Ingest().options == IngestOptions())
        let config = try ServerConfig.parse(
            yaml: """
                ingest: { unknown_devices: reject, default_profile: soil-probe, max_payload_bytes: 1000,
                          max_future_skew_seconds: 60, max_batch: 7 }
                """, source: "test")
        #expect(
            config.ingest.options
                == IngestOptions(
                    unknownDevices: .reject, defaultProfile: "soil-probe", maxPayloadBytes: 1000, maxFutureSkewSeconds: 60,
                    maxBatch: 7))
        #expect(try ServerConfig.parse(yaml: "ingest: { unknown_devices: register }", source: "test").ingest.options.unknownDevices == .register)
    }
}
