import Metrics
import ShennongCore

/// The ingest counters, created once (swift-metrics; exported by /metrics).
struct IngestMetrics {
    let received = Counter(label: "shennong_messages_received_total")
    let stored = Counter(label: "shennong_readings_stored_total")
    let duplicates = Counter(label: "shennong_readings_duplicate_total")
    let commitFailures = Counter(label: "shennong_commit_failures_total")
    let commits = Counter(label: "shennong_commits_total")
    let batchSize = Recorder(label: "shennong_batch_messages", aggregate: true)
    let commitDuration = Timer(label: "shennong_commit_seconds")
    /// Seconds from the start of a burst's decoding to its commit (what the broker waits for its PUBACKs).
    let ingestLag = Timer(label: "shennong_ingest_lag_seconds")
    /// Age, at commit, of the newest reading of the last burst: how far behind real time the data is.
    let readingAge = Gauge(label: "shennong_ingest_reading_age_seconds")
    /// Unix time of the last successful commit.
    let lastCommit = Gauge(label: "shennong_last_commit_timestamp_seconds")
    private let rejectedByCode: [RejectCode: Counter] = Dictionary(
        uniqueKeysWithValues: RejectCode.allCases.map {
            ($0, Counter(label: "shennong_messages_rejected_total", dimensions: [("reason", $0.rawValue)]))
        })

    func rejected(_ code: RejectCode) -> Counter { rejectedByCode[code]! }
}
