import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// A full disk under the database: the server stops acknowledging (the broker keeps the
/// messages), stays up, says so in the log, /healthz and /metrics, and resumes by itself
/// when space returns — with every published reading stored.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct DiskFullTests {
    /// A small tmpfs, or the reason there cannot be one here.
    final class SmallFileSystem: @unchecked Sendable {
        // Invariant for @unchecked Sendable: immutable after init; used by one test.
        let mountPoint: URL

        init(megabytes: Int) throws {
            mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-tmpfs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
            let result = try runTool(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint.path])
            guard result.status == 0 else {
                try? FileManager.default.removeItem(at: mountPoint)
                throw TestBrokerError("mount -t tmpfs failed: \(result.output)")
            }
        }

        func unmount() {
            _ = try? runTool(["umount", "-l", mountPoint.path])
            try? FileManager.default.removeItem(at: mountPoint)
        }

        /// Writes `filler` until the file system is full; returns the bytes written.
        func fill(_ name: String) -> Int {
            let path = mountPoint.appendingPathComponent(name).path
            guard let handle = fopen(path, "w") else { return 0 }
            defer { fclose(handle) }
            let chunk = [UInt8](repeating: 0x5A, count: 4096)
            var written = 0
            while fwrite(chunk, 1, chunk.count, handle) == chunk.count, fflush(handle) == 0 {
                written += chunk.count
            }
            return written
        }
    }

    /// A flow rule no reading of the test crosses, except gauge-alarm's.
    static let flowRule = """
        rules:
          - id: flow-alarm
            name: flow-alarm
            source: test
            metric: flow
            condition: { kind: threshold }
            levels:
              yellow: { at_least: 1000 }
        """

    /// Why this machine cannot run the test, or nil.
    static func cannotMount() -> String? {
        if geteuid() != 0 { return "needs root to mount a tmpfs (uid \(geteuid()))" }
        do {
            let probe = try SmallFileSystem(megabytes: 1)
            probe.unmount()
            return nil
        } catch {
            return "cannot mount a tmpfs here: \(error)"
        }
    }

    @Test("disk full: acknowledging stops, the server stays up and says so, and it resumes by itself with nothing lost")
    func diskFullThenSpaceReturns() async throws {
        if let reason = Self.cannotMount() {
            print("DiskFullTests skipped: \(reason)")
            Issue.record("skipped: \(reason)", severity: .warning)
            return
        }
        let fs = try SmallFileSystem(megabytes: 24)
        defer { fs.unmount() }
        // One rule on flow, far above the values published below (all under 50 m³/s).
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-diskfull-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: rules) }
        try Self.flowRule.write(to: rules.appendingPathComponent("flow.yaml"), atomically: true, encoding: .utf8)
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(
            brokerPort: broker.port, extraYAML: "rules:\n  directory: \(rules.path)",
            databasePath: fs.mountPoint.appendingPathComponent("shennong.db").path)
        try await server.start()
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(
            port: broker.port, clientID: "it-diskfull-\(UUID().uuidString.prefix(6))", cleanSession: true, maxInflight: 1000))
        try publisher.connect()
        defer { publisher.disconnect() }
        var published = 0
        func publish(_ count: Int) throws {
            for _ in 0..<count {
                let i = published
                let payload = "{\"ts\": \(1_763_700_000_000 + Int64(i / 20) * 1000), \"values\": {\"water_level\": \(Double(i % 900) / 100), \"flow\": \(Double(i % 500) / 10)}}"
                try publisher.publish(topic: "agri/gauge-\(i % 20)/telemetry", payload: Array(payload.utf8), qos: 1)
                published += 1
            }
        }
        try publish(2_000)
        #expect(await eventually(timeout: 30) { (try? await server.get("/metrics").status) == 200 && ((try? server.storedReadings()) ?? 0) == 2 * 2_000 })

        // Fill the file system. The first message after it crosses the flow rule: its burst is
        // evaluated (the rules raise the alert in memory), its commit fails on the full disk, and
        // that evaluation must be forgotten so that the redelivered reading raises the alert.
        // It goes first: behind a backlog larger than the broker's inflight window (1000) it
        // would only be delivered once space has returned.
        let filled = fs.fill("filler")
        #expect(filled > 0)
        func storageDegraded() async -> Bool {
            ((try? await server.get("/healthz", authorized: false).json["storage"] as? String) ?? "").hasPrefix("degraded")
        }
        let alarm = "{\"ts\": 1763700000000, \"values\": {\"water_level\": 1.5, \"flow\": 2000}}"
        try publisher.publish(topic: "agri/gauge-alarm/telemetry", payload: Array(alarm.utf8), qos: 1)
        let alarmReadings = 2
        var degraded = await eventually(timeout: 10) { await storageDegraded() }
        #expect(degraded, "the commit of the alarm's burst (the only message since the fill) must fail:\n\(server.log().suffix(3000))")
        // Then keep publishing (until the commits fail, if the alarm's did not).
        try publish(2_000)
        for _ in 0..<40 where !degraded {
            try publish(2_000)
            degraded = await eventually(timeout: 3) { await storageDegraded() }
        }
        #expect(degraded, "commits never failed on a full disk:\n\(server.log().suffix(3000))")
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(60)), "the broker takes every message (it queues them)")
        #expect(server.isRunning, "the server must not crash on a full disk")
        let (status, health) = try await server.get("/healthz", authorized: false)
        #expect(status == 200 && health["status"] as? String == "degraded", "\(health)")
        #expect(server.log().contains("storage: commit failed"))
        let metrics = try await server.text("/metrics")
        let failures = metrics.split(separator: "\n").filter { $0.hasPrefix("shennong_commit_failures_total") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        #expect(failures > 0, "shennong_commit_failures_total must move")

        // Space returns: it resumes by itself and every published reading is stored.
        try FileManager.default.removeItem(at: fs.mountPoint.appendingPathComponent("filler"))
        let expected = 2 * published + alarmReadings
        let complete = await eventually(timeout: 180, interval: .milliseconds(500)) { (try? server.storedReadings()) == expected }
        #expect(complete, "stored \((try? server.storedReadings()) ?? -1) of \(expected) readings\n\(server.log().suffix(3000))")
        let recovered = await eventually(timeout: 30) { (try? await server.get("/healthz", authorized: false).json["storage"] as? String) == "ok" }
        #expect(recovered)
        #expect(server.log().contains("storage: commits succeed again"))
        // The alert of the reading published while the disk was full: exactly one.
        func alarmAlerts() async -> [[String: Any]] {
            (try? await server.get("/api/v1/alerts?device=gauge-alarm").json["alerts"]) as? [[String: Any]] ?? []
        }
        let raised = await eventually(timeout: 30) { await !alarmAlerts().isEmpty }
        let alerts = await alarmAlerts()
        #expect(raised && alerts.count == 1, "alerts of gauge-alarm: \(alerts)\n\(server.log().suffix(3000))")
        #expect(alerts.first?["rule"] as? String == "flow-alarm")
        #expect(alerts.first?["level"] as? String == "yellow", "\(alerts)")
        let others = (try? await server.get("/api/v1/alerts").json["alerts"]) as? [[String: Any]] ?? []
        #expect(others.count == 1, "only gauge-alarm crossed the rule: \(others.compactMap { $0["device"] })")
        #expect(server.terminate() == 0)
    }
}
