import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MosquittoClient
import ShennongProcess
import ShennongTestSupport
import Testing

/// Warnings end to end: a real server with the preset rules, the simulator's rainstorm,
/// a real mosquitto subscriber on the alert topic, a webhook receiver, CAP against the
/// OASIS schema, the CLI; and SIGKILL in the middle of a duration.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AlertIntegrationTests {
    static var presets: String { ShennongBinary.repositoryRoot.appendingPathComponent("Config/rules").path }

    /// `mosquitto_sub -v` on `topic`, writing "topic payload" lines to a file; exits by itself after `seconds`.
    final class Subscriber: @unchecked Sendable {
        // Invariant: used from one test at a time.
        let path: String
        let process: ChildProcess

        init(port: Int, topic: String, seconds: Int = 120) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString).txt").path
            process = try ChildProcess(
                executable: "/usr/bin/mosquitto_sub",
                arguments: ["-h", "127.0.0.1", "-p", "\(port)", "-t", topic, "-v", "-q", "1", "-W", "\(seconds)"], outputPath: path)
        }

        deinit {
            process.signal(SIGTERM)
            _ = process.wait(timeout: 5)
            try? FileManager.default.removeItem(atPath: path)
        }

        /// (topic, JSON object) of every message so far.
        var messages: [(topic: String, json: [String: Any])] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let space = line.firstIndex(of: " ") else { return nil }
                let json = (try? JSONSerialization.jsonObject(with: Data(line[line.index(after: space)...].utf8))) as? [String: Any]
                return (String(line[..<space]), json ?? [:])
            }
        }
    }

    static func publisher(_ port: Int) throws -> MQTTPublisher {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "it-alerts-\(UUID().uuidString.prefix(8))", cleanSession: true, maxInflight: 100))
        try publisher.connect()
        return publisher
    }

    /// HMAC-SHA256 of `body` under `secret`, computed by Python's hmac module (not by our code).
    static func pythonHMAC(_ body: [UInt8], secret: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import hmac, hashlib, sys; print('sha256=' + hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())",
            secret,
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(body))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("rainstorm scenario: yellow, orange, red on the gauge; JSON on the MQTT alert topic and at a webhook; valid CAP; ack and resolve through the CLI")
    func rainstormEndToEnd() async throws {
        let broker = try TestBroker(persistence: false)
        // The first POST gets a 500: delivery must retry (with back-off) and get through.
        let hook = try WebhookReceiver(failFirst: 1)
        defer { hook.stop() }
        let secret = "s3cret-钥匙"
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(Self.presets)
                  late_after: 12h
                  check_interval: 1s
                  webhooks:
                    - { url: "http://127.0.0.1:\(hook.port)/hook", secret: "\(secret)", retries: 3, backoff: 200ms }
                  cap: { sender: shennong@qingyuan.example, area_code: "441800", org_code: "001", offset: "+08:00" }
                """)
        try await server.start()
        let subscriber = try Subscriber(port: broker.port, topic: "agri/alerts/#")
        let probe = try Self.publisher(broker.port)
        let subscribed = await eventually(timeout: 10) {
            try? probe.publish(topic: "agri/alerts/probe/none", payload: Array("{}".utf8), qos: 1)
            return subscriber.messages.contains { $0.topic == "agri/alerts/probe/none" }
        }
        probe.disconnect()
        #expect(subscribed)

        let run = try ShennongBinary.run(["simulate", "--scenario", "rainstorm", "--rate", "400", "--port", "\(broker.port)", "--seed", "7"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("published 98 messages"), "\(run.output)")

        // The alert of the rainstorm rule on the gauge reaches red, through yellow and orange.
        var alert: [String: Any] = [:]
        let red = await eventually(timeout: 30) {
            let list = (try? await server.get("/api/v1/alerts?device=sim-rain-001&rule=rainstorm").json["alerts"]) as? [[String: Any]]
            alert = list?.first ?? [:]
            return alert["level"] as? String == "red"
        }
        #expect(red, "\(alert)\n\(server.log().suffix(3000))")
        let id = try #require((alert["id"] as? NSNumber)?.int64Value)
        #expect(alert["status"] as? String == "open")
        #expect(alert["late"] as? Bool == false)
        #expect((alert["title"] as? String)?.contains("红色预警") == true)
        let detail = try await server.get("/api/v1/alerts/\(id)").json
        let transitions = detail["transitions"] as? [[String: Any]] ?? []
        #expect(transitions.map { $0["kind"] as? String ?? "" } == ["raised", "escalated", "escalated"])
        #expect(transitions.map { $0["to_level"] as? String ?? "" } == ["yellow", "orange", "red"])

        // The same three on the MQTT alert topic, in order.
        let topic = "agri/alerts/weather/sim-rain-001"
        let onMQTT = await eventually(timeout: 15) {
            subscriber.messages.filter { $0.topic == topic && $0.json["rule"] as? String == "rainstorm" }.count >= 3
        }
        #expect(onMQTT, "\(subscriber.messages.map(\.topic))")
        let mqttLevels = subscriber.messages.filter { $0.topic == topic && $0.json["rule"] as? String == "rainstorm" }.map {
            "\($0.json["event"] ?? ""):\($0.json["level"] ?? "")"
        }
        #expect(Array(mqttLevels.prefix(3)) == ["raised:yellow", "escalated:orange", "escalated:red"])

        // And at the webhook, signed, after a retry of the first delivery.
        let atHook = await eventually(timeout: 20) { hook.requests.filter { Self.rule(of: $0) == "rainstorm" }.count >= 3 }
        #expect(atHook, "\(hook.requests.count) requests, \(hook.attempts) attempts\n\(server.log().suffix(2000))")
        #expect(hook.attempts > hook.requests.count, "the 500 was retried")
        let delivered = hook.requests.filter { Self.rule(of: $0) == "rainstorm" }
        let hookLevels = delivered.map { request -> String in
            let json = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
            return "\(json["event"] ?? ""):\(json["level"] ?? "")"
        }
        #expect(Array(hookLevels.prefix(3)) == ["raised:yellow", "escalated:orange", "escalated:red"])
        for request in delivered {
            #expect(request.method == "POST" && request.path == "/hook")
            #expect(request.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(request.headers["x-shennong-signature"] == (try Self.pythonHMAC(request.body, secret: secret)))
        }

        // CAP 1.2: valid against the OASIS schema, `sent` with a numeric offset.
        let cap = try await Self.text(server, "/api/v1/alerts/\(id)/cap")
        try SchemaValidator.validateCAP(xml: Data(cap.utf8))
        #expect(cap.range(of: #"<sent>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00</sent>"#, options: .regularExpression) != nil, "\(cap)")
        #expect(!cap.contains("Z</"))
        for element in ["identifier", "sender", "status", "msgType", "scope", "language", "category", "event", "urgency", "severity", "certainty", "headline", "description", "areaDesc"] {
            #expect(cap.contains("<\(element)>"), "CAP lacks <\(element)>")
        }
        #expect(cap.contains("<severity>Extreme</severity>"))
        #expect(cap.contains("<identifier>441800001000_"))
        let exported = try server.cli(["alerts", "export", "--cap", "\(id)"])
        #expect(exported.status == 0, "\(exported.output)")
        try SchemaValidator.validateCAP(xml: Data(exported.output.utf8))

        // Acknowledge and resolve through the CLI, with notes; the loop is recorded with who and when.
        let ack = try server.cli(["alerts", "ack", "\(id)", "--note", "已通知村干部转移群众", "--format", "json"])
        #expect(ack.status == 0, "\(ack.output)")
        let resolve = try server.cli(["alerts", "resolve", "\(id)", "--note", "雨停，险情解除", "--format", "json"])
        #expect(resolve.status == 0, "\(resolve.output)")
        let again = try server.cli(["alerts", "ack", "\(id)", "--note", "x"])
        #expect(again.status != 0 && again.output.contains("409"), "a resolved alert cannot be acknowledged: \(again.output)")
        let shown = try server.cli(["alerts", "show", "\(id)", "--format", "json"])
        let body = try #require(try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [[String: Any]]).first ?? [:]
        #expect(body["status"] as? String == "resolved")
        #expect(body["acknowledged_by"] as? String == "integration-test")
        let loop = body["transitions"] as? [[String: Any]] ?? []
        #expect(loop.map { $0["kind"] as? String ?? "" } == ["raised", "escalated", "escalated", "acknowledged", "resolved"])
        #expect(loop[3]["note"] as? String == "已通知村干部转移群众")
        #expect(loop[4]["by"] as? String == "integration-test")
        let list = try server.cli(["alerts", "list", "--open", "--device", "sim-rain-001"])
        #expect(list.status == 0 && !list.output.contains("rainstorm"), "\(list.output)")
        // People's transitions are pushed too.
        #expect(await eventually(timeout: 10) {
            subscriber.messages.contains { $0.topic == topic && $0.json["event"] as? String == "resolved" && $0.json["rule"] as? String == "rainstorm" }
        })

        // Replay: the same rules over the stored history give the same three steps, writing nothing.
        let replay = try server.cli(["rules", "replay", "--device", "sim-rain-001", "--from=-1d", "--format", "json"])
        let steps = (try JSONSerialization.jsonObject(with: Data(replay.output.utf8)) as? [[String: Any]] ?? [])
            .filter { $0["rule"] as? String == "rainstorm" }.map { "\($0["from"] ?? ""):\($0["to"] ?? "")" }
        #expect(steps == ["none:yellow", "yellow:orange", "orange:red"], "\(replay.output)")
        #expect(server.terminate() == 0)
    }

    /// GET `path` with the admin token, as text.
    static func text(_ server: ServerProcess, _ path: String) async throws -> String {
        var request = URLRequest(url: URL(string: server.baseURL + path)!)
        request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }

    static func rule(of request: WebhookReceiver.Request) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any])?["rule"] as? String
    }

    @Test("SIGKILL in the middle of a 10-minute duration: after the restart the alert fires when the 10 minutes are up")
    func sigkillMidDuration() async throws {
        let broker = try TestBroker(persistence: true)
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: rules) }
        try """
            # test rule: a stage held for 10 minutes
            rules:
              - id: stage-10m
                name: 水位 10 分钟 Stage held 10 min
                source: test
                metric: water_level
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: 3 }
                for: 10m
            """.write(to: rules.appendingPathComponent("stage.yaml"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(brokerPort: broker.port, extraYAML: "rules:\n  directory: \(rules.path)\n  check_interval: 1s")
        try await server.start()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let t0 = now / 60_000 * 60_000 - 20 * 60_000
        func publish(_ minutes: ClosedRange<Int64>) throws {
            let publisher = try Self.publisher(broker.port)
            defer { publisher.disconnect() }
            for m in minutes {
                try publisher.publish(
                    topic: "agri/gauge-k/telemetry", payload: Array("{\"ts\": \(t0 + m * 60_000), \"values\": {\"water_level\": 3.5}}".utf8))
            }
            #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        }
        try publish(0...5)
        // Wait until the pending timer (since minute 0) is in the database, then kill.
        let pending = await eventually(timeout: 20) {
            let states = (try? await server.get("/api/v1/rules/stage-10m").json["states"]) as? [[String: Any]]
            return ((states?.first?["pending"] as? [String: Any])?["yellow"] as? NSNumber)?.int64Value == t0
        }
        #expect(pending, "\(server.log().suffix(2000))")
        server.kill()
        try await server.start()
        try publish(6...9)
        #expect(await eventually(timeout: 20) { (try? server.storedReadings()) == 10 })
        try publish(10...10)
        var alerts: [[String: Any]] = []
        let fired = await eventually(timeout: 20) {
            alerts = ((try? await server.get("/api/v1/alerts?device=gauge-k").json["alerts"]) as? [[String: Any]]) ?? []
            return !alerts.isEmpty
        }
        #expect(fired, "\(server.log().suffix(2000))")
        // Raised by the reading at minute 10 exactly: not before (one alert), not later.
        #expect(alerts.count == 1)
        #expect((alerts.first?["raised_ts"] as? NSNumber)?.int64Value == t0 + 10 * 60_000)
        #expect(alerts.first?["level"] as? String == "yellow")
        #expect(server.terminate() == 0)
    }
}
