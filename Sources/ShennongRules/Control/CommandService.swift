import Foundation
import Logging
import MosquittoClient
import ServiceLifecycle
import ShennongCommands
import ShennongCore

/// Publishes commands on `{prefix}/{device}/command` (QoS 1) through an ``MQTTPublisher``.
///
/// Tickets count publishes; the broker acknowledges QoS 1 publishes of one connection in order,
/// so a command's publish is acknowledged once the publisher's acknowledged count reaches its
/// ticket (a reconnect re-sends what was not acknowledged, and the counts still hold).
public final class MQTTCommandSender: CommandSender {
    private let publisher: MQTTPublisher
    public let topicPrefix: String

    public init(configuration: MQTTConfiguration, topicPrefix: String, logger: Logger) throws {
        publisher = try MQTTPublisher(configuration: configuration, maxUnacknowledged: 1000, logger: logger)
        self.topicPrefix = topicPrefix
    }

    /// The command topic of `device`.
    public func topic(_ device: String) -> String { "\(topicPrefix)/\(device)/command" }

    public var isConnected: Bool { publisher.isConnected }
    public var acknowledgedCount: Int { publisher.acknowledgedCount }

    public func connect() throws { try publisher.connect(timeout: .seconds(5)) }

    public func send(_ command: CommandRecord) throws -> Int {
        try publisher.publish(topic: topic(command.device), payload: command.payload, qos: 1, retain: false)
        return publisher.publishedCount
    }

    public func disconnect() {
        _ = publisher.waitUntilAcknowledged(timeout: .seconds(2))
        publisher.disconnect()
    }
}

/// Device commands in a running server: replies read with ack-after-commit on a persistent
/// session (`{prefix}/+/command/reply`, QoS 1: a reply acknowledged to the broker is recorded),
/// and a pass of the ``CommandCenter`` every `interval` (or at once when a command is issued).
///
/// At start every command left `sending` is recovered (never sent again), then passes begin.
public final class CommandService: Service, Sendable {
    private let center: CommandCenter
    private let sender: MQTTCommandSender
    private let replies: MQTTIngestConnection
    private let topicPrefix: String
    private let logger: Logger

    /// - Parameters:
    ///   - publish: the client that sends commands (its subscriptions are ignored).
    ///   - replies: a persistent session (fixed client id, `clean_session` false) for the replies.
    public init(
        center: CommandCenter, publish: MQTTConfiguration, replies: MQTTConfiguration, topicPrefix: String, logger: Logger
    ) throws {
        self.center = center
        sender = try MQTTCommandSender(configuration: publish, topicPrefix: topicPrefix, logger: logger)
        var replyConfiguration = replies
        replyConfiguration.subscriptions = [.init(topic: "\(topicPrefix)/+/command/reply", qos: 1)]
        self.replies = try MQTTIngestConnection(configuration: replyConfiguration, pipelined: false, logger: logger)
        self.topicPrefix = topicPrefix
        self.logger = logger
    }

    /// The device of a reply topic `{prefix}/{device}/command/reply`, or `nil`.
    public static func device(ofReplyTopic topic: String, prefix: String) -> String? {
        let head = prefix + "/"
        let tail = "/command/reply"
        guard topic.hasPrefix(head), topic.hasSuffix(tail), topic.count > head.count + tail.count else { return nil }
        let device = String(topic.dropFirst(head.count).dropLast(tail.count))
        return Device.isValidID(device) ? device : nil
    }

    public func run() async throws {
        let center = self.center
        let replies = self.replies
        let prefix = topicPrefix
        let logger = self.logger
        try center.recover()
        await withTaskCancellationOrGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        let thread = Thread {
                            replies.run(maxBatch: 500) { messages in
                                for message in messages {
                                    guard let device = Self.device(ofReplyTopic: message.topic, prefix: prefix) else { continue }
                                    try center.handleReply(device: device, payload: message.payload)
                                }
                            }
                            done.resume()
                        }
                        thread.name = "shennong-command-replies"
                        thread.start()
                    }
                }
                group.addTask { [self] in await loop() }
                await group.waitForAll()
            }
        } onCancelOrGracefulShutdown: {
            replies.stop()
        }
        sender.disconnect()
        logger.info("commands stopped")
    }

    private func loop() async {
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if !sender.isConnected {
                do {
                    try sender.connect()
                    warned = false
                } catch {
                    // Once per outage; queued commands wait (libmosquitto reconnects a connected publisher by itself).
                    if !warned { logger.warning("command publisher cannot connect; commands wait", metadata: ["error": "\(error)"]) }
                    warned = true
                }
            }
            center.pass(sender: sender)
            // Until the next interval, or at once when a command is issued.
            var waited: Int64 = 0
            while waited < center.options.interval && !center.takeWakeup() && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .milliseconds(50))
                waited += 50
            }
        }
    }
}
