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

    @Test("shennong_alerts_open{level} follows alerts raised, escalated, acknowledged and resolved; shennong_trace_scans_total counts found scans")
    func alertAndScanMetrics() async throws {
        let broker = try TestBroker(persistence: false)
        let presets = ShennongBinary.repositoryRoot.appendingPathComponent("Config/rules").path
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(presets)
                  late_after: 12h
                trace:
                  templates_dir: \(ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/trace").path)
                """)
        try await server.start()
        func scrape() async -> [PrometheusText.Sample] { (try? PrometheusText.parse(try await server.text("/metrics"))) ?? [] }
        func open(_ samples: [PrometheusText.Sample], _ level: String) -> Double? { samples.value("shennong_alerts_open", ["level": level]) }

        // Set at start from the (empty) alerts table: every level present, all zero.
        let before = await scrape()
        for level in ["blue", "yellow", "orange", "red"] { #expect(open(before, level) == 0, "\(level)") }

        // The do-crash pond: pond-do-low raised orange, escalated red (one alert), plus the 16-of-24 h yellow.
        let crash = try ShennongBinary.run(["simulate", "--scenario", "do-crash", "--rate", "400", "--port", "\(broker.port)", "--seed", "7"])
        #expect(crash.status == 0, "\(crash.output)")
        var alerts: [[String: Any]] = []
        #expect(await eventually(timeout: 30) {
            alerts = (try? await server.get("/api/v1/alerts?open=true").json["alerts"] as? [[String: Any]]) ?? []
            return alerts.contains { $0["rule"] as? String == "pond-do-low" && $0["level"] as? String == "red" }
        }, "\(alerts)")
        // The gauge equals the API's count of live alerts at every level.
        func expected(_ level: String) -> Double { Double(alerts.filter { $0["level"] as? String == level }.count) }
        var samples = await scrape()
        #expect(await eventually(timeout: 10) {
            alerts = (try? await server.get("/api/v1/alerts?open=true").json["alerts"] as? [[String: Any]]) ?? []
            samples = await scrape()
            return ["blue", "yellow", "orange", "red"].allSatisfy { open(samples, $0) == expected($0) }
        }, "\(samples.filter { $0.name == "shennong_alerts_open" })")
        #expect(open(samples, "red") == 1)
        #expect(open(samples, "orange") == 0, "escalated from orange: not counted twice")

        // Acknowledged is still open; resolved is not.
        let red = try #require(alerts.first { $0["level"] as? String == "red" })
        let id = try #require((red["id"] as? NSNumber)?.int64Value)
        #expect(try server.cli(["alerts", "ack", "\(id)", "--note", "aerator on"]).status == 0)
        #expect(open(await scrape(), "red") == 1)
        #expect(try server.cli(["alerts", "resolve", "\(id)", "--note", "recovered"]).status == 0)
        #expect(open(await scrape(), "red") == 0)

        // Trace scans: one code, two page views and one JSON lookup; a forged code is no scan.
        for args in [
            ["trace", "producer", "add", "--id", "P1", "--name", "连州蔬菜合作社", "--credit-code", "91350100M000100Y43", "--area-code", "441882"],
            ["trace", "plot", "add", "--id", "PLOT1", "--producer", "P1", "--name", "3号地", "--location", "连州市保安镇", "--area-code", "441882"],
            ["trace", "batch", "create", "--id", "B1", "--plot", "PLOT1", "--product", "菜心", "--quantity", "10", "--unit", "kg", "--planted", "2025-09-01"],
        ] {
            let run = try server.cli(args)
            #expect(run.status == 0, "\(args.prefix(3)): \(run.output)")
        }
        let csv = server.directory.appendingPathComponent("codes.csv").path
        #expect(try server.cli(["trace", "issue", "--batch", "B1", "--count", "1", "--out", csv]).status == 0)
        let code = try #require(try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().first?
            .split(separator: ",").first.map(String.init))
        let scans0 = await scrape()
        let page0 = scans0.value("shennong_trace_scans_total", ["format": "page"]) ?? 0
        let json0 = scans0.value("shennong_trace_scans_total", ["format": "json"]) ?? 0
        _ = try await server.text("/t/\(code)")
        _ = try await server.text("/t/\(code)")
        _ = try await server.text("/api/v1/trace/\(code)")
        _ = try await server.text("/t/ABCD-EFGH-JKMN-PQRS")
        let scans = await scrape()
        #expect((scans.value("shennong_trace_scans_total", ["format": "page"]) ?? 0) - page0 == 2)
        #expect((scans.value("shennong_trace_scans_total", ["format": "json"]) ?? 0) - json0 == 1)
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
