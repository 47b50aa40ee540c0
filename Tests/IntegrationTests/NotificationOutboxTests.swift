import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// Durable alert notifications (the outbox) with a real server, a real broker and a webhook
/// receiver on loopback: a notification committed while its receiver is down survives a SIGKILL
/// of the server and arrives, once by its delivery id, when both are back.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct NotificationOutboxTests {
    static let rule = """
        rules:
          - id: stage-now
            name: 水位 Stage
            source: test
            metric: water_level
            condition: { kind: threshold }
            levels:
              yellow: { at_least: 3 }
        """

    /// `shennong_alert_notifications_behind` of the webhook notifier, `nil` while absent.
    static func behind(_ server: ServerProcess) async -> Double? {
        guard let text = try? await server.text("/metrics"), let samples = try? PrometheusText.parse(text) else { return nil }
        return samples.first {
            $0.name == "shennong_alert_notifications_behind" && $0.labels["notifier"]?.hasPrefix("webhook:127.0.0.1:") == true
        }?.value
    }

    @Test("receiver down at the raise, server SIGKILLed, receiver up, server restarted: the notification arrives, once by delivery id")
    func survivesKillWhileReceiverDown() async throws {
        let broker = try TestBroker(persistence: false)
        // A port nothing listens on (connection refused) until the receiver starts there.
        let reserved = try WebhookReceiver()
        let port = reserved.port
        reserved.stop()
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: rules) }
        try Self.rule.write(to: rules.appendingPathComponent("stage.yaml"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(rules.path)
                  check_interval: 1s
                  webhooks:
                    - { url: "http://127.0.0.1:\(port)/hook", retries: 10, backoff: 500ms }
                """)
        try await server.start()

        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: broker.port, clientID: "it-outbox", cleanSession: true))
        try publisher.connect()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try publisher.publish(topic: "agri/gauge-o/telemetry", payload: Array("{\"ts\": \(now), \"values\": {\"water_level\": 3.5}}".utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()

        var alert: [String: Any] = [:]
        let raised = await eventually(timeout: 20) {
            alert = (((try? await server.get("/api/v1/alerts?device=gauge-o").json["alerts"]) as? [[String: Any]])?.first) ?? [:]
            return alert["status"] as? String == "open"
        }
        #expect(raised, "\(server.log().suffix(2000))")
        let id = try #require((alert["id"] as? NSNumber)?.int64Value)
        let transitions = try await server.get("/api/v1/alerts/\(id)").json["transitions"] as? [[String: Any]] ?? []
        let transition = try #require((transitions.first?["id"] as? NSNumber)?.int64Value)
        let delivery = "\(id)-\(transition)"
        // The webhook's delivery is being retried: its notifier is behind.
        #expect(await eventually(timeout: 10) { (await Self.behind(server) ?? 0) >= 1 }, "the gauge shows the pending notification")

        server.kill()
        let hook = try WebhookReceiver(port: port)
        defer { hook.stop() }
        try await server.start()

        func deliveries() -> [WebhookReceiver.Request] { hook.requests.filter { $0.headers["x-shennong-delivery"] == delivery } }
        let arrived = await eventually(timeout: 30) { !deliveries().isEmpty }
        #expect(arrived, "\(hook.requests.count) requests\n\(server.log().suffix(3000))")
        let request = try #require(deliveries().first)
        let body = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] ?? [:]
        #expect(body["event"] as? String == "raised" && body["id"] as? NSNumber == NSNumber(value: id))
        #expect(body["delivery"] as? String == delivery, "the body carries the delivery id too (MQTT has no headers)")
        #expect(request.headers["x-shennong-event"] == "alert.raised")
        #expect(await eventually(timeout: 10) { await Self.behind(server) == 0 }, "caught up")

        // A clean restart resumes from the stored cursor: nothing is sent again.
        try await Task.sleep(for: .seconds(2))
        #expect(server.terminate() == 0)
        try await server.start()
        try await Task.sleep(for: .seconds(3))
        #expect(deliveries().count == 1, "\(hook.requests.map { $0.headers["x-shennong-delivery"] ?? "" })")
        #expect(hook.requests.count == 1)
        #expect(server.terminate() == 0)
    }

    @Test("two nodes on PostgreSQL: only the leader sends, what people do on the standby's pages included; the next leader resumes from the cursor")
    func leaderSendsForAllNodes() async throws {
        let (url, token) = try FailoverTests.database()
        let shared = try FailoverTests.sharedDirectory()
        defer { try? FileManager.default.removeItem(at: shared) }
        try Self.rule.write(to: shared.appendingPathComponent("stage.yaml"), atomically: true, encoding: .utf8)
        let hook = try WebhookReceiver()
        defer { hook.stop() }
        let broker = try TestBroker(persistence: true)
        let (a, b) = try await FailoverTests.leaderAndStandby(broker: broker, url: url, token: token, shared: shared, hook: hook)

        let publisher = try FailoverTests.publisher(broker.port)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try publisher.publish(topic: "agri/gauge-n/telemetry", payload: Array("{\"ts\": \(now), \"values\": {\"water_level\": 3.5}}".utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()
        var id: Int64 = 0
        #expect(await eventually(timeout: 20) {
            let alerts = (try? await b.get("/api/v1/alerts?device=gauge-n").json["alerts"]) as? [[String: Any]]
            id = (alerts?.first?["id"] as? NSNumber)?.int64Value ?? 0
            return id > 0
        }, "\(a.log().suffix(2000))")
        func events() -> [String] {
            hook.requests.compactMap { request in
                let json = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
                return (json?["id"] as? NSNumber)?.int64Value == id ? json?["event"] as? String : nil
            }
        }
        #expect(await eventually(timeout: 10) { events() == ["raised"] })

        // Acknowledged on the standby's API: committed there, sent by the leader.
        let ack = try b.cli(["alerts", "ack", "\(id)", "--note", "已到场"])
        #expect(ack.status == 0, "\(ack.output)")
        #expect(await eventually(timeout: 10) { events() == ["raised", "acknowledged"] }, "\(events())")
        #expect(await Self.behind(b) == nil, "the standby follows no outbox")
        #expect(await Self.behind(a) == 0)

        // The leader dies; the standby leads and goes on from the cursor: nothing sent twice.
        a.kill()
        #expect(await eventually(timeout: 15) { await FailoverTests.role(b) == ("leader", "node-b") }, "\(b.log().suffix(2000))")
        let resolve = try b.cli(["alerts", "resolve", "\(id)", "--note", "水位回落"])
        #expect(resolve.status == 0, "\(resolve.output)")
        #expect(await eventually(timeout: 10) { events() == ["raised", "acknowledged", "resolved"] }, "\(events())")
        try await Task.sleep(for: .seconds(2))
        #expect(events() == ["raised", "acknowledged", "resolved"])
        let ids = hook.requests.compactMap { $0.headers["x-shennong-delivery"] }
        #expect(Set(ids).count == ids.count, "each delivery id once: \(ids)")
        #expect(b.terminate() == 0)
    }
}
