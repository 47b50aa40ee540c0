import Foundation
import MosquittoClient
import ShennongProcess
import ShennongTestSupport
import Testing

/// Device commands end to end: a real mosquitto, the real server, a test device that listens on
/// its command topic (mosquitto_sub) and answers with MQTTPublisher; the CLI and the API; SIGKILL
/// while a command is provably queued, sending, or sent (each state read back from the API before
/// the kill).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct CommandIntegrationTests {
    /// The repository's profiles plus `pond-test` and `pond-fast`: the pond controller with short
    /// reply (10 s, 3 s) and confirmation (12 s, 4 s) times.
    static func profiles() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let devices = ShennongBinary.repositoryRoot.appendingPathComponent("devices")
        for file in try FileManager.default.contentsOfDirectory(atPath: devices.path) where file.hasSuffix(".yaml") {
            try FileManager.default.copyItem(at: devices.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        try """
            name: pond-test
            domain: water
            description: 测试池塘控制器 pond controller with short command times
            expected_interval: 60
            fields:
              do: dissolved_oxygen
              aerator: aerator_on
            commands:
              aerator_on:
                description: 开启增氧机
                state: { metric: aerator_on, value: 1 }
                reply_within: 3
                confirm_within: 4
              aerator_off:
                description: 关闭增氧机
                state: { metric: aerator_on, value: 0 }
                reply_within: 3
                confirm_within: 4
              set_do_limits:
                description: 设置溶氧上下限
                args:
                  lower: { type: number, min: 0.5, max: 10 }
            """.write(to: dir.appendingPathComponent("pond-test.yaml"), atomically: true, encoding: .utf8)
        // pond-test answers within 10 s (room for a loaded machine); pond-fast within 3 s (for the time-outs).
        let text = try String(contentsOf: dir.appendingPathComponent("pond-test.yaml"), encoding: .utf8)
        try text.replacingOccurrences(of: "name: pond-test", with: "name: pond-fast")
            .write(to: dir.appendingPathComponent("pond-fast.yaml"), atomically: true, encoding: .utf8)
        try text.replacingOccurrences(of: "reply_within: 3", with: "reply_within: 10")
            .replacingOccurrences(of: "confirm_within: 4", with: "confirm_within: 12")
            .write(to: dir.appendingPathComponent("pond-test.yaml"), atomically: true, encoding: .utf8)
        return dir.path
    }

    /// A field device: hears its command topic, publishes presence, replies and telemetry.
    final class TestDevice: @unchecked Sendable {
        // Invariant: used from one test at a time.
        let id: String
        let port: Int
        let listener: AlertIntegrationTests.Subscriber
        let publisher: MQTTPublisher

        init(_ id: String, port: Int) throws {
            self.id = id
            self.port = port
            listener = try AlertIntegrationTests.Subscriber(port: port, topic: "agri/\(id)/command")
            publisher = try MQTTPublisher(
                configuration: MQTTConfiguration(port: port, clientID: "it-device-\(id)-\(UUID().uuidString.prefix(6))", cleanSession: true, maxInflight: 100))
            try publisher.connect()
        }

        deinit { publisher.disconnect() }

        /// Commands received so far (the JSON objects).
        var commands: [[String: Any]] { listener.messages.filter { $0.topic == "agri/\(id)/command" }.map(\.json) }

        func received(_ command: String) -> Int { commands.filter { $0["id"] as? String == command }.count }

        func publish(_ topic: String, _ text: String, retain: Bool = false) throws {
            try publisher.publish(topic: "agri/\(id)/\(topic)", payload: Array(text.utf8), qos: 1, retain: retain)
            _ = publisher.waitUntilAcknowledged(timeout: .seconds(5))
        }

        func presence(_ online: Bool) throws { try publish("status", online ? "online" : "offline", retain: true) }
        func reply(_ command: String, _ status: String, _ detail: String = "") throws {
            try publish("command/reply", #"{"id":"\#(command)","status":"\#(status)","detail":"\#(detail)"}"#)
        }
        func telemetry(_ text: String) throws { try publish("telemetry", text) }

        /// Waits until mosquitto_sub is subscribed (it receives a probe on the command topic
        /// published by someone else than Shennong).
        func ready() async throws {
            let ok = await eventually(timeout: 10) {
                try? self.publish("command", #"{"id":"probe"}"#)
                return self.received("probe") > 0
            }
            #expect(ok, "the device's subscriber did not start")
        }
    }

    struct Env {
        let broker: TestBroker
        let server: ServerProcess
    }

    static func start(_ extra: String = "") async throws -> Env {
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                commands:
                  interval: 200ms
                rules:
                  enabled: false
                \(extra)
                """, profilesDir: try profiles())
        try await server.start()
        return Env(broker: broker, server: server)
    }

    static func register(_ server: ServerProcess, _ id: String, profile: String = "pond-test") throws {
        let added = try server.cli(["devices", "add", id, "--profile", profile, "--domain", "water"])
        #expect(added.status == 0, "\(added.output)")
    }

    /// `devices command ID NAME …` through the CLI as JSON; the command's id.
    static func send(_ server: ServerProcess, _ device: String, _ name: String, _ extra: [String] = []) throws -> String {
        let run = try server.cli(["devices", "command", device, name, "--format", "json"] + extra)
        #expect(run.status == 0, "\(run.output)")
        let rows = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String: Any]]
        return try #require(rows?.first?["id"] as? String, "\(run.output)")
    }

    static func command(_ server: ServerProcess, _ id: String) async throws -> (state: String, transitions: [[String: Any]], json: [String: Any]) {
        let detail = try await server.get("/api/v1/commands/\(id)").json
        let command = detail["command"] as? [String: Any] ?? [:]
        return (command["state"] as? String ?? "", detail["transitions"] as? [[String: Any]] ?? [], command)
    }

    static func waitFor(_ server: ServerProcess, _ id: String, _ states: Set<String>, timeout: TimeInterval = 15) async throws -> String {
        var last = ""
        _ = await eventually(timeout: timeout) {
            last = (try? await command(server, id).state) ?? ""
            return states.contains(last)
        }
        return last
    }

    @Test("a command to an online device: sent once as JSON (id, name, args, issued, expires), replied ok, confirmed by aerator_on; refused commands send nothing")
    func sendReplyConfirm() async throws {
        let env = try await Self.start()
        let server = env.server
        try Self.register(server, "pond-t1")
        let device = try TestDevice("pond-t1", port: env.broker.port)
        try await device.ready()
        try device.presence(true)

        // Refused: unknown device, undeclared command, bad argument. Nothing recorded, nothing sent.
        let unknown = try server.cli(["devices", "command", "nope", "aerator_on"])
        #expect(unknown.status != 0 && unknown.output.contains("unknown device"), "\(unknown.output)")
        let undeclared = try server.cli(["devices", "command", "pond-t1", "open_valve"])
        #expect(undeclared.status != 0 && undeclared.output.contains("open_valve"), "\(undeclared.output)")
        let bad = try server.cli(["devices", "command", "pond-t1", "set_do_limits", "--arg", "lower=99"])
        #expect(bad.status != 0 && bad.output.contains("lower"), "\(bad.output)")
        let listed = try server.cli(["devices", "commands", "pond-t1", "--format", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [Any])?.isEmpty == true, "\(listed.output)")

        let id = try Self.send(server, "pond-t1", "set_do_limits", ["--arg", "lower=3.5", "--expires", "5m"])
        #expect(try await Self.waitFor(server, id, ["sent"]) == "sent")
        let got = try #require(device.commands.first { $0["id"] as? String == id })
        #expect(got["name"] as? String == "set_do_limits")
        #expect((got["args"] as? [String: Any])?["lower"] as? Double == 3.5)
        #expect((got["issued"] as? String)?.hasSuffix("Z") == true && (got["expires"] as? String)?.hasSuffix("Z") == true)
        // A reply from another device, or that is not JSON, changes nothing.
        let other = try TestDevice("pond-t9", port: env.broker.port)
        try other.reply(id, "ok")
        try device.publish("command/reply", "not json")
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await Self.command(server, id).state == "sent")
        try device.reply(id, "ok", "已设置")
        #expect(try await Self.waitFor(server, id, ["acknowledged"]) == "acknowledged")

        // aerator_on: acknowledged, then confirmed by the state metric.
        let on = try Self.send(server, "pond-t1", "aerator_on")
        #expect(try await Self.waitFor(server, on, ["sent"]) == "sent")
        try device.reply(on, "ok")
        try device.telemetry(#"{"do": 4.2, "aerator": true}"#)
        let confirmed = await eventually(timeout: 30) { ((try? await Self.command(server, on).json["confirmed_at"]) as? String) != nil }
        #expect(confirmed)
        let (state, transitions, _) = try await Self.command(server, on)
        #expect(state == "acknowledged")
        #expect(transitions.map { $0["to"] as? String ?? "" } == ["queued", "sending", "sent", "acknowledged", "acknowledged"])
        #expect(device.received(id) == 1 && device.received(on) == 1)
        let list = try server.cli(["devices", "commands", "pond-t1"])
        #expect(list.output.contains("acknowledged") && list.output.contains("已确认"), "\(list.output)")
    }

    @Test("an offline device: the command is sent when its status says online, or expires; never both")
    func offlineDevice() async throws {
        let env = try await Self.start()
        let server = env.server
        try Self.register(server, "pond-t2", profile: "pond-fast")
        let device = try TestDevice("pond-t2", port: env.broker.port)
        try await device.ready()
        try device.presence(false)
        try await Task.sleep(for: .milliseconds(500))
        let waits = try Self.send(server, "pond-t2", "aerator_on", ["--expires", "2m"])
        let expires = try Self.send(server, "pond-t2", "aerator_off", ["--expires", "2s"])
        #expect(try await Self.waitFor(server, expires, ["expired"]) == "expired")
        #expect(try await Self.command(server, waits).state == "queued")
        #expect(device.received(waits) == 0 && device.received(expires) == 0)
        try device.presence(true)
        #expect(try await Self.waitFor(server, waits, ["sent"]) == "sent")
        try await Task.sleep(for: .milliseconds(600))
        #expect(device.received(waits) == 1)
        #expect(device.received(expires) == 0, "an expired command was sent")
        #expect(try await Self.command(server, expires).state == "expired")
        // No reply within 3 s: timed out, and the actuator alert is raised (red).
        #expect(try await Self.waitFor(server, waits, ["timed_out"]) == "timed_out")
        var alerts: [[String: Any]]?
        _ = await eventually(timeout: 5) {
            alerts = try? await server.get("/api/v1/alerts?device=pond-t2&rule=actuator-unresponsive").json["alerts"] as? [[String: Any]]
            return alerts?.isEmpty == false
        }
        #expect(alerts?.first?["level"] as? String == "red" && alerts?.first?["status"] as? String == "open", "\(alerts ?? [])")
        #expect((alerts?.first?["title"] as? String)?.contains("设备未响应") == true, "\(server.log().suffix(3000))")
    }

    @Test("SIGKILL while queued: after restart it is sent exactly once when the device comes online")
    func killWhileQueued() async throws {
        let env = try await Self.start()
        let server = env.server
        try Self.register(server, "pond-t3")
        let device = try TestDevice("pond-t3", port: env.broker.port)
        try await device.ready()
        try device.presence(false)
        try await Task.sleep(for: .milliseconds(500))
        let id = try Self.send(server, "pond-t3", "aerator_on", ["--expires", "5m"])
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await Self.command(server, id).state == "queued")
        server.kill()
        try device.presence(true)
        try await server.start()
        #expect(try await Self.waitFor(server, id, ["sent"]) == "sent")
        try device.reply(id, "ok")
        #expect(try await Self.waitFor(server, id, ["acknowledged"]) == "acknowledged")
        try await Task.sleep(for: .milliseconds(600))
        #expect(device.received(id) == 1)
        #expect(try await Self.command(server, id).transitions.map { $0["to"] as? String ?? "" } == ["queued", "sending", "sent", "acknowledged"])
    }

    @Test("SIGKILL after sent, before the reply: not sent again after restart; the reply (or its deadline) ends it")
    func killWhileSent() async throws {
        let env = try await Self.start()
        let server = env.server
        try Self.register(server, "pond-t4")
        let device = try TestDevice("pond-t4", port: env.broker.port)
        try await device.ready()
        try device.presence(true)
        let answered = try Self.send(server, "pond-t4", "set_do_limits", ["--arg", "lower=2"])
        let silent = try Self.send(server, "pond-t4", "aerator_off")
        #expect(try await Self.waitFor(server, answered, ["sent"]) == "sent")
        #expect(try await Self.waitFor(server, silent, ["sent"]) == "sent")
        server.kill()
        try await server.start()
        // The device answers now, after the restart: the persistent reply session hears it.
        try device.reply(answered, "ok")
        #expect(try await Self.waitFor(server, answered, ["acknowledged"]) == "acknowledged")
        #expect(try await Self.waitFor(server, silent, ["timed_out"], timeout: 25) == "timed_out")
        #expect(device.received(answered) == 1 && device.received(silent) == 1)
    }

    @Test("SIGKILL while sending (the broker stopped before its PUBACK): never sent again after restart; one final state")
    func killWhileSending() async throws {
        let env = try await Self.start()
        let server = env.server
        try Self.register(server, "pond-t5", profile: "pond-fast")
        let device = try TestDevice("pond-t5", port: env.broker.port)
        try await device.ready()
        try device.presence(true)
        try await Task.sleep(for: .milliseconds(500))
        let pid = try #require(env.broker.processIdentifier)
        kill(pid, SIGSTOP)
        let id = try Self.send(server, "pond-t5", "aerator_on")
        let sending = try await Self.waitFor(server, id, ["sending"], timeout: 10)
        #expect(sending == "sending")
        server.kill()
        kill(pid, SIGCONT)
        try await server.start()
        let end = try await Self.waitFor(server, id, ["timed_out", "acknowledged", "failed"])
        #expect(end == "timed_out")
        let (_, transitions, json) = try await Self.command(server, id)
        #expect(transitions.contains { ($0["note"] as? String)?.contains("never sent again") == true })
        #expect(transitions.filter { $0["to"] as? String == "sending" && $0["from"] as? String == "queued" }.count == 1)
        #expect(json["finished_at"] != nil)
        try await Task.sleep(for: .milliseconds(600))
        #expect(device.received(id) <= 1, "sent twice")
    }
}
