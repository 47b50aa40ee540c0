import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Rule files reloaded on SIGHUP, and a broken file refused.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AlertReloadTests {
    /// The pid of the `shennong serve` started with `config` (from /proc), or nil.
    static func serverPID(config: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.contains("serve") && args.contains(config) { return pid }
        }
        return nil
    }

    static func rule(_ id: String, threshold: Double) -> String {
        """
          - id: \(id)
            name: \(id)
            source: test
            metric: water_level
            condition: { kind: threshold }
            levels:
              yellow: { at_least: \(threshold) }

        """
    }

    @Test("SIGHUP reloads the rule files; a file with an error keeps the rules in force")
    func sighupReload() async throws {
        let broker = try TestBroker(persistence: false)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("stage.yaml")
        try ("# test\nrules:\n" + Self.rule("stage-a", threshold: 3)).write(to: file, atomically: true, encoding: .utf8)
        let server = try ServerProcess(brokerPort: broker.port, extraYAML: "rules:\n  directory: \(dir.path)")
        try await server.start()
        func ids() async -> [String] {
            let rules = (try? await server.get("/api/v1/rules").json["rules"]) as? [[String: Any]] ?? []
            return rules.compactMap { $0["id"] as? String }.sorted()
        }
        #expect(await ids() == ["stage-a"])
        let pid = try #require(Self.serverPID(config: server.configPath))

        try ("# test\nrules:\n" + Self.rule("stage-a", threshold: 3) + Self.rule("stage-b", threshold: 10))
            .write(to: file, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(await eventually(timeout: 10) { await ids() == ["stage-a", "stage-b"] }, "\(server.log().suffix(1500))")

        // A typo: the reload is refused, the rules in force stay.
        try ("# test\nrules:\n" + Self.rule("stage-c", threshold: 3) + "    colour: red\n").write(to: file, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(await eventually(timeout: 10) { server.log().contains("keeping the rules in force") })
        #expect(await ids() == ["stage-a", "stage-b"])
        #expect(server.isRunning)

        // The reloaded rule evaluates.
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-reload", cleanSession: true))
        try publisher.connect()
        let ts = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        try publisher.publish(topic: "agri/gauge-r/telemetry", payload: Array("{\"ts\": \(ts), \"values\": {\"water_level\": 12}}".utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()
        let raised = await eventually(timeout: 10) {
            let alerts = (try? await server.get("/api/v1/alerts?device=gauge-r").json["alerts"]) as? [[String: Any]] ?? []
            return Set(alerts.compactMap { $0["rule"] as? String }) == ["stage-a", "stage-b"]
        }
        #expect(raised)
        #expect(server.terminate() == 0)
    }
}
