import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// Storage operations on a live server: retention and online backup while ingest goes on.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StorageIntegrationTests {
    static func payload(ts: Int64, level: Double) -> [UInt8] {
        Array("{\"ts\": \(ts), \"values\": {\"water_level\": \(level)}}".utf8)
    }

    static func rows(_ result: CLIResult) throws -> [[String: Any]] {
        guard result.status == 0,
            let rows = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
        else { throw TestBrokerError("CLI failed: \(result.output)") }
        return rows
    }

    @Test("db retention drops exactly what --dry-run listed on a live server while ingest goes on; db backup restores with serve")
    func retentionAndBackupOnALiveServer() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let day: Int64 = 86_400_000
        // Beyond the 90-day raw retention, at 01:00 UTC so the two hours of readings stay in one
        // day bucket whatever the time of day the test runs.
        let old = (now - 200 * day) / day * day + 3_600_000
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-storage", cleanSession: true))
        try publisher.connect()
        defer { publisher.disconnect() }
        for i in 0..<120 {
            try publisher.publish(topic: "agri/gauge-old/telemetry", payload: Self.payload(ts: old + Int64(i) * 60_000, level: 2 + Double(i) / 100))
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(20)))
        #expect(await eventually(timeout: 20) { (try? server.storedReadings()) == 120 })

        // Ingest goes on during retention and backup: recent readings, one every few ms.
        let recentCount = 400
        let feeder = Task.detached {
            for i in 0..<recentCount {
                try publisher.publish(topic: "agri/gauge-new/telemetry", payload: Self.payload(ts: now - 3_600_000 + Int64(i) * 1000, level: 3))
                try await Task.sleep(for: .milliseconds(3))
            }
        }

        let dry = try Self.rows(ShennongBinary.run(["db", "retention", "--dry-run", "--db", server.databasePath, "--format", "json"]))
        let real = try Self.rows(ShennongBinary.run(["db", "retention", "--db", server.databasePath, "--format", "json"]))
        func key(_ row: [String: Any]) -> String { "\(row["tier"] ?? "")|\(row["bucket"] ?? "")|\(row["rows"] ?? "")" }
        #expect(!dry.isEmpty, "the 200-day-old bucket should be due")
        #expect(dry.map(key).sorted() == real.map(key).sorted(), "dry run \(dry) vs real run \(real)")
        #expect(dry.contains { $0["tier"] as? String == "raw" && ($0["rows"] as? Int) == 120 })
        // Nothing newer than the raw horizon (90 days) is listed.
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let horizon = Date(timeIntervalSince1970: Double(now - 90 * day) / 1000)
        for row in dry where row["tier"] as? String == "raw" {
            let until = try #require(iso.date(from: row["until"] as? String ?? ""), "until of \(row)")
            #expect(until <= horizon, "\(row) reaches past the retention horizon")
        }

        // The pages retention freed go back to the file system in short steps, ingest going on.
        let vacuum = try Self.rows(ShennongBinary.run(["db", "vacuum", "--db", server.databasePath, "--format", "json"]))
        func item(_ name: String) -> Any? { vacuum.first { $0["item"] as? String == name }?["value"] }
        #expect(item("incremental") as? Bool == true && item("free_pages_after") as? Int == 0, "\(vacuum)")
        let onPostgres = try ShennongBinary.run(["db", "vacuum", "--db", "postgres://shennong@127.0.0.1:1/none"])
        #expect(onPostgres.status != 0 && onPostgres.output.contains("autovacuum"), "\(onPostgres.output)")

        let backupPath = server.directory.appendingPathComponent("backup.db").path
        let backup = try ShennongBinary.run(["db", "backup", "--db", server.databasePath, backupPath])
        #expect(backup.status == 0, "\(backup.output)")
        try await feeder.value
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(20)))

        // Raw readings of the old bucket are gone; its daily rollup outlives them; every recent reading is kept.
        let (_, oldRaw) = try await server.get("/api/v1/readings?device=gauge-old&from=0&to=now")
        #expect((oldRaw["readings"] as? [Any])?.count == 0)
        let (_, oldDaily) = try await server.get("/api/v1/readings?device=gauge-old&from=0&to=now&every=1d")
        let daily = (oldDaily["aggregates"] as? [[String: Any]] ?? []).reduce(0) { $0 + (($1["count"] as? Int) ?? 0) }
        #expect(daily == 120)
        #expect(await eventually(timeout: 20) {
            let (_, recent) = (try? await server.get("/api/v1/readings?device=gauge-new&from=0&to=now&limit=10000")) ?? (0, [:])
            return (recent["readings"] as? [Any])?.count == recentCount
        })
        #expect(server.terminate() == 0)

        // The backup opens with `shennong serve` and holds what was committed when it was taken.
        let restored = try ServerProcess(brokerPort: broker.port, database: backupPath)
        try await restored.start()
        let (status, health) = try await restored.get("/healthz")
        #expect(status == 200)
        #expect(health["database"] as? String == "ok")
        let (_, devices) = try await restored.get("/api/v1/devices")
        #expect(Set((devices["devices"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }).contains("gauge-old"))
        #expect(restored.terminate() == 0)
    }
}
