import Foundation
import GRDB
import ShennongAlerts
import ShennongCore

/// The committed-data feed (``CommitFeed``) and the alert feed (``AlertFeed``) on SQLite.
///
/// - `commit_feed`: one row per burst that inserted readings while the feed is on, written in
///   the burst's own transaction (Store+Ingest.swift): its sequence number (AUTOINCREMENT, so
///   never reused after a prune), commit time and packed ranges (``CommitFeedRanges``). Not a
///   copy of the readings: 28 bytes per series touched.
/// - `feed_state`: per consumer (a forwarding target) and key its durable state (cursor as JSON).
extension Store: CommitFeed, AlertFeed {
    static func registerCommitFeedMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration(
            "feed-v1: commit feed, feed state",
            sql: """
                CREATE TABLE commit_feed (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    committed_at INTEGER NOT NULL,
                    readings INTEGER NOT NULL,
                    ranges BLOB NOT NULL
                );
                CREATE TABLE feed_state (
                    consumer TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (consumer, key)
                ) WITHOUT ROWID;
                """)
    }

    /// Appends the burst's ranges to the feed, in the burst's transaction (when the feed is on).
    static func appendCommitFeed(_ builder: inout CommitFeedRanges.Builder, readings: Int, at: Int64, in db: Database) throws {
        let bytes = builder.finish()
        guard !bytes.isEmpty else { return }
        try db.cachedStatement(sql: "INSERT INTO commit_feed (committed_at, readings, ranges) VALUES (?, ?, ?)")
            .execute(arguments: [at, readings, Data(bytes)])
    }

    public func enableCommitFeed() {
        commitFeedEnabled.withLock { $0 = true }
    }

    public func commitFeedHead() throws -> Int64 {
        try pool.read { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM commit_feed")
            // AUTOINCREMENT remembers the highest seq ever given, also when pruned away.
            let given = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'commit_feed'")
            return max(newest ?? 0, given ?? 0)
        }
    }

    public func commitFeed(after: Int64, limit: Int) throws -> [CommitFeedEntry] {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT seq, committed_at, ranges FROM commit_feed WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [after, max(0, limit)])
            var names: [Int64: (String, String)] = [:]
            let lookup = try db.cachedStatement(sql: "SELECT device, metric FROM series WHERE id = ?")
            return try rows.map { row in
                let data: Data = row[2]
                var ranges: [CommittedRange] = []
                for r in CommitFeedRanges.decode(data) {
                    if names[r.series] == nil, let name = try Row.fetchOne(lookup, arguments: [r.series]) {
                        names[r.series] = (name[0], name[1])
                    }
                    // A series deleted since (its device removed) has nothing left to forward.
                    guard let (device, metric) = names[r.series] else { continue }
                    ranges.append(CommittedRange(device: device, metric: metric, from: r.from, to: r.to, count: r.count))
                }
                return CommitFeedEntry(seq: row[0], committedAt: row[1], ranges: ranges)
            }
        }
    }

    public func commitFeedBacklog(after: Int64) throws -> CommitFeedBacklog {
        try pool.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT count(*), coalesce(sum(readings), 0), min(committed_at) FROM commit_feed WHERE seq > ?",
                arguments: [after])
            return CommitFeedBacklog(entries: row?[0] ?? 0, readings: row?[1] ?? 0, oldestCommittedAt: row?[2])
        }
    }

    public func pruneCommitFeed(through seq: Int64) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM commit_feed WHERE seq <= ?", arguments: [seq]) }
    }

    public func compactCommitFeed(after seq: Int64) throws -> Int {
        try pool.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT seq, committed_at, readings, ranges FROM commit_feed WHERE seq > ? ORDER BY seq", arguments: [seq])
            // The first entry after `seq` may be part-way delivered: kept as it is.
            let merging = rows.dropFirst()
            guard merging.count >= 2, let last = merging.last, let first = merging.first else { return 0 }
            let packed = merging.map { row -> [UInt8] in
                let data: Data = row[3]
                return Array(data)
            }
            let readings = merging.reduce(0) { $0 + ($1[2] as Int) }
            let lastSeq: Int64 = last[0]
            let firstSeq: Int64 = first[0]
            try db.execute(sql: "DELETE FROM commit_feed WHERE seq >= ? AND seq <= ?", arguments: [firstSeq, lastSeq])
            try db.execute(
                sql: "INSERT INTO commit_feed (seq, committed_at, readings, ranges) VALUES (?, ?, ?, ?)",
                arguments: [lastSeq, first[1] as Int64, readings, Data(CommitFeedRanges.merge(packed))])
            return merging.count - 1
        }
    }

    public func feedState(consumer: String, key: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(
                db, sql: "SELECT value FROM feed_state WHERE consumer = ? AND key = ?", arguments: [consumer, key])
        }
    }

    public func setFeedState(consumer: String, key: String, value: String) throws {
        let now = clock.now()
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO feed_state (consumer, key, value, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(consumer, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                    """,
                arguments: [consumer, key, value, now])
        }
    }

    // MARK: AlertFeed

    public func alertNotices(afterTransition: Int64, limit: Int) throws -> [AlertNotice] {
        try pool.read { db in
            let transitions = try AlertTransitionRow.filter(Column("id") > afterTransition).order(Column("id"))
                .limit(max(0, limit)).fetchAll(db).map(\.transition)
            var alerts: [Int64: AlertRecord] = [:]
            return try transitions.compactMap { t in
                if alerts[t.alertID] == nil { alerts[t.alertID] = try AlertRow.fetchOne(db, key: t.alertID)?.alert }
                return alerts[t.alertID].map { AlertNotice(alert: $0, transition: t) }
            }
        }
    }

    public func newestAlertTransition() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM alert_transitions") ?? 0 }
    }
}
