import Foundation
import Logging
import MosquittoClient
import ServiceLifecycle
import ShennongCore
import ShennongIngest
import Synchronization

extension Simulator {
    /// The `aerator` scenario live, after its history: every `2 / rate` s each pond reports
    /// (vendor payload, stamped now); commands on `{prefix}/{pond}/command` are read on a
    /// connection of their own and answered on `…/command/reply` by the ponds that obey.
    /// Runs until the count or duration is reached, or shutdown.
    func runAerator(
        publisher: MQTTPublisher, topics: TopicScheme, seed: UInt64, rate: Double, count: Int?, duration: Duration?,
        alreadySent: Int
    ) async throws -> Int {
        let ponds = PondsBox(AeratorPonds(seed: seed))
        var subscription = mqtt
        subscription.clientID = mqtt.clientID + "-commands"
        subscription.cleanSession = true
        subscription.subscriptions = AeratorPonds.registrations.map { .init(topic: "\(topics.prefix)/\($0.id)/command", qos: 1) }
        let listener = try MQTTIngestConnection(configuration: subscription, pipelined: false, logger: logger)
        let prefix = topics.prefix
        let thread = Thread {
            listener.run(maxBatch: 100) { messages in
                for message in messages {
                    let device = message.topic.dropFirst(prefix.count + 1).split(separator: "/").first.map(String.init) ?? ""
                    if let reply = ponds.state.withLock({ $0.command(device: device, payload: message.payload) }) {
                        try? publisher.publish(topic: "\(prefix)/\(device)/command/reply", payload: reply, qos: 1, retain: false)
                    }
                }
            }
        }
        thread.name = "shennong-simulator-commands"
        thread.start()
        defer { listener.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        let period = Duration.seconds(1.0 / max(rate, 0.001))
        var sent = alreadySent
        var i = 0
        logger.info("aerator ponds live", metadata: ["ponds": "\(AeratorPonds.registrations.count)", "rate": "\(rate)/s"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let count, sent >= count { break }
            if let duration, clock.now - start >= duration { break }
            let pond = ponds.state.withLock { $0.step(i % $0.ponds.count) }
            try publisher.publish(
                topic: topics.telemetry(pond.id), payload: AeratorPonds.telemetry(pond, ts: self.clock.now()), qos: 1, retain: false)
            sent += 1
            i += 1
            let next = start + period * i
            if next > clock.now { try? await Task.sleep(until: next, clock: clock) }
        }
        return sent
    }
}

/// The ponds shared by the publishing loop and the command listener's thread.
final class PondsBox: Sendable {
    let state: Mutex<AeratorPonds>
    init(_ ponds: AeratorPonds) { state = Mutex(ponds) }
}
