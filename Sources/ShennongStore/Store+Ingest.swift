import Foundation
import GRDB
import ShennongCore

extension Store {
    /// The most bytes of a rejected payload that are kept (the rest is cut; the reason says so).
    public static let maxStoredRejectBytes = 65_536

    /// Writes one ingest burst in a single transaction: new devices, readings (duplicates
    /// ignored) into their time buckets, the 1 m / 1 h / 1 d rollups they touch, latest
    /// values, last-seen times, presence and rejects.
    ///
    /// A reading for a compacted bucket reopens that series' part of the bucket; rollups
    /// touched out of order are recomputed in the same transaction.
    ///
    /// When this returns, everything in `batch` is committed; the caller may then acknowledge
    /// the messages it came from. When it throws, nothing of `batch` is stored.
    @discardableResult
    public func commit(_ batch: IngestBatch) throws -> CommitResult {
        do {
            return try commit(batch, appendNewest: true)
        } catch is NewestAppendConflict {
            // A reading newer than its series' stored newest met a stored key after all (the
            // newest known was wrong): the burst is rolled back and written row by row.
            logger.warning("ingest: a burst's newest readings met stored ones; written again row by row")
            return try commit(batch, appendNewest: false)
        }
    }

    /// A multi-row insert of readings newer than their series' newest stored one changed
    /// fewer rows than it held: rolls the burst back (see ``commit(_:)``).
    struct NewestAppendConflict: Error {}

