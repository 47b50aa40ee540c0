import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// Reject replay end to end: payloads rejected under a broken profile, the profile file fixed,
/// the server restarted (profiles load at start), `shennong readings rejects replay` run twice.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RejectReplayIntegrationTests {
    static func profile(mapsOxygen: Bool) -> String {
        """
        name: vendor-probe
        domain: water
        description: a probe whose do field the first version forgot
        topic: agri/{device}/telemetry
        expected_interval: 60
        fields:
          temp: { metric: water_temp }
        \(mapsOxygen ? "  do: { metric: dissolved_oxygen }" : "")
        pass_through_canonical: false
        """
    }

    @Test("rejects of a broken profile: fixed, restarted, replayed (dry run first) with their times; a second replay stores nothing twice")
    func replayAfterProfileFix() async throws {
        let profiles = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: profiles) }
        let repository = ShennongBinary.repositoryRoot.appendingPathComponent("devices")
        try FileManager.default.copyItem(
            at: repository.appendingPathComponent("generic.yaml"), to: profiles.appendingPathComponent("generic.yaml"))
        let probe = profiles.appendingPathComponent("vendor-probe.yaml")
        try Self.profile(mapsOxygen: false).write(to: probe, atomically: true, encoding: .utf8)

        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        let config = try String(contentsOfFile: server.configPath, encoding: .utf8)
            .replacingOccurrences(of: "profiles_dir: \(repository.path)", with: "profiles_dir: \(profiles.path)")
        try config.write(toFile: server.configPath, atomically: true, encoding: .utf8)
        try await server.start()
        let added = try server.cli(["devices", "add", "probe-1", "--profile", "vendor-probe", "--domain", "water"])
        #expect(added.status == 0, "\(added.output)")

        let stamped = Int64(Date().timeIntervalSince1970) * 1000 - 120_000
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-replay", cleanSession: true))
        try publisher.connect()
        // Without a time of its own (stored at its receive time), with one, and one never decodable.
        for payload in [#"{"do": 5.5, "temp": 27.1}"#, #"{"ts": \#(stamped), "values": {"do": 4.25}}"#, "{not json"] {
            try publisher.publish(topic: "agri/probe-1/telemetry", payload: Array(payload.utf8), qos: 1)
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
        publisher.disconnect()
        let settled = await eventually(timeout: 20) {
            ((try? await server.get("/api/v1/rejects").json["rejects"] as? [[String: Any]])?.count ?? 0) >= 3
        }
        #expect(settled, "\(server.log())")
        let rejects = try #require(try await server.get("/api/v1/rejects").json["rejects"] as? [[String: Any]])
        #expect(rejects.compactMap { $0["code"] as? String }.sorted() == ["malformed_json", "unknown_metric", "unknown_metric"])
        let receivedAt = try #require(
            rejects.first { ($0["payload"] as? String)?.contains("27.1") == true }?["received_at"] as? String)

        // Replayed with the broken profile still loaded: nothing decodes, nothing duplicated.
        let before = try server.cli(["readings", "rejects", "replay", "--format", "json"])
        #expect(before.status == 0, "\(before.output)")
        #expect(try Self.counts(before.output) == [3, 0, 3, 0])
        #expect(try await Self.rejects(server).count == 3)

        // The profile fixed; profiles load when the server starts.
        try Self.profile(mapsOxygen: true).write(to: probe, atomically: true, encoding: .utf8)
        _ = server.terminate()
        try await server.start()

        let dry = try server.cli(["readings", "rejects", "replay", "--dry-run", "--format", "json"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(try Self.counts(dry.output) == [3, 3, 1, 2])
        #expect(try await Self.oxygen(server).isEmpty)
        #expect(try await Self.rejects(server).count == 3)

        let replay = try server.cli(["readings", "rejects", "replay", "--since=-1h", "--format", "json"])
        #expect(replay.status == 0, "\(replay.output)")
        #expect(try Self.counts(replay.output) == [3, 2, 1, 2])
        let oxygen = try await Self.oxygen(server)
        #expect(oxygen.map(\.value) == [4.25, 5.5] || oxygen.map(\.value) == [5.5, 4.25])
        #expect(oxygen.first { $0.value == 4.25 }?.ts == stamped)
        #expect(oxygen.first { $0.value == 5.5 }?.time == receivedAt, "a payload without its time keeps its receive time")
        let left = try await Self.rejects(server)
        #expect(left.compactMap { $0["code"] as? String } == ["malformed_json"])

        let again = try server.cli(["readings", "rejects", "replay", "--format", "json"])
        #expect(again.status == 0, "\(again.output)")
        #expect(try Self.counts(again.output) == [1, 0, 1, 0])
        #expect(try await Self.oxygen(server).count == 2)
        #expect(try await Self.rejects(server).count == 1)
        // The text table too.
        let table = try server.cli(["readings", "rejects", "replay", "--reason", "unknown_metric", "--device", "probe-1"])
        #expect(table.status == 0 && table.output.contains("检查") && table.output.contains("已入库"), "\(table.output)")
        _ = server.terminate()
    }

    /// examined, stored, still_rejected, replayed_rejects of a `--format json` answer.
    static func counts(_ output: String) throws -> [Int] {
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        let row = try #require(rows.first)
        return ["examined", "stored", "still_rejected", "replayed_rejects"].map { row[$0] as? Int ?? -1 }
    }

    static func rejects(_ server: ServerProcess) async throws -> [[String: Any]] {
        try #require(try await server.get("/api/v1/rejects").json["rejects"] as? [[String: Any]])
    }

    static func oxygen(_ server: ServerProcess) async throws -> [(ts: Int64, time: String, value: Double)] {
        let (_, body) = try await server.get("/api/v1/readings?device=probe-1&metric=dissolved_oxygen&from=-1d&to=now")
        return (body["readings"] as? [[String: Any]] ?? []).map {
            (($0["ts"] as? NSNumber)?.int64Value ?? 0, $0["time"] as? String ?? "", ($0["value"] as? NSNumber)?.doubleValue ?? .nan)
        }
    }
}
