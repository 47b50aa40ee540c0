import Foundation
import PostgresNIO
import ShennongAlerts
import ShennongCore

/// The committed-data feed (``CommitFeed``) and the alert feed (``AlertFeed``) on PostgreSQL,
/// as on SQLite (Store+CommitFeed.swift).
///
/// The sequence number comes from the one row of `commit_feed_seq`, updated in the burst's
/// transaction: the row lock orders concurrent writers, so sequence order is commit order (a
/// `bigserial` would not be: a lower number may commit after a higher one is read).
extension PostgresStore: CommitFeed, AlertFeed {
    static let commitFeedSchema: [String] = [
        "CREATE TABLE commit_feed_seq (seq bigint NOT NULL)",
        "INSERT INTO commit_feed_seq (seq) VALUES (0)",
        """
        CREATE TABLE commit_feed (
            seq bigint PRIMARY KEY, committed_at bigint NOT NULL, readings bigint NOT NULL, ranges bytea NOT NULL)
        """,
        """
        CREATE TABLE feed_state (
            consumer text NOT NULL, key text NOT NULL, value text NOT NULL, updated_at bigint NOT NULL,
            PRIMARY KEY (consumer, key))
        """,
    ]

    /// Appends the burst's ranges to the feed, in the burst's transaction (when the feed is on);
    /// `rows` are the inserted readings in (series, ts) order.
    func appendCommitFeed(_ rows: [Row], in s: PostgresSession) throws {
        guard commitFeedEnabled.withLock({ $0 }), !rows.isEmpty else { return }
        var builder = CommitFeedRanges.Builder()
        for row in rows { builder.add(series: row.series, ts: row.ts) }
        try s.query(
            """
            WITH c AS (UPDATE commit_feed_seq SET seq = seq + 1 RETURNING seq)
            INSERT INTO commit_feed (seq, committed_at, readings, ranges) SELECT c.seq, $1, $2, $3 FROM c
            """, bindings(nowMillis(), Int64(rows.count), ByteBuffer(bytes: builder.finish())))
    }

    public func enableCommitFeed() {
        commitFeedEnabled.withLock { $0 = true }
    }

    public func commitFeedHead() throws -> Int64 {
        try read { s in try s.query("SELECT seq FROM commit_feed_seq").first?.decode(Int64.self) ?? 0 }
    }

    public func commitFeed(after: Int64, limit: Int) throws -> [CommitFeedEntry] {
        try read { s in
            let rows = try s.query(
                "SELECT seq, committed_at, ranges FROM commit_feed WHERE seq > $1 ORDER BY seq LIMIT $2",
                bindings(after, Int64(max(0, limit))))
            var entries: [(Int64, Int64, [(series: Int64, from: Int64, to: Int64, count: Int)])] = []
            var ids: Set<Int64> = []
            for row in rows {
                let (seq, at, ranges) = try row.decode((Int64, Int64, ByteBuffer).self)
                let decoded = CommitFeedRanges.decode(ranges.readableBytesView)
                decoded.forEach { ids.insert($0.series) }
                entries.append((seq, at, decoded))
            }
            var names: [Int64: (String, String)] = [:]
            if !ids.isEmpty {
                for row in try s.query("SELECT id, device, metric FROM series WHERE id = ANY($1)", bindings(Array(ids))) {
                    let (id, device, metric) = try row.decode((Int64, String, String).self)
                    names[id] = (device, metric)
                }
            }
            return entries.map { seq, at, ranges in
                CommitFeedEntry(
                    seq: seq, committedAt: at,
                    ranges: ranges.compactMap { r in
                        names[r.series].map { CommittedRange(device: $0.0, metric: $0.1, from: r.from, to: r.to, count: r.count) }
                    })
            }
        }
    }

    public func commitFeedBacklog(after: Int64) throws -> CommitFeedBacklog {
        try read { s in
            guard
                let row = try s.query(
                    "SELECT count(*)::bigint, coalesce(sum(readings), 0)::bigint, min(committed_at) FROM commit_feed WHERE seq > $1",
                    bindings(after)
                ).first
            else { return CommitFeedBacklog(entries: 0, readings: 0, oldestCommittedAt: nil) }
            let (entries, readings, oldest) = try row.decode((Int64, Int64, Int64?).self)
            return CommitFeedBacklog(entries: Int(entries), readings: Int(readings), oldestCommittedAt: oldest)
        }
    }

    public func pruneCommitFeed(through seq: Int64) throws {
        _ = try read { s in try s.query("DELETE FROM commit_feed WHERE seq <= $1", bindings(seq)) }
    }

    public func compactCommitFeed(after seq: Int64) throws -> Int {
        // In a write transaction: serialized with the bursts that append to the feed.
        try write { s in
            var rows: [(seq: Int64, at: Int64, readings: Int64, ranges: [UInt8])] = []
            for row in try s.query(
                "SELECT seq, committed_at, readings, ranges FROM commit_feed WHERE seq > $1 ORDER BY seq", bindings(seq))
            {
                let (seq, at, readings, ranges) = try row.decode((Int64, Int64, Int64, ByteBuffer).self)
                rows.append((seq, at, readings, Array(ranges.readableBytesView)))
            }
            // The first entry after `seq` may be part-way delivered: kept as it is.
            let merging = rows.dropFirst()
            guard merging.count >= 2, let first = merging.first, let last = merging.last else { return 0 }
            try s.query("DELETE FROM commit_feed WHERE seq >= $1 AND seq <= $2", bindings(first.seq, last.seq))
            try s.query(
                "INSERT INTO commit_feed (seq, committed_at, readings, ranges) VALUES ($1, $2, $3, $4)",
                bindings(
                    last.seq, first.at, merging.reduce(Int64(0)) { $0 + $1.readings },
                    ByteBuffer(bytes: CommitFeedRanges.merge(merging.map(\.ranges)))))
            return merging.count - 1
        }
    }

    public func feedState(consumer: String, key: String) throws -> String? {
        try read { s in
            try s.query("SELECT value FROM feed_state WHERE consumer = $1 AND key = $2", bindings(consumer, key))
                .first?.decode(String.self)
        }
    }

    public func setFeedState(consumer: String, key: String, value: String) throws {
        _ = try read { s in
            try s.query(
                """
                INSERT INTO feed_state (consumer, key, value, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (consumer, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, bindings(consumer, key, value, nowMillis()))
        }
    }

    // MARK: AlertFeed

    public func alertNotices(afterTransition: Int64, limit: Int) throws -> [AlertNotice] {
        try read { s in
            let transitions = try s.query(
                "SELECT \(Self.transitionColumns) FROM alert_transitions WHERE id > $1 ORDER BY id LIMIT $2",
                bindings(afterTransition, Int64(max(0, limit)))
            ).map(Self.decodeTransition)
            guard !transitions.isEmpty else { return [] }
            var alerts: [Int64: AlertRecord] = [:]
            for row in try s.query(
                "SELECT \(Self.alertColumns) FROM alerts WHERE id = ANY($1)", bindings(Array(Set(transitions.map(\.alertID)))))
            {
                let alert = try Self.decodeAlert(row)
                alerts[alert.id] = alert
            }
            return transitions.compactMap { t in alerts[t.alertID].map { AlertNotice(alert: $0, transition: t) } }
        }
    }

    public func newestAlertTransition() throws -> Int64 {
        try read { s in try s.query("SELECT coalesce(max(id), 0)::bigint FROM alert_transitions").first?.decode(Int64.self) ?? 0 }
    }
}
