import ShennongIngest
import Testing

/// Topic parsing on the ingest hot path (byte for byte).
struct TopicSchemeTests {
    let scheme = TopicScheme(prefix: "agri/")

    @Test("device and kind of telemetry and status topics; anything else is not ours")
    func parse() {
        #expect(scheme.prefix == "agri")
        #expect(scheme.parse("agri/pond-01/telemetry").map { "\($0.device) \($0.kind)" } == "pond-01 telemetry")
        #expect(scheme.parse("agri/pond-01/status").map { "\($0.device) \($0.kind)" } == "pond-01 status")
        // The device part comes back even when it is not a valid id, so the reject can name it.
        #expect(scheme.parse("agri/a/b/telemetry")?.device == "a/b")
        #expect(scheme.parse("agri/设备/telemetry")?.device == "设备")
        #expect(scheme.parse("agri//telemetry")?.device == "")
        for topic in [
            "agri/pond-01/telemetryx", "agri/pond-01/Telemetry", "agri/pond-01/", "agri/telemetry", "agrix/pond-01/telemetry",
            "agri", "agri/", "", "other/pond-01/telemetry", "/agri/pond-01/telemetry", "agri/pond-01/status/x",
        ] {
            #expect(scheme.parse(topic) == nil, "\(topic)")
        }
        #expect(TopicScheme(prefix: "a/b").parse("a/b/dev/status")?.device == "dev")
        #expect(TopicScheme(prefix: "a/b").parse("a/dev/status") == nil)
    }
}
