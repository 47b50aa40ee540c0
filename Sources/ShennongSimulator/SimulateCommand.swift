import ShennongCore
import Foundation
import Logging
import MosquittoClient

/// `shennong simulate`: the simulator against any broker.
public enum SimulateCommand {
    /// Publishes what `options` describe to the broker at `host`:`port` (clean session, no
    /// credentials) and prints how many messages were published.
    public static func run(options: Simulator.Options, host: String, port: Int) async throws {
        MosquittoLibrary.initialize()
        let logger = Logger(label: "shennong.simulate")
        let mqtt = MQTTConfiguration(
            host: host, port: port, clientID: "shennong-simulator-\(getpid())", cleanSession: true, maxInflight: 1000)
        let simulator = Simulator(options: options, mqtt: mqtt, logger: logger)
        let sent = try await simulator.publishAll()
        print("published \(sent) messages")
    }
}
