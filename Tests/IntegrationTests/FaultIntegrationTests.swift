import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// Ack after commit under faults: the server killed, the broker restarted, a graceful stop.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FaultIntegrationTests {
    /// `count` messages with unique (device, ts), one value each, spread over 100 devices.
    static func messages(count: Int, startTS: Int64) -> [(String, [UInt8])] {
        (0..<count).map { i in
            let device = "gauge-\(i % 100)"
            let ts = startTS + Int64(i / 100) * 1000
            return ("agri/\(device)/telemetry", Array("{\"ts\": \(ts), \"values\": {\"water_level\": \(Double(i % 1000) / 100)}}".utf8))
        }
    }

    static func publisher(_ port: Int) throws -> MQTTPublisher {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "it-fault-\(UUID().uuidString.prefix(8))", cleanSession: true,
                                             maxInflight: 1000))
        try publisher.connect()
        return publisher
    }

    @Test("SIGKILL in the middle of 20,000 QoS 1 messages: after a restart every message is stored exactly once")
    func sigkillMidStream() async throws {
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let total = 20_000
        let all = Self.messages(count: total, startTS: 1_763_700_000_000)
        let publisher = try Self.publisher(broker.port)
        defer { publisher.disconnect() }
        for (topic, payload) in all.prefix(total / 2) {
            try publisher.publish(topic: topic, payload: payload, qos: 1)
        }
        // Kill once the server is part-way through.
        let started = await eventually(timeout: 60, interval: .milliseconds(20)) { ((try? server.storedReadings()) ?? 0) > 500 }
        #expect(started)
        server.kill()
        let atKill = try server.storedReadings()
        for (topic, payload) in all.suffix(total / 2) {
            try publisher.publish(topic: topic, payload: payload, qos: 1)
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(60)))
        #expect(atKill < total, "the kill should land mid-stream (stored \(atKill))")
        try await server.start()
        let complete = await eventually(timeout: 120, interval: .milliseconds(250)) { (try? server.storedReadings()) == total }
        #expect(complete, "stored \((try? server.storedReadings()) ?? -1) of \(total)")
        // Exactly once: the count equals the number of distinct (series, ts) published, and the
        // primary key (series, ts) makes a second copy impossible; check one series in full.
        let (_, series) = try await server.get("/api/v1/readings?device=gauge-7&from=0&to=now&limit=1000")
        let rows = series["readings"] as? [[String: Any]] ?? []
        #expect(rows.count == total / 100)
        #expect(Set(rows.compactMap { ($0["ts"] as? NSNumber)?.int64Value }).count == total / 100)
        #expect(server.terminate() == 0)
    }

    @Test("the broker restarted mid-stream: the server reconnects by itself and nothing published afterwards is lost")
    func brokerRestart() async throws {
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let before = Self.messages(count: 2_000, startTS: 1_763_800_000_000)
        var publisher = try Self.publisher(broker.port)
        for (topic, payload) in before { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
        publisher.disconnect()

        broker.stop()
        #expect(await eventually(timeout: 10) { (try? await server.get("/healthz").json["mqtt"] as? String) == "disconnected" })
        try broker.restart()
        let reconnected = await eventually(timeout: 30) { (try? await server.get("/healthz").json["mqtt"] as? String) == "connected" }
        #expect(reconnected, "\(server.log())")

        let after = Self.messages(count: 3_000, startTS: 1_763_900_000_000)
        publisher = try Self.publisher(broker.port)
        for (topic, payload) in after { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
        publisher.disconnect()
        let complete = await eventually(timeout: 60) { (try? server.storedReadings()) == 5_000 }
        #expect(complete, "stored \((try? server.storedReadings()) ?? -1) of 5000")
        #expect(server.isRunning)
        #expect(server.terminate() == 0)
    }

    @Test("SIGTERM during a stream drains the burst in hand and exits 0; nothing is lost across the restart")
    func gracefulShutdown() async throws {
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let all = Self.messages(count: 10_000, startTS: 1_764_000_000_000)
        let publisher = try Self.publisher(broker.port)
        defer { publisher.disconnect() }
        for (topic, payload) in all.prefix(5_000) { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        _ = await eventually(timeout: 30, interval: .milliseconds(20)) { ((try? server.storedReadings()) ?? 0) > 200 }
        let status = server.terminate(timeout: 30)
        #expect(status == 0, "\(server.log())")
        for (topic, payload) in all.suffix(5_000) { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
        try await server.start()
        #expect(await eventually(timeout: 60) { (try? server.storedReadings()) == 10_000 })
        #expect(server.terminate() == 0)
    }
}