    private func commit(_ batch: IngestBatch, appendNewest: Bool) throws -> CommitResult {
        if batch.isEmpty { return CommitResult(inserted: 0, duplicates: 0, rejects: 0) }
        var created: [SeriesKey: Int64] = [:]
        let (result, cache) = try pool.write { db -> (CommitResult, IngestCache) in
            var cache = try takeIngestCache(in: db)
            for device in batch.newDevices {
                try insertDevice(device, in: db, ignoreExisting: true)
            }
            var inserted = 0
            if !batch.readings.isEmpty {
                var state = IngestState(bucketWidth: layout.width)
                if cache.rawHorizon == nil { cache.rawHorizon = try Self.rawHorizon(in: db) }
                state.rawHorizon = cache.rawHorizon!
                let known = seriesIDSnapshot()
                // Readings of one message come together: look their device up once.
                var device = ""
                var metrics: [String: Int64] = [:]
                // Forwarding: the commit feed of this burst (Store+CommitFeed.swift), when on.
                var feed: CommitFeedRanges.Builder? = commitFeedEnabled.withLock { $0 } ? .init() : nil
                var rows: [InsertedReading] = []
                rows.reserveCapacity(batch.readings.count)
                for reading in batch.readings {
                    if reading.device != device {
                        device = reading.device
                        metrics = known[device] ?? [:]
                    }
                    let series = try metrics[reading.metric]
                        ?? seriesID(device: reading.device, metric: reading.metric, in: db, created: &created)
                    rows.append(InsertedReading(series: series, ts: reading.timestamp, value: reading.value))
                }
                // Inserted in key order, each row lands next to the one before it in the
                // B-tree (pages already in the CPU's cache). The sort is stable: of two readings
                // with one key, the first in the burst is kept, as in arrival order.
                let order = rows.indices.sorted { a, b in
                    rows[a].series != rows[b].series
                        ? rows[a].series < rows[b].series
                        : rows[a].ts != rows[b].ts ? rows[a].ts < rows[b].ts : a < b
                }
                // Series by series: its readings (the first of two with one key kept), then its
                // rollup cells, then its `latest`; one look at the cache a series.
                var appender = NewestAppender()
                var latest = LatestWriter()
                let selectLatest = try db.cachedStatement(sql: "SELECT ts FROM latest WHERE series_id = ?")
                var group: [InsertedReading] = []
                var next = 0
                while next < order.count {
                    let series = rows[order[next]].series
                    var entry = try cache.entry(series, latest: selectLatest, in: db)
                    group.removeAll(keepingCapacity: true)
                    var previous: Int64?
                    while next < order.count, rows[order[next]].series == series {
                        let row = rows[order[next]]
                        next += 1
                        if row.ts == previous { continue }
                        previous = row.ts
                        // Newer than every stored reading of its series: cannot meet a stored key.
                        let isNewest = appendNewest && entry.newest.map { row.ts > $0 } ?? false
                        let appended = try isNewest && appender.append(row, layout: layout, state: &state, in: db)
                        if !appended {
                            guard
                                try Self.insertReading(
                                    series: series, ts: row.ts, value: row.value, layout: layout, state: &state, in: db)
                            else { continue }
                        }
                        group.append(row)
                        feed?.add(series: series, ts: row.ts)
                    }
                    inserted += group.count
                    try Self.applyRollups(group[...], series: series, entry: &entry, state: &state, in: db)
                    // Late readings (a gateway's buffer behind its live values): the stored newest
                    // stays. Series come in order: a multi-row upsert in random key order costs
                    // several times more.
                    if let last = group.last, entry.newest.map({ last.ts > $0 }) ?? true {
                        try latest.add(last, in: db)
                        entry.newest = last.ts
                    }
                    cache.series[series] = entry
                }
                try appender.flush(state: &state, in: db)
                try latest.flush(in: db)
                try Self.recomputeCells(state.recompute, in: db)
                if feed != nil { try Self.appendCommitFeed(&feed!, readings: inserted, at: clock.now(), in: db) }
            }
            if !batch.seen.isEmpty {
                let seen = try db.cachedStatement(
                    sql: "UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?")
                for (device, time) in batch.seen {
                    seen.resetForBinding()
                    try seen.bind(1, time)
                    try seen.bind(2, device)
                    try seen.stepOnce(in: db)
                }
            }
            for (device, presence) in batch.presence {
                try db.execute(
                    sql: """
                        UPDATE devices SET presence = ?, presence_at = ?
                        WHERE id = ? AND coalesce(presence_at, 0) <= ?
                        """,
                    arguments: [presence.state, presence.at, device, presence.at])
            }
            if !batch.replacedRejects.isEmpty {
                let delete = try db.cachedStatement(sql: "DELETE FROM rejects WHERE id = ?")
                for id in batch.replacedRejects {
                    try delete.execute(arguments: [id])
                }
            }
            if !batch.rejects.isEmpty {
                let insertReject = try db.cachedStatement(
                    sql: """
                        INSERT INTO rejects (received_at, topic, device, payload, code, reason, field)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                for reject in batch.rejects {
                    var reason = reject.reason
                    var payload = reject.payload
                    if payload.count > Self.maxStoredRejectBytes {
                        reason += " (payload of \(payload.count) bytes cut to the first \(Self.maxStoredRejectBytes))"
                        payload = Array(payload.prefix(Self.maxStoredRejectBytes))
                    }
                    try insertReject.execute(arguments: [
                        reject.receivedAt, reject.topic, reject.device, Data(payload), reject.code.rawValue,
                        reason, reject.field,
                    ])
                }
            }
            return (
                CommitResult(inserted: inserted, duplicates: batch.readings.count - inserted, rejects: batch.rejects.count),
                cache
            )
        }
        returnIngestCache(cache)
        if !created.isEmpty {
            seriesIDsMerge(created)
        }
        return result
    }

    /// The id of a series the committed snapshot does not hold, creating it inside the current
    /// transaction if new.
    /// New ids go to `created`, not to the shared cache, until the transaction has committed.
    private func seriesID(device: String, metric: String, in db: Database, created: inout [SeriesKey: Int64]) throws
        -> Int64
    {
        let key = SeriesKey(device: device, metric: metric)
        if let id = created[key] { return id }
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
        if let id = try Int64.fetchOne(select, arguments: [device, metric]) {
            created[key] = id
            return id
        }
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO series (device, metric) VALUES (?, ?)")
            .execute(arguments: [device, metric])
        guard let id = try Int64.fetchOne(select, arguments: [device, metric]) else {
            throw StoreError(.notFound, "series \(device)/\(metric) vanished")
        }
        created[key] = id
        return id
    }
}
