import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// Bad input never crashes the server and never loses good data: each bad message becomes
/// a reject with its reason and a counter, and the good messages between them are stored.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BadInputIntegrationTests {
    @Test("malformed, mistyped, non-finite, unknown, oversized and future input is rejected with its reason")
    func badInputBecomesRejects() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port, ingestYAML: "unknown_devices: reject")
        try await server.start()
        for (id, profile) in [("pond-1", "generic"), ("aws-1", "weather-station")] {
            let added = try server.cli(["devices", "add", id, "--profile", profile, "--domain", id == "pond-1" ? "water" : "weather"])
            #expect(added.status == 0, "\(added.output)")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let tenYearsAhead = now + 10 * 365 * 86_400_000
        let huge = "{\"ph\": 7.0, \"pad\": \"" + String(repeating: "x", count: 1 << 20) + "\"}"
        // (topic, payload, expected reject code or nil for a good message)
        let cases: [(String, String, String?)] = [
            ("agri/pond-1/telemetry", #"{"ts": 1763700000000, "values": {"ph": 7.01}}"#, nil),
            ("agri/pond-1/telemetry", #"{"ts": 1763700000000, "values": {"ph": 7.0"#, "malformed_json"),
            ("agri/pond-1/telemetry", #"{"ts": 1763700001000, "values": {"ph": 7.02}}"#, nil),
            ("agri/pond-1/telemetry", #"{"ts": 1763700002000, "values": {"ph": "acid", "water_temp": 25.5}}"#, "wrong_type"),
            ("agri/pond-1/telemetry", #"{"ts": 1763700003000, "values": {"ph": [7]}}"#, "wrong_type"),
            ("agri/pond-1/telemetry", #"{"ph": NaN}"#, "malformed_json"),
            ("agri/pond-1/telemetry", #"{"ph": Infinity}"#, "malformed_json"),
            ("agri/pond-1/telemetry", #"{"ph": -Infinity}"#, "malformed_json"),
            ("agri/pond-1/telemetry", #"{"ts": 1763700004000, "values": {"ph": 7.03, "chlorophyll_x": 3}}"#, "unknown_metric"),
            ("agri/stranger-9/telemetry", #"{"ts": 1763700005000, "values": {"ph": 7.0}}"#, "unknown_device"),
            ("agri/pond-1/telemetry", huge, "payload_too_large"),
            ("agri/pond-1/telemetry", "{\"ts\": \(tenYearsAhead), \"values\": {\"ph\": 7.1}}", "future_timestamp"),
            ("agri/pond-1/telemetry", #"{"ts": 1763700006000, "values": {"ph": 15.3}}"#, "out_of_range"),
            ("agri/pond-1/telemetry", #"42"#, "unsupported_payload"),
            ("agri/pond-1/telemetry", #"{"ts": 1, "values": {"ph": 7.0}}"#, "too_old"),
            ("agri/bad$id/telemetry", #"{"ph": 7.0}"#, "invalid_device_id"),
            ("agri/pond-1/status", "maybe", "unsupported_payload"),
            ("agri/pond-1/status", "online", nil),
            ("agri/aws-1/telemetry", #"{"ts": 1763700007000, "values": {"TA": 21.5, "PA": 101300}}"#, nil),
            ("agri/pond-1/telemetry", #"{"ts": 1763700008000, "values": {"ph": 7.04}}"#, nil),
        ]
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-bad", cleanSession: true))
        try publisher.connect()
        for (topic, payload, _) in cases {
            try publisher.publish(topic: topic, payload: Array(payload.utf8), qos: 1)
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
        publisher.disconnect()

        let expectedCodes = cases.compactMap(\.2)
        let settled = await eventually(timeout: 20) {
            let rejects = try? await server.get("/api/v1/rejects?limit=100").json["rejects"] as? [[String: Any]]
            return (rejects?.count ?? 0) >= expectedCodes.count
        }
        #expect(settled, "\(server.log())")
        let rejects = try #require(try await server.get("/api/v1/rejects?limit=100").json["rejects"] as? [[String: Any]])
        #expect(rejects.compactMap { $0["code"] as? String }.sorted() == expectedCodes.sorted())
        for reject in rejects {
            #expect(!(reject["reason"] as? String ?? "").isEmpty)
            #expect((reject["topic"] as? String)?.hasPrefix("agri/") == true)
        }
        let wrongType = rejects.first { $0["code"] as? String == "wrong_type" && ($0["payload"] as? String ?? "").contains("acid") }
        #expect(wrongType?["field"] as? String == "ph")
        #expect((wrongType?["reason"] as? String)?.contains("ph") == true)
        let tooLarge = try #require(rejects.first { $0["code"] as? String == "payload_too_large" })
        #expect((tooLarge["reason"] as? String)?.contains("\(huge.utf8.count)") == true)

        // Every good value, including the good field beside a bad one, is stored.
        let (_, pond) = try await server.get("/api/v1/readings?device=pond-1&from=0&to=now")
        let stored = (pond["readings"] as? [[String: Any]] ?? []).map {
            "\($0["metric"]!)@\($0["ts"]!)=\($0["value"]!)"
        }.sorted()
        #expect(stored == [
            "ph@1763700000000=7.01", "ph@1763700001000=7.02", "ph@1763700004000=7.03", "ph@1763700008000=7.04",
            "water_temp@1763700002000=25.5",
        ])
        let (_, aws) = try await server.get("/api/v1/readings?device=aws-1&from=0&to=now")
        #expect((aws["readings"] as? [[String: Any]])?.count == 2)
        #expect(try await server.get("/api/v1/devices/stranger-9").status == 404)
        #expect(try await server.get("/api/v1/devices/pond-1").json["presence"] as? String == "online")

        // The CLI shows them; the counters count them; the server is healthy.
        let listed = try server.cli(["readings", "rejects", "--format", "csv", "--limit", "100"])
        #expect(listed.status == 0)
        for code in Set(expectedCodes) { #expect(listed.output.contains(code), "\(code) missing from CLI") }
        let metrics = try await metricsText(server)
        #expect(metrics.contains(#"shennong_messages_rejected_total{reason="malformed_json"} 4"#), "\(metrics)")
        #expect(metrics.contains(#"shennong_messages_rejected_total{reason="unknown_device"} 1"#))
        #expect(server.isRunning)
        #expect(try await server.get("/healthz").json["status"] as? String == "ok")
        #expect(server.terminate() == 0)
    }

    func metricsText(_ server: ServerProcess) async throws -> String {
        try await server.text("/metrics")
    }

    @Test("malformed API requests get a clear 4xx, not a crash")
    func badAPIRequests() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let bad = [
            "/api/v1/readings", "/api/v1/readings?device=x&from=yesterday-ish", "/api/v1/readings?device=x&every=7q",
            "/api/v1/readings?device=x&metric=nonsense", "/api/v1/readings/latest?domain=space",
            "/api/v1/readings?device=x&from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z",
        ]
        for path in bad {
            let (status, json) = try await server.get(path)
            #expect(status == 400, "\(path) -> \(status)")
            #expect(((json["error"] as? [String: Any])?["message"] as? String)?.isEmpty == false)
        }
        let viewer = try ShennongBinary.run(["tokens", "create", "--role", "viewer", "--db", server.databasePath])
        let token = viewer.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let forbidden = try ShennongBinary.run([
            "devices", "add", "x-1", "--profile", "generic", "--domain", "soil", "--server", server.baseURL, "--token", token,
        ])
        #expect(forbidden.status != 0)
        #expect(forbidden.output.contains("403"))
        let badProfile = try server.cli(["devices", "add", "x-2", "--profile", "no-such-profile"])
        #expect(badProfile.output.contains("unknown profile"))
        let badID = try server.cli(["devices", "add", "bad/id", "--profile", "generic", "--domain", "soil"])
        #expect(badID.status != 0)
        #expect(server.isRunning)
        #expect(server.terminate() == 0)
    }
}
