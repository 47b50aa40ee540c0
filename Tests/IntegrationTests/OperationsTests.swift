import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// `serve --check`, a bounded graceful shutdown under load, and files that are not our database.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct OperationsTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-ops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("serve --check passes the shipped configuration with a summary and exits 0")
    func checkGoodConfig() throws {
        let root = ShennongBinary.repositoryRoot
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("shennong.yaml").path
        try """
            profiles_dir: \(root.appendingPathComponent("devices").path)
            rules:
              directory: \(root.appendingPathComponent("Config/rules").path)
            database:
              path: \(dir.appendingPathComponent("none-yet.db").path)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ShennongBinary.run(["serve", "--check", "--config", config])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("通过：") && result.output.contains("device profiles") && result.output.contains("rules in"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("none-yet.db").path), "--check must not create the database")
    }

    @Test("serve --check names every broken file with its line and exits non-zero")
    func checkBrokenFiles() throws {
        let root = ShennongBinary.repositoryRoot
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let profiles = dir.appendingPathComponent("devices")
        let rules = dir.appendingPathComponent("rules")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: root.appendingPathComponent("devices/generic.yaml"), to: profiles.appendingPathComponent("generic.yaml"))
        // A profile whose YAML is broken on line 3, and a rule file with a bad line 4.
        try "name: broken\ndomain: water\nfields: [unclosed\n".write(
            to: profiles.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: root.appendingPathComponent("Config/rules").appendingPathComponent(
                try #require(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Config/rules").path)
                    .sorted().first { $0.hasSuffix(".yaml") })),
            to: rules.appendingPathComponent("good.yaml"))
        try "rules:\n  - id: bad\n    level: purple\n    when: {{{\n".write(
            to: rules.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("shennong.yaml").path
        // The config itself: a wrong type on line 5.
        try """
            profiles_dir: \(profiles.path)
            rules:
              directory: \(rules.path)
            http:
              port: not-a-port
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ShennongBinary.run(["serve", "--check", "--config", config])
        #expect(result.status != 0)
        #expect(result.output.contains("\(config):5:"), "config error with its line: \(result.output)")

        // With the config fixed, the profile and rule errors remain, each with its file and line.
        try "profiles_dir: \(profiles.path)\nrules:\n  directory: \(rules.path)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let again = try ShennongBinary.run(["serve", "--check", "--config", config])
        #expect(again.status != 0 && !again.output.contains("\(config):"))
        #expect(again.output.contains("broken.yaml:"), "profile error with its line: \(again.output)")
        #expect(again.output.contains("bad.yaml:"), "rule file error: \(again.output)")
        #expect(again.output.contains("个错误"))
    }

    @Test("SIGTERM under load: the server exits within its shutdown timeout and nothing it acknowledged is lost")
    func gracefulShutdownUnderLoad() async throws {
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(brokerPort: broker.port, extraYAML: "shutdown_timeout_seconds: 20")
        try await server.start()
        let total = 20_000
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(
            port: broker.port, clientID: "it-shutdown-\(UUID().uuidString.prefix(6))", cleanSession: true, maxInflight: 1000))
        try publisher.connect()
        defer { publisher.disconnect() }
        for i in 0..<total {
            let payload = "{\"ts\": \(1_763_700_000_000 + Int64(i / 50) * 1000), \"values\": {\"water_level\": \(Double(i % 700) / 100)}}"
            try publisher.publish(topic: "agri/gauge-\(i % 50)/telemetry", payload: Array(payload.utf8), qos: 1)
        }
        #expect(await eventually(timeout: 60, interval: .milliseconds(20)) { ((try? server.storedReadings()) ?? 0) > 200 })
        // Generous bound: "exits", not "exits fast".
        let status = server.terminate(timeout: 60)
        #expect(status == 0, "the server must exit by itself after SIGTERM:\n\(server.log().suffix(2000))")
        #expect(server.log().contains("ingest draining"))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(60)))
        // What it acknowledged is committed; the rest waits in the broker: after a restart all is there.
        try await server.start()
        let complete = await eventually(timeout: 120, interval: .milliseconds(250)) { (try? server.storedReadings()) == total }
        #expect(complete, "stored \((try? server.storedReadings()) ?? -1) of \(total)")
        #expect(server.terminate() == 0)
    }

    @Test("a corrupt or foreign database file is refused at start with a clear message and left untouched",
          arguments: ["random-bytes", "foreign-sqlite"])
    func refusesForeignDatabase(_ kind: String) async throws {
        let broker = try TestBroker(persistence: false)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("other.db").path
        if kind == "random-bytes" {
            var generator = SystemRandomNumberGenerator()
            try Data((0..<65536).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: file))
        } else {
            let made = try runTool(["sqlite3", file, "CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT); INSERT INTO accounts VALUES (1, 'x');"])
            #expect(made.status == 0, "\(made.output)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        // ServerProcess creates its token on its own file; the server is then pointed at the other one.
        let server = try ServerProcess(brokerPort: broker.port, extraYAML: "")
        let config = try String(contentsOfFile: server.configPath, encoding: .utf8)
            .replacingOccurrences(of: "path: \(server.databasePath)", with: "path: \(file)")
        try config.write(toFile: server.configPath, atomically: true, encoding: .utf8)
        await #expect(throws: (any Error).self) { try await server.start(timeout: 20) }
        #expect(!server.isRunning)
        let log = server.log()
        #expect(log.contains(kind == "random-bytes" ? "is not a SQLite database" : "another application"), "\(log)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before, "the file must be left as it was")
    }
}
