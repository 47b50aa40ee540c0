import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5)))
struct EmbeddedBrokerIntegrationTests {
    /// The pid of the mosquitto listening with `config`, from /proc.
    static func brokerPID(configUnder directory: String) -> Int32? {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        return pids.first { pid in
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return cmdline.contains("mosquitto") && cmdline.contains(directory)
        }
    }

    @Test("mqtt.broker: embedded starts a persistent mosquitto on loopback, ingests through it, and stops it on SIGTERM")
    func embeddedBroker() async throws {
        let port = freeLoopbackPort()
        let server = try ServerProcess(brokerPort: port, embedded: true)
        try await server.start()
        let dataDir = server.directory.appendingPathComponent("mosquitto").path
        let pid = try #require(Self.brokerPID(configUnder: dataDir), "no embedded mosquitto running")

        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: port, clientID: "it-embedded", cleanSession: true))
        try publisher.connect()
        try publisher.publish(topic: "agri/pond-e/telemetry", payload: Array(#"{"ts": 1763700000000, "values": {"ph": 7.2}}"#.utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()
        #expect(await eventually(timeout: 15) { (try? server.storedReadings()) == 1 })

        #expect(server.terminate() == 0)
        // The broker is gone with the server, and it saved its persistence file on the way out.
        #expect(await eventually(timeout: 10) { kill(pid, 0) != 0 })
        #expect(FileManager.default.fileExists(atPath: dataDir + "/mosquitto.db"), "no persistence file: the broker could not write its data dir")
        #expect(!FileManager.default.fileExists(atPath: dataDir + "/mosquitto.pid"))
    }

    @Test("a broker left running by a server killed with SIGKILL is stopped and replaced at the next start")
    func leftoverBrokerIsReplaced() async throws {
        let port = freeLoopbackPort()
        let server = try ServerProcess(brokerPort: port, embedded: true)
        try await server.start()
        let dataDir = server.directory.appendingPathComponent("mosquitto").path
        let first = try #require(Self.brokerPID(configUnder: dataDir))
        server.kill()
        #expect(kill(first, 0) == 0, "the orphaned broker should outlive a SIGKILLed server")
        try await server.start()
        let second = try #require(Self.brokerPID(configUnder: dataDir))
        #expect(second != first)
        #expect(kill(first, 0) != 0)
        #expect(server.terminate() == 0)
    }
}
