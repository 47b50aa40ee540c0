import ShennongCore
import Logging
import Metrics
import ServiceLifecycle
import ShennongStore

/// Keeps the store in shape while the server runs: every `interval` it compacts closed
/// buckets and applies the retention of each tier.
///
/// Compaction goes one batch of series per write transaction (about
/// `storage.compaction_batch_rows` readings), and retention one bucket per transaction, so
/// ingest commits between them and never waits long for the writer. Graceful shutdown stops
/// it between two transactions.
public struct StoreMaintenanceService: Service {
    let store: any StoreMaintenance
    let interval: Duration
    let logger: Logger

    let compactedReadings = Counter(label: "shennong_store_compacted_readings_total")
    let droppedRows = Counter(label: "shennong_store_retention_dropped_total")
    let passDuration = Timer(label: "shennong_store_maintenance_seconds")

    /// - Parameter interval: time from start to the first pass, and between the end of one
    ///   pass and the start of the next.
    public init(store: any StoreMaintenance, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while true {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            do {
                _ = try await pass()
            } catch {
                logger.error("store maintenance failed; retrying next interval", metadata: ["error": "\(error)"])
            }
        }
        logger.info("store maintenance stopped")
    }

    /// One pass: compaction of every closed bucket, then retention. Returns what was done.
    public func pass(now: Int64? = nil) async throws -> (CompactionReport, RetentionReport?) {
        let started = ContinuousClock.now
        var compaction = CompactionReport()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let step = try store.compactBatch(now: now)
            guard step.transactions > 0 else { break }
            compaction.add(step)
            await Task.yield()
        }
        var retention: RetentionReport?
        if !Task.isShuttingDownGracefully && !Task.isCancelled {
            retention = try store.retention(now: now, dryRun: false)
        }
        let dropped = retention?.items.reduce(0) { $0 + $1.rows } ?? 0
        compactedReadings.increment(by: compaction.readings)
        droppedRows.increment(by: dropped)
        passDuration.recordInterval(since: started)
        if compaction.transactions > 0 || dropped > 0 {
            logger.info(
                "store maintenance",
                metadata: [
                    "compacted_readings": "\(compaction.readings)", "compacted_buckets": "\(compaction.buckets)",
                    "transactions": "\(compaction.transactions)", "retention_items": "\(retention?.items.count ?? 0)",
                    "retention_rows": "\(dropped)",
                ])
        }
        return (compaction, retention)
    }
}

extension Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
