import Foundation
import Logging
import MosquittoClient
import ServiceLifecycle
import ShennongCore

/// Runs the MQTT ingest on a thread of its own (libmosquitto's loop blocks) and stops it on
/// graceful shutdown: the burst in hand is committed and acknowledged, then the connection closes.
///
/// Bursts are read up to ``IngestOptions/maxBatch`` messages (the pipeline's options), decoded
/// on the ingest thread and committed on the commit thread while the next burst is read; a
/// burst is acknowledged only after its commit.
public final class MQTTIngestService: Service, Sendable {
    private let connection: MQTTIngestConnection
    private let pipeline: IngestPipeline
    private let logger: Logger

    /// A service for a connection with `configuration` (its subscriptions are the topics to
    /// ingest) feeding `pipeline`. Throws when libmosquitto cannot create the client; it does
    /// not connect until ``run()``.
    public init(configuration: MQTTConfiguration, pipeline: IngestPipeline, logger: Logger) throws {
        self.connection = try MQTTIngestConnection(configuration: configuration, logger: logger)
        self.pipeline = pipeline
        self.logger = logger
    }

    /// Whether the broker connection is up.
    public var isConnected: Bool { connection.isConnected }

    /// Whether the telemetry and status subscriptions are granted (messages published from
    /// now on reach this server).
    public var isSubscribed: Bool { connection.isSubscribed }

    /// Connects and ingests until cancelled or gracefully shut down; then the burst in hand is
    /// committed and acknowledged before the connection closes.
    public func run() async throws {
        let connection = self.connection
        let pipeline = self.pipeline
        let maxBatch = pipeline.options.maxBatch
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
