import Foundation
import Logging
import MosquittoClient
import ShennongServer
import ShennongTestSupport
import Testing

/// /metrics as a Prometheus scraper reads it, and the JSON log format.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ObservabilityIntegrationTests {
    @Test("/metrics parses with the Prometheus client's parser and its counters move as messages arrive")
    func metricsMoveWithTraffic() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()

        let before = try PrometheusText.parse(try await server.text("/metrics"))
        let received0 = before.value("shennong_messages_received_total") ?? 0
        let stored0 = before.value("shennong_readings_stored_total") ?? 0
        let malformed0 = before.value("shennong_messages_rejected_total", ["reason": "malformed_json"]) ?? 0

        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-metrics", cleanSession: true))
        try publisher.connect()
        for i in 0..<20 {
            try publisher.publish(
                topic: "agri/metrics-\(i % 4)/telemetry",
                payload: Array(#"{"ts": \#(1_763_700_000_000 + Int64(i) * 1000), "values": {"water_temp": 21.5, "ph": 7.25}}"#.utf8))
        }
        try publisher.publish(topic: "agri/metrics-0/telemetry", payload: Array("{not json".utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()
        #expect(await eventually(timeout: 15) { (try? server.storedReadings()) == 40 })

        // Counters are updated after the commit: wait until the scrape shows all 21 messages.
        var after: [PrometheusText.Sample] = []
        #expect(await eventually(timeout: 10) {
            after = (try? PrometheusText.parse(try await server.text("/metrics"))) ?? []
            return (after.value("shennong_messages_received_total") ?? 0) - received0 == 21
        })
        #expect((after.value("shennong_readings_stored_total") ?? 0) - stored0 == 40)
        #expect((after.value("shennong_messages_rejected_total", ["reason": "malformed_json"]) ?? 0) - malformed0 == 1)
        #expect((after.value("shennong_commits_total") ?? 0) >= 1)
        // Histograms: commit latency and ingest lag have observations; freshness gauges are set.
        #expect((after.value("shennong_commit_seconds_count") ?? 0) >= 1)
        #expect((after.value("shennong_ingest_lag_seconds_count") ?? 0) >= 1)
        #expect((after.value("shennong_last_commit_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970 - 120)
        // The 2025 readings are about a year old at commit.
        #expect((after.value("shennong_ingest_reading_age_seconds") ?? 0) > 86_400)
        // HTTP requests are measured too (the scrapes above).
        #expect(after.contains { $0.name.hasPrefix("http_request") || $0.name.hasPrefix("hb_request") })
        #expect(server.terminate() == 0)
    }

    @Test("--log-format json writes one JSON object per line with level, label, message and metadata")
    func jsonLogLines() throws {
        let lines = LockedLines()
        var handler = JSONLogHandler(label: "shennong.test", stream: { lines.append($0) })
        handler.logLevel = .info
        handler[metadataKey: "device"] = "pond-07"
        let logger = Logger(label: "shennong.test", factory: { _ in handler })
        logger.debug("hidden")
        logger.warning("水位上涨 \"fast\"", metadata: ["level": "orange", "rule": "river-stage"])
        let written = lines.all
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "水位上涨 \"fast\"")
        #expect(object["level"] == "warning")
        #expect(object["label"] == "shennong.test")
        #expect(object["device"] == "pond-07" && object["rule"] == "river-stage")
        #expect(object["meta_level"] == "orange")  // a metadata key colliding with a fixed one keeps its value
        #expect(object["ts"]?.hasSuffix("Z") == true)
    }
}

final class LockedLines: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
