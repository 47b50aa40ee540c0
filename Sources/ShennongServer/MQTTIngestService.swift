import ShennongCore
import Foundation
import Logging
import MosquittoClient
import ServiceLifecycle
import ShennongStore

/// Runs the MQTT ingest on a thread of its own (libmosquitto's loop blocks) and stops it on
/// graceful shutdown: the burst in hand is committed and acknowledged, then the connection closes.
public final class MQTTIngestService: Service, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `connection` is itself thread-safe for isConnected and
    // stop(); `pipeline` is prepared on the ingest thread and committed on the commit thread
    // (see IngestPipeline's invariant).
    private let connection: MQTTIngestConnection
    private let pipeline: IngestPipeline
    private let maxBatch: Int
    private let logger: Logger

    public init(configuration: MQTTConfiguration, pipeline: IngestPipeline, maxBatch: Int, logger: Logger) throws {
        self.connection = try MQTTIngestConnection(configuration: configuration, logger: logger)
        self.pipeline = pipeline
        self.maxBatch = maxBatch
        self.logger = logger
    }

    /// Whether the broker connection is up.
    public var isConnected: Bool { connection.isConnected }

    /// Whether the telemetry and status subscriptions are granted (messages published from
    /// now on reach this server).
    public var isSubscribed: Bool { connection.isSubscribed }

    public func run() async throws {
        let connection = self.connection
        let pipeline = self.pipeline
        let maxBatch = self.maxBatch
        let logger = self.logger
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread {
                    connection.run(maxBatch: maxBatch, dropped: pipeline.dropped) { messages in
                        // Decoded here on the ingest thread; committed on the commit thread
                        // while the next burst is read.
                        let prepared = pipeline.prepare(messages)
                        return { try pipeline.commit(prepared) }
                    }
                    done.resume()
                }
                thread.name = "shennong-ingest"
                thread.start()
            }
        } onCancelOrGracefulShutdown: {
            logger.info("ingest draining: committing the burst in hand, then disconnecting")
            connection.stop()
        }
        logger.info("ingest stopped")
    }
}
