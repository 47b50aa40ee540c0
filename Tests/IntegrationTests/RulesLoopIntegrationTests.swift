import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MosquittoClient
import ShennongTestSupport
import Testing

/// The warnings' loose ends end to end, on a real mosquitto and the real server binary:
/// escalation to the contact tiers (village → town → county) with a webhook receiver per tier,
/// and late readings behind a rule's watermark counted and shown by `rules list`.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RulesLoopIntegrationTests {
    /// A rules directory holding `yaml` as its one file.
    static func rulesDirectory(_ yaml: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try yaml.write(to: dir.appendingPathComponent("test.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Publishes `messages` (topic, payload) and waits for the broker's acknowledgements (off the shared threads).
    static func publish(_ port: Int, _ messages: [(String, String)]) async throws {
        let list = messages.map { [$0.0, $0.1] }
        try await offloaded { try publishBlocking(port, list.map { ($0[0], $0[1]) }) }
    }

    /// A staff CLI command against `server` (off the shared threads).
    static func cli(_ server: ServerProcess, _ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        let (url, token) = (server.baseURL, server.token)
        return try await offloaded { try ShennongBinary.run(arguments + ["--server", url, "--token", token], environment: environment) }
    }

    static func publishBlocking(_ port: Int, _ messages: [(String, String)]) throws {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "it-loop-\(UUID().uuidString.prefix(8))", cleanSession: true, maxInflight: 100))
        try publisher.connect()
        defer { publisher.disconnect() }
        for (topic, payload) in messages { try publisher.publish(topic: topic, payload: Array(payload.utf8)) }
        guard publisher.waitUntilAcknowledged(timeout: .seconds(10)) else { throw TestBrokerError("publishes not acknowledged") }
    }

    static func json(_ request: WebhookReceiver.Request) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
    }

    /// `event:device` of each POST a receiver got on `path`, in order.
    static func events(_ hook: WebhookReceiver, _ path: String) -> [String] {
        hook.requests.filter { $0.path == path }.map { request in
            let body = json(request)
            return "\(body["event"] ?? ""):\(body["device"] ?? ""):\(body["level"] ?? "")"
        }
    }

    /// POST `body` (JSON) to `path` with the admin token.
    static func post(_ server: ServerProcess, _ path: String, _ body: String) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: server.baseURL + path)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    static func alert(_ server: ServerProcess, device: String) async throws -> [String: Any] {
        let list = try await server.get("/api/v1/alerts?device=\(device)").json["alerts"] as? [[String: Any]] ?? []
        return list.first ?? [:]
    }

    // The test waits for two escalation steps of 4 s each (checked every 250 ms), then 3 s for
    // nothing more: about 12 s. Shorter steps leave too little time to acknowledge one alert
    // between its two steps on a loaded machine.
    @Test("tiers: village hears of the raise, town after 4 s unacknowledged, county 4 s later; an alert acknowledged in between and a yellow one go no further")
    func tierEscalation() async throws {
        let broker = try TestBroker(persistence: false)
        let hook = try WebhookReceiver()
        defer { hook.stop() }
        let rules = try Self.rulesDirectory("""
            rules:
              - id: stage
                name: 河道水位 River stage
                source: test
                metric: water_level
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: 8 }
                  orange: { at_least: 10 }
                  red: { at_least: 12 }
            """)
        defer { try? FileManager.default.removeItem(at: rules) }
        let base = "http://127.0.0.1:\(hook.port)"
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(rules.path)
                  late_after: 12h
                  check_interval: 250ms
                  mqtt_publish: false
                  escalation:
                    escalate_after: 4s
                    min_level: orange
                    tiers:
                      - { name: village, contacts: [{ name: 村网格员, phone: "13800000001", webhook: "\(base)/village", secret: v-secret }] }
                      - { name: town, contacts: [{ name: 镇值班员, webhook: "\(base)/town" }] }
                      - { name: county, contacts: [{ name: 县应急局, webhook: "\(base)/county" }] }
                """)
        try await server.start()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // gauge-a red (left alone), gauge-b red (acknowledged once the town hears), gauge-c yellow.
        try await Self.publish(broker.port, [
            ("agri/gauge-a/telemetry", #"{"ts": \#(now), "values": {"water_level": 12.4}}"#),
            ("agri/gauge-b/telemetry", #"{"ts": \#(now), "values": {"water_level": 12.6}}"#),
            ("agri/gauge-c/telemetry", #"{"ts": \#(now), "values": {"water_level": 8.5}}"#),
        ])
        // The village hears of every raise at once, signed with its contact's secret.
        let village = await eventually(timeout: 15) { Self.events(hook, "/village").count >= 3 }
        #expect(village, "\(Self.events(hook, "/village"))\n\(server.log().suffix(2000))")
        #expect(Set(Self.events(hook, "/village")) == ["raised:gauge-a:red", "raised:gauge-b:red", "raised:gauge-c:yellow"])
        let signed = try #require(hook.requests.first { $0.path == "/village" })
        #expect(signed.headers["x-shennong-signature"] == (try AlertIntegrationTests.pythonHMAC(signed.body, secret: "v-secret")))

        // Unacknowledged for 4 s: the town hears of both red alerts (not of the yellow one). The
        // town acknowledges gauge-b as soon as it hears of it (over HTTP: no process to start).
        let toVillageB = try #require(hook.requests.first { $0.path == "/village" && Self.json($0)["device"] as? String == "gauge-b" })
        let idB = try #require((Self.json(toVillageB)["id"] as? NSNumber)?.int64Value)
        let townHeardB = await eventually(timeout: 10, interval: .milliseconds(20)) {
            Self.events(hook, "/town").contains("contacts_escalated:gauge-b:red")
        }
        #expect(townHeardB, "\(Self.events(hook, "/town"))")
        let ack = try await Self.post(server, "/api/v1/alerts/\(idB)/ack", #"{"note": "镇里已派人 someone is on the way"}"#)
        #expect(ack.status == 200 && ack.json["status"] as? String == "acknowledged", "\(ack)")
        #expect(ack.json["contact_tier"] as? Int == 1, "acknowledged at the town's tier: \(ack.json)")
        let town = await eventually(timeout: 10) { Self.events(hook, "/town").count >= 2 }
        #expect(town, "\(Self.events(hook, "/town"))")
        #expect(Set(Self.events(hook, "/town")) == ["contacts_escalated:gauge-a:red", "contacts_escalated:gauge-b:red"])
        let toTown = try #require(hook.requests.first { $0.path == "/town" && Self.json($0)["device"] as? String == "gauge-a" })
        #expect((Self.json(toTown)["note"] as? String)?.contains("escalated to town (镇值班员)") == true, "\(Self.json(toTown))")
        #expect(Self.json(toTown)["contact_tier"] as? Int == 1)

        // 4 s later the county hears of the one still unacknowledged; then nothing more (top tier).
        let county = await eventually(timeout: 10) { !Self.events(hook, "/county").isEmpty }
        #expect(county, "\(Self.events(hook, "/county"))")
        try await Task.sleep(for: .seconds(3))
        #expect(Self.events(hook, "/county") == ["contacts_escalated:gauge-a:red"], "the acknowledged alert is not escalated")
        #expect(Self.events(hook, "/town").count == 2 && Self.events(hook, "/village").count == 3, "each tier told once")

        // The loop is recorded on the alerts: who was told, when, why.
        let a = try await Self.alert(server, device: "gauge-a")
        #expect(a["contact_tier"] as? Int == 2 && a["status"] as? String == "open")
        let idA = try #require((a["id"] as? NSNumber)?.int64Value)
        let transitions = try await server.get("/api/v1/alerts/\(idA)").json["transitions"] as? [[String: Any]] ?? []
        #expect(transitions.map { $0["kind"] as? String ?? "" } == ["raised", "contacts_escalated", "contacts_escalated"])
        #expect((transitions.last?["note"] as? String)?.contains("escalated to county (县应急局)") == true)
        // Each step came escalate_after after the one before (times are whole seconds).
        let iso = ISO8601DateFormatter()
        let times = transitions.compactMap { ($0["at"] as? String).flatMap(iso.date(from:)) }
        #expect(times.count == 3)
        if times.count == 3 {
            #expect(times[1].timeIntervalSince(times[0]) >= 3 && times[2].timeIntervalSince(times[1]) >= 3, "\(transitions)")
        }
        let c = try await Self.alert(server, device: "gauge-c")
        #expect(c["contact_tier"] as? Int == 0 && c["level"] as? String == "yellow", "yellow is below min_level: \(c)")
        let bAfter = try await Self.alert(server, device: "gauge-b")
        #expect(bAfter["contact_tier"] as? Int == 1 && bAfter["status"] as? String == "acknowledged")
        #expect(server.terminate() == 0)
    }

    @Test("late data: a reading behind the rule's watermark is stored, not evaluated, counted in rules list and /metrics; sending it again adds nothing; times at the configured local_time")
    func lateDataCounted() async throws {
        let broker = try TestBroker(persistence: false)
        let rules = try Self.rulesDirectory("""
            rules:
              - id: do-low
                name: 池塘缺氧 Pond oxygen low
                source: test
                metric: dissolved_oxygen
                condition: { kind: threshold }
                levels:
                  orange: { below: 3 }
            """)
        defer { try? FileManager.default.removeItem(at: rules) }
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                local_time: "+09:00"
                rules:
                  directory: \(rules.path)
                  late_after: 12h
                """)
        try await server.start()
        let now = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        let steady = (0..<5).map { i in #"{"ts": \#(now - Int64(4 - i) * 60_000), "values": {"dissolved_oxygen": 6.5}}"# }
        try await Self.publish(broker.port, [("agri/pond-9/telemetry", "[" + steady.joined(separator: ",") + "]")])
        func stored() async throws -> [[String: Any]] {
            try await server.get("/api/v1/readings?device=pond-9&metric=dissolved_oxygen&from=-1h&to=now").json["readings"] as? [[String: Any]] ?? []
        }
        #expect(await eventually(timeout: 15) { (try? await stored().count) == 5 })
        // Half an hour behind: it would raise orange if evaluated.
        let late = #"{"ts": \#(now - 30 * 60_000), "values": {"dissolved_oxygen": 2.0}}"#
        try await Self.publish(broker.port, [("agri/pond-9/telemetry", late)])
        #expect(await eventually(timeout: 15) { (try? await stored().count) == 6 }, "the late reading is stored")
        func skipped() async throws -> Int? {
            let list = try await Self.cli(server, ["rules", "list", "--format", "json"])
            let rows = (try? JSONSerialization.jsonObject(with: Data(list.output.utf8))) as? [[String: Any]] ?? []
            return rows.first { $0["id"] as? String == "do-low" }?["late_skipped"] as? Int
        }
        let counted = await eventually(timeout: 10) { (try? await skipped()) == 1 }
        let listed = (try? await Self.cli(server, ["rules", "list", "--format", "json"]).output) ?? ""
        #expect(counted, "\(listed)")
        #expect(try await Self.alert(server, device: "pond-9").isEmpty, "the late reading was not evaluated")
        let metrics = try await server.text("/metrics")
        #expect(metrics.contains(#"shennong_rules_late_skipped_total{rule="do-low"} 1"#), "\(metrics.split(separator: "\n").filter { $0.contains("late") })")

        // The same reading again (already stored: a redelivery), then a new one to know it was seen.
        try await Self.publish(broker.port, [("agri/pond-9/telemetry", late), ("agri/pond-9/telemetry", #"{"ts": \#(now + 1), "values": {"dissolved_oxygen": 6.4}}"#)])
        #expect(await eventually(timeout: 15) { (try? await stored().count) == 7 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await skipped() == 1)

        // People read it: the table's header in Chinese (or English with --lang en), and times in
        // the configured local time everywhere, the readings' as the alerts'.
        let table = try await Self.cli(server, ["rules", "list"])
        #expect(table.status == 0 && table.output.contains("跳过的迟到数据") && table.output.contains("编号"), "\(table.output)")
        let english = try await Self.cli(server, ["--lang", "en", "rules", "list"])
        #expect(english.output.contains("LATE_SKIPPED") && !english.output.contains("跳过"), "\(english.output)")
        let environment = try await Self.cli(
            server, ["readings", "query", "--device", "pond-9", "--metric", "dissolved_oxygen", "--from=-1h"], environment: ["SHENNONG_LANG": "en"])
        #expect(environment.output.hasPrefix("TIME ") && environment.output.contains("+09:00"), "\(environment.output)")
        let readings = try await stored()
        #expect(readings.allSatisfy { ($0["time"] as? String)?.hasSuffix("+09:00") == true }, "\(readings)")
        let zhTable = try await Self.cli(server, ["readings", "query", "--device", "pond-9", "--metric", "dissolved_oxygen", "--from=-1h"])
        #expect(zhTable.output.hasPrefix("时间") && zhTable.output.contains("+09:00") && !zhTable.output.contains("Z "), "\(zhTable.output)")
        let devices = try await server.get("/api/v1/devices/pond-9").json
        #expect((devices["last_seen"] as? String)?.hasSuffix("+09:00") == true && (devices["created_at"] as? String)?.hasSuffix("+09:00") == true)
        #expect(server.terminate() == 0)
    }
}
