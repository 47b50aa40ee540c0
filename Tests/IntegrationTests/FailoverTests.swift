import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MosquittoClient
import ShennongCore
import ShennongPostgres
import ShennongTestSupport
import Testing

/// Two `shennong serve` nodes on one real PostgreSQL and one real mosquitto: the leader is
/// killed (SIGKILL) or hung (SIGSTOP) in the middle of a QoS 1 stream, and the standby takes
/// the lease and the same persistent MQTT session. Nothing acknowledged is lost, nothing is
/// stored twice, an alert is raised and notified once, and a hung leader, continued, steps down
/// without acknowledging anything it did not commit.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FailoverTests {
    /// A PostgreSQL database with an admin token: (url, token secret).
    static func database() throws -> (url: String, token: String) {
        let url = try TestPostgres.shared().createDatabase()
        let store = try PostgresStore(url: url)
        defer { try? store.close() }
        return (url, try store.createToken(name: "failover-test", role: .admin))
    }

    static func storedReadings(_ url: String) throws -> Int {
        let store = try PostgresStore(url: url)
        defer { try? store.close() }
        return try store.stats().readings
    }

    /// A node of the cluster: the database, the shared trace keys, `node_id` and a short lease.
    static func node(
        _ id: String, broker: TestBroker, url: String, token: String, shared: URL, leaseTimeout: String, extraYAML: String = ""
    ) throws -> ServerProcess {
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                cluster:
                  node_id: \(id)
                  lease_timeout: \(leaseTimeout)
                trace:
                  secret_file: \(shared.appendingPathComponent("trace-secret").path)
                  signing_key_file: \(shared.appendingPathComponent("trace-signing-key").path)
                  scan_flush_interval: 200ms
                \(extraYAML)
                """, databaseYAML: "url: \(url)")
        server.token = token
        return server
    }

    /// node-a leading and node-b standing by (3 s lease), with the rules in `shared` checked
    /// every second and one webhook to `hook`.
    static func leaderAndStandby(
        broker: TestBroker, url: String, token: String, shared: URL, hook: WebhookReceiver
    ) async throws -> (ServerProcess, ServerProcess) {
        let rules = """
            rules:
              directory: \(shared.path)
              check_interval: 1s
              webhooks:
                - { url: "http://127.0.0.1:\(hook.port)/hook", retries: 3, backoff: 200ms }
            """
        let a = try node("node-a", broker: broker, url: url, token: token, shared: shared, leaseTimeout: "3s", extraYAML: rules)
        try await a.start(timeout: 60)
        let b = try node("node-b", broker: broker, url: url, token: token, shared: shared, leaseTimeout: "3s", extraYAML: rules)
        try await b.start(timeout: 60, requireMQTT: false)
        #expect(await role(a) == ("leader", "node-a"))
        #expect(await eventually(timeout: 10) { await role(b) == ("standby", "node-a") }, "\(b.log().suffix(2000))")
        return (a, b)
    }

    static func role(_ server: ServerProcess) async -> (role: String?, leader: String?) {
        guard let json = try? await server.get("/healthz").json else { return (nil, nil) }
        return (json["role"] as? String, json["leader"] as? String)
    }

    static func publisher(_ port: Int) throws -> MQTTPublisher {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(
                port: port, clientID: "it-failover-\(UUID().uuidString.prefix(8))", cleanSession: true, maxInflight: 1000))
        try publisher.connect()
        return publisher
    }

    static func sharedDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("failover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("SIGKILL the leader in the middle of 20,000 QoS 1 messages: the standby leads within 15 s, every reading is stored once, the alert raised across the kill is raised and notified once, and scans on both nodes sum up")
    func sigkillLeader() async throws {
        let (url, token) = try Self.database()
        let shared = try Self.sharedDirectory()
        defer { try? FileManager.default.removeItem(at: shared) }
        try """
            rules:
              - id: ph-high
                name: pH 过高 pH high
                source: test
                metric: ph
                condition: { kind: threshold }
                levels:
                  yellow: { at_least: 9 }
                for: 3m
            """.write(to: shared.appendingPathComponent("ph.yaml"), atomically: true, encoding: .utf8)
        let hook = try WebhookReceiver()
        defer { hook.stop() }
        let broker = try TestBroker(persistence: true)
        let (a, b) = try await Self.leaderAndStandby(broker: broker, url: url, token: token, shared: shared, hook: hook)
        #expect((try await b.get("/healthz").json["mqtt"] as? String) == "standby")

        // A code issued through node-a, scanned on both nodes: the count is the sum.
        for arguments in [
            ["trace", "producer", "add", "--id", "P1", "--name", "连州蔬菜合作社", "--credit-code", "91350100M000100Y43", "--area-code", "441882"],
            ["trace", "plot", "add", "--id", "PLOT1", "--producer", "P1", "--name", "卿罡村3号地", "--location", "保安镇卿罡村", "--area-code", "441882"],
            ["trace", "batch", "create", "--id", "B1", "--plot", "PLOT1", "--product", "连州菜心", "--quantity", "5", "--unit", "kg", "--planted", "2025-09-01"],
        ] {
            let result = try a.cli(arguments)
            try #require(result.status == 0, "\(arguments.prefix(3)): \(result.output)")
        }
        let codes = a.directory.appendingPathComponent("codes.csv").path
        let issued = try a.cli(["trace", "issue", "--batch", "B1", "--count", "1", "--out", codes])
        try #require(issued.status == 0, "\(issued.output)")
        let code = try #require(try String(contentsOfFile: codes, encoding: .utf8).split(separator: "\n").dropFirst().first?.split(separator: ",").first.map(String.init))
        for _ in 0..<3 { #expect(try await a.text("/t/\(code)").contains("连州菜心")) }
        for _ in 0..<2 { #expect(try await b.text("/t/\(code)").contains("连州菜心")) }
        let summed = await eventually(timeout: 10) {
            let store = try? PostgresStore(url: url)
            defer { try? store?.close() }
            return (try? store?.traceScan(code: code.replacingOccurrences(of: "-", with: ""))?.count) == 5
        }
        #expect(summed, "the stored count is the sum of both nodes' scans")
        #expect(try await b.text("/t/\(code)").contains("此码已被查询6次"), "node-b reads the sum back")

        // 20,000 water levels over 100 gauges (2025 timestamps: no rule watches them) and, every
        // 500 messages, a pH report of pond-alarm 10 s apart (recent: not late): the 3rd starts
        // the rule's 3-minute duration on node-a, the 21st (after the kill) completes it on node-b.
        let total = 20_000
        let base = Int64(Date().timeIntervalSince1970 * 1000) / 1000 * 1000 - 600_000
        var messages: [(String, [UInt8])] = []
        var ph = 0
        for i in 0..<total {
            let ts = 1_763_700_000_000 + Int64(i / 100) * 1000
            messages.append(("agri/gauge-\(i % 100)/telemetry", Array("{\"ts\": \(ts), \"values\": {\"water_level\": \(Double(i % 1000) / 100)}}".utf8)))
            if i % 500 == 499 {
                let value = ph < 2 ? 7.2 : 9.4
                messages.append(("agri/pond-alarm/telemetry", Array("{\"ts\": \(base + Int64(ph) * 10_000), \"values\": {\"ph\": \(value)}}".utf8)))
                ph += 1
            }
        }
        let publisher = try Self.publisher(broker.port)
        defer { publisher.disconnect() }
        let half = messages.count / 2
        for (topic, payload) in messages.prefix(half) { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        // Kill node-a once the duration's timer (since the 3rd report) is committed and part of
        // the stream stored: node-b must continue that timer, not start its own.
        let pendingSince = base + 20_000
        let pending = await eventually(timeout: 60, interval: .milliseconds(50)) {
            let states = (try? await a.get("/api/v1/rules/ph-high").json["states"]) as? [[String: Any]]
            return ((states?.first?["pending"] as? [String: Any])?["yellow"] as? NSNumber)?.int64Value == pendingSince
                && ((try? Self.storedReadings(url)) ?? 0) > 2_000
        }
        #expect(pending, "\(a.log().suffix(3000))")
        a.kill()
        let killed = Date()
        let atKill = try Self.storedReadings(url)
        for (topic, payload) in messages.suffix(messages.count - half) { try publisher.publish(topic: topic, payload: payload, qos: 1) }

        let took = await eventually(timeout: 15, interval: .milliseconds(100)) { await Self.role(b).role == "leader" }
        let elapsed = Date().timeIntervalSince(killed)
        #expect(took && elapsed < 15, "node-b led after \(elapsed) s:\n\(b.log().suffix(3000))")
        #expect(b.log().contains("leader lease acquired"))
        #expect(atKill < messages.count, "the kill should land mid-stream (stored \(atKill))")
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(60)))
        let complete = await eventually(timeout: 90, interval: .milliseconds(250)) { (try? Self.storedReadings(url)) == messages.count }
        #expect(complete, "stored \((try? Self.storedReadings(url)) ?? -1) of \(messages.count)\n\(b.log().suffix(3000))")
        let (_, series) = try await b.get("/api/v1/readings?device=gauge-7&from=0&to=now&limit=1000")
        let rows = series["readings"] as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { ($0["ts"] as? NSNumber)?.int64Value }).count == total / 100 && rows.count == total / 100)

        // One alert, raised once, notified once.
        var alerts: [[String: Any]] = []
        #expect(await eventually(timeout: 20) {
            alerts = ((try? await b.get("/api/v1/alerts?device=pond-alarm").json["alerts"]) as? [[String: Any]]) ?? []
            return !alerts.isEmpty
        }, "\(b.log().suffix(2000))")
        #expect(alerts.count == 1 && alerts.first?["level"] as? String == "yellow")
        // Raised by the 21st report exactly: 3 minutes after the timer node-a started.
        #expect((alerts.first?["raised_ts"] as? NSNumber)?.int64Value == pendingSince + 180_000, "\(alerts)")
        let id = try #require((alerts.first?["id"] as? NSNumber)?.int64Value)
        let transitions = (try await b.get("/api/v1/alerts/\(id)").json["transitions"] as? [[String: Any]]) ?? []
        #expect(transitions.map { $0["kind"] as? String ?? "" } == ["raised"])
        #expect(!a.log().contains("alert raised") && b.log().contains("alert raised"), "raised by node-b only")
        func raisedNotices() -> Int {
            hook.requests.filter { request in
                let json = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
                return json?["rule"] as? String == "ph-high" && json?["event"] as? String == "raised"
            }.count
        }
        #expect(await eventually(timeout: 10) { raisedNotices() >= 1 })
        try await Task.sleep(for: .seconds(2))
        #expect(raisedNotices() == 1, "notified once")

        // node-b answers the code too after the failover.
        #expect(try await b.text("/t/\(code)").contains("连州菜心"))
        #expect(b.terminate() == 0)
    }

    @Test("SIGSTOP the leader until it loses its session: the standby leads; SIGCONT: the old leader commits and acknowledges nothing more and steps down (exit 75)")
    func sigstopLeader() async throws {
        let (url, token) = try Self.database()
        let shared = try Self.sharedDirectory()
        defer { try? FileManager.default.removeItem(at: shared) }
        let broker = try TestBroker(persistence: true)
        let a = try Self.node("node-a", broker: broker, url: url, token: token, shared: shared, leaseTimeout: "2s")
        try await a.start(timeout: 60)
        let b = try Self.node("node-b", broker: broker, url: url, token: token, shared: shared, leaseTimeout: "2s")
        try await b.start(timeout: 60, requireMQTT: false)
        #expect(await eventually(timeout: 10) { await Self.role(b) == ("standby", "node-a") })
        #expect(try await a.text("/metrics").contains("shennong_leader{node=\"node-a\"} 1"))
        #expect(try await b.text("/metrics").contains("shennong_leader{node=\"node-b\"} 0"))

        let total = 10_000
        let messages = (0..<total).map { i in
            ("agri/gauge-\(i % 50)/telemetry", Array("{\"ts\": \(1_763_700_000_000 + Int64(i / 50) * 1000), \"values\": {\"water_level\": 1.5}}".utf8))
        }
        let publisher = try Self.publisher(broker.port)
        defer { publisher.disconnect() }
        for (topic, payload) in messages.prefix(total / 2) { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        #expect(await eventually(timeout: 60, interval: .milliseconds(20)) { ((try? Self.storedReadings(url)) ?? 0) > 1_000 })
        a.send(SIGSTOP)
        let stopped = Date()
        // Messages keep coming while node-a is hung: they wait in the broker for a leader.
        for (topic, payload) in messages.suffix(total / 2).prefix(total / 4) { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        let took = await eventually(timeout: 15, interval: .milliseconds(100)) { await Self.role(b).role == "leader" }
        #expect(took, "node-b did not lead:\n\(b.log().suffix(3000))")
        let elapsed = Date().timeIntervalSince(stopped)
        #expect(elapsed < 10, "node-b led \(elapsed) s after the stop")

        // node-a continues: its lease and its epoch are gone; it steps down and exits 75.
        a.send(SIGCONT)
        for (topic, payload) in messages.suffix(total / 4) { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        let exited = await eventually(timeout: 15) { a.exitStatus != nil }
        #expect(exited && a.exitStatus == 75, "node-a: \(String(describing: a.exitStatus))\n\(a.log().suffix(3000))")
        #expect(a.log().contains("leader lease lost"))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(60)))
        let complete = await eventually(timeout: 90, interval: .milliseconds(250)) { (try? Self.storedReadings(url)) == total }
        #expect(complete, "stored \((try? Self.storedReadings(url)) ?? -1) of \(total)\n\(b.log().suffix(3000))")
        let store = try PostgresStore(url: url)
        defer { try? store.close() }
        let holder = try #require(try store.leaseHolder())
        #expect(holder.node == "node-b" && holder.epoch == 2)
        #expect(await Self.role(b) == ("leader", "node-b"))
        #expect(try await b.text("/metrics").contains("shennong_leader{node=\"node-b\"} 1"))
        #expect(b.log().contains("leader lease acquired: this node leads"))
        #expect(b.terminate() == 0)
    }
}
