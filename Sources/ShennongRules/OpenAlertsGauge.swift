import Foundation
import Logging
import Metrics
import ShennongAlerts

/// `shennong_alerts_open{level="blue|yellow|orange|red"}`: live alerts (open or
/// acknowledged) by level, read back from the alerts store.
///
/// Call ``update(store:logger:)`` after every write that can change an alert's level or
/// status (a rules commit, a silence check, ack/resolve/close by people) and once at start.
/// It recounts from the database rather than adding deltas, so concurrent writers cannot
/// make it drift: the last recount wins and reflects a committed state.
public enum OpenAlertsGauge {
    private static let lock = NSLock()
    private static let gauges: [AlertLevel: Gauge] = Dictionary(
        uniqueKeysWithValues: AlertLevel.allCases.map { ($0, Gauge(label: "shennong_alerts_open", dimensions: [("level", $0.name)])) })

    /// Recounts the live alerts and sets every level's gauge (0 for levels with none).
    /// A failed read is logged and leaves the gauges as they were.
    public static func update(store: any AlertStore, logger: Logger) {
        // Read and record under one lock, so that two recounts cannot finish in the other
        // order and leave the older count showing.
        lock.lock()
        defer { lock.unlock() }
        do {
            let counts = try store.liveAlertCounts()
            for (level, gauge) in gauges { gauge.record(counts[level] ?? 0) }
        } catch {
            logger.warning("shennong_alerts_open not updated", metadata: ["error": "\(error)"])
        }
    }
}
