import Foundation
import PostgresNIO
import ShennongCore

extension PostgresStore {
    /// The most bytes of a rejected payload that are kept (the rest is cut; the reason says so).
    public static let maxStoredRejectBytes = 65_536

    /// A reading of this burst with its series id, in burst order (`index`).
    struct Row {
        var series: Int64
        var ts: Int64
        var value: Double
    }

    struct Key: Hashable {
        var series: Int64
        var ts: Int64
    }

    /// Writes one ingest burst in a single transaction, in a few round trips whatever its
    /// size: new devices, readings (duplicates ignored) into their bucket partitions with
    /// `INSERT … SELECT FROM unnest(…)`, the 1 m / 1 h / 1 d rollups they touch and the latest
    /// values in one statement, last-seen times, presence and rejects.
    ///
    /// Readings newer than their series' `latest` cannot be stored yet (``insertReadings(_:fast:in:)``):
    /// they go in with a plain insert, the rest (late readings, redeliveries) with
    /// `ON CONFLICT DO NOTHING`. Should a plain insert meet a stored key all the same, the
    /// burst is written again, every reading with `ON CONFLICT`.
    ///
    /// A reading for a compacted bucket reopens that series' part of the bucket; rollup cells
    /// touched out of order are recomputed from their readings in the same transaction.
    /// When this returns the transaction is committed; when it throws, nothing of `batch` is.
    @discardableResult
    public func commit(_ batch: IngestBatch) throws -> CommitResult {
        if batch.isEmpty { return CommitResult(inserted: 0, duplicates: 0, rejects: 0) }
        var created: [SeriesKey: Int64] = [:]
        let result: CommitResult
        do {
            result = try commit(batch, fast: true, created: &created)
        } catch is FreshReadingStored {
            logger.warning("a reading newer than its series' latest was already stored: burst written again with ON CONFLICT")
            result = try commit(batch, fast: false, created: &created)
        }
        if !created.isEmpty { seriesIDsMerge(created) }
        return result
    }

    /// A plain insert of readings newer than their series' `latest` met a stored key (never
    /// expected: `latest` holds each series' newest stored time); the transaction is rolled back.
    struct FreshReadingStored: Error {}

    /// One attempt at ``commit(_:)``: `fast` splits the readings by `latest`, else every one
    /// goes in with `ON CONFLICT DO NOTHING`. `created`: the series this attempt created.
    private func commit(_ batch: IngestBatch, fast: Bool, created: inout [SeriesKey: Int64]) throws -> CommitResult {
        created = [:]
        return try fencedWrite { s -> CommitResult in
            if !batch.newDevices.isEmpty {
                try Self.insertDevices(batch.newDevices, onConflict: "DO NOTHING", in: s)
            }
            var inserted = 0
            if !batch.readings.isEmpty {
                let rows = try seriesRows(batch.readings, created: &created, in: s)
                inserted = try insertReadings(rows, fast: fast, in: s)
            }
            if !batch.seen.isEmpty {
                let seen = batch.seen.sorted { $0.key < $1.key }
                try s.query(
                    """
                    UPDATE devices AS d SET last_seen = greatest(coalesce(d.last_seen, 0), u.t)
                    FROM unnest($1::text[], $2::int8[]) AS u(id, t) WHERE d.id = u.id
                    """, bindings(seen.map(\.key), seen.map(\.value)))
            }
            if !batch.presence.isEmpty {
                let presence = batch.presence.sorted { $0.key < $1.key }
                try s.query(
                    """
                    UPDATE devices AS d SET presence = u.state, presence_at = u.at
                    FROM unnest($1::text[], $2::text[], $3::int8[]) AS u(id, state, at)
                    WHERE d.id = u.id AND coalesce(d.presence_at, 0) <= u.at
                    """, bindings(presence.map(\.key), presence.map(\.value.state), presence.map(\.value.at)))
            }
            if !batch.replacedRejects.isEmpty {
                try s.query("DELETE FROM rejects WHERE id = ANY($1)", bindings(batch.replacedRejects))
            }
            if !batch.rejects.isEmpty {
                try Self.insertRejects(batch.rejects, in: s)
            }
            return CommitResult(
                inserted: inserted, duplicates: batch.readings.count - inserted, rejects: batch.rejects.count)
        }
    }

    /// The readings with their series ids (series the committed cache lacks are created in
    /// this transaction and reported in `created`), one per (series, ts): of two readings with
    /// one key, the first in the burst, sorted by series then time.
    private func seriesRows(_ readings: [Reading], created: inout [SeriesKey: Int64], in s: PostgresSession) throws
        -> [Row]
    {
        let known = seriesIDs.withLock { $0 }
        var missing: [SeriesKey] = []
        var missingSet: Set<SeriesKey> = []
        for r in readings where known[r.device]?[r.metric] == nil {
            let key = SeriesKey(device: r.device, metric: r.metric)
            if missingSet.insert(key).inserted { missing.append(key) }
        }
        if !missing.isEmpty {
            let devices = missing.map(\.device)
            let metrics = missing.map(\.metric)
            try s.query(
                """
                INSERT INTO series (device, metric) SELECT * FROM unnest($1::text[], $2::text[])
                ON CONFLICT (device, metric) DO NOTHING
                """, bindings(devices, metrics))
            for row in try s.query(
                """
                SELECT s.id, s.device, s.metric FROM series s
                JOIN unnest($1::text[], $2::text[]) AS k(device, metric) ON s.device = k.device AND s.metric = k.metric
                """, bindings(devices, metrics))
            {
                let (id, device, metric) = try row.decode((Int64, String, String).self)
                created[SeriesKey(device: device, metric: metric)] = id
            }
        }
        var rows: [Row] = []
        rows.reserveCapacity(readings.count)
        for r in readings {
            guard let id = known[r.device]?[r.metric] ?? created[SeriesKey(device: r.device, metric: r.metric)] else {
                throw StoreError(.notFound, "series \(r.device)/\(r.metric) vanished")
            }
            rows.append(Row(series: id, ts: r.timestamp, value: r.value))
        }
        // Stable: of two readings with one key the first in the burst is kept.
        let order = rows.indices.sorted { a, b in
            rows[a].series != rows[b].series
                ? rows[a].series < rows[b].series : rows[a].ts != rows[b].ts ? rows[a].ts < rows[b].ts : a < b
        }
        var unique: [Row] = []
        unique.reserveCapacity(rows.count)
        for index in order {
            let row = rows[index]
            if let last = unique.last, last.series == row.series, last.ts == row.ts { continue }
            unique.append(row)
        }
        return unique
    }

    /// Inserts `rows` (sorted, one per key) into their buckets, reopening compacted series
    /// first, and applies what was inserted to the rollups and `latest`. Returns how many
    /// were inserted.
    ///
    /// `fast`: a reading newer than its series' `latest` row (or of a series without one) is
    /// not stored (`latest` holds the newest time ever stored of each series, in this
    /// transaction under the writer lock): those go in with a plain insert, which skips
    /// `ON CONFLICT`'s speculative insertion and returns nothing. The others (late readings,
    /// redeliveries) are inserted with `ON CONFLICT DO NOTHING RETURNING`, which tells which
    /// were new. A plain insert that meets a stored key throws ``FreshReadingStored``.
    private func insertReadings(_ rows: [Row], fast: Bool, in s: PostgresSession) throws -> Int {
        var starts: [Int64] = []
        var seen: Set<Int64> = []
        for r in rows where seen.insert(layout.start(of: r.ts)).inserted { starts.append(layout.start(of: r.ts)) }
        var buckets = try Self.buckets(starts: starts, in: s)
        for start in starts {
            let before = buckets[start]
            let open = try Self.openBucket(start: start, known: before, layout: layout, in: s)
            buckets[start] = open
            guard open.hasCompacted else { continue }
            // Late readings into a compacted bucket: bring each series' compacted part back.
            var reopened: Set<Int64> = []
            for r in rows where layout.start(of: r.ts) == start && reopened.insert(r.series).inserted {
                try Self.reopen(series: r.series, bucket: open, in: s)
            }
        }
        // Which rows are newer than everything stored of their series.
        var fresh = [Bool](repeating: false, count: rows.count)
        if fast {
            var series: [Int64] = []
            for (i, r) in rows.enumerated() where i == 0 || rows[i - 1].series != r.series { series.append(r.series) }
            var binds = PostgresBindings(capacity: 1)
            binds.appendColumn(series)
            var newest: [Int64: Int64] = [:]
            newest.reserveCapacity(series.count)
            for row in try s.query("SELECT series_id, ts FROM latest WHERE series_id = ANY($1)", binds) {
                let (id, ts) = try row.decode((Int64, Int64).self)
                newest[id] = ts
            }
            for (i, r) in rows.enumerated() {
                if let ts = newest[r.series], r.ts <= ts { continue }
                fresh[i] = true
            }
        }
        var inserted = fresh
        let freshCount = fresh.reduce(0) { $0 + ($1 ? 1 : 0) }
        if freshCount > 0 {
            do {
                try s.query(
                    "INSERT INTO raw (series_id, ts, value) SELECT * FROM unnest($1::int8[], $2::int8[], $3::float8[])",
                    Self.readingColumns(rows, where: fresh, true))
            } catch let error as StoreError where error.code == .conflict {
                throw FreshReadingStored()
            }
        }
        if freshCount < rows.count {
            let returned = try s.query(
                """
                INSERT INTO raw (series_id, ts, value) SELECT * FROM unnest($1::int8[], $2::int8[], $3::float8[])
                ON CONFLICT DO NOTHING RETURNING series_id, ts
                """, Self.readingColumns(rows, where: fresh, false))
            var keys = Set<Key>(minimumCapacity: returned.count)
            for row in returned {
                let (series, ts) = try row.decode((Int64, Int64).self)
                keys.insert(Key(series: series, ts: ts))
            }
            for (i, r) in rows.enumerated() where !fresh[i] && keys.contains(Key(series: r.series, ts: r.ts)) {
                inserted[i] = true
            }
        }
        var insertedRows: [Row] = []
        insertedRows.reserveCapacity(rows.count)
        for (i, r) in rows.enumerated() where inserted[i] { insertedRows.append(r) }
        guard !insertedRows.isEmpty else { return 0 }
        try applyRollups(insertedRows, in: s)
        try appendCommitFeed(insertedRows, in: s)  // forwarding (PostgresStore+CommitFeed.swift), when on
        return insertedRows.count
    }

    /// The series, ts and value columns of the rows whose flag in `flags` is `selected`.
    private static func readingColumns(_ rows: [Row], where flags: [Bool], _ selected: Bool) -> PostgresBindings {
        var series: [Int64] = []
        var ts: [Int64] = []
        var values: [Double] = []
        series.reserveCapacity(rows.count)
        ts.reserveCapacity(rows.count)
        values.reserveCapacity(rows.count)
        for (i, r) in rows.enumerated() where flags[i] == selected {
            series.append(r.series)
            ts.append(r.ts)
            values.append(r.value)
        }
        var binds = PostgresBindings(capacity: 3)
        binds.appendColumn(series)
        binds.appendColumn(ts)
        binds.appendColumn(values)
        return binds
    }

    /// Inserts devices (all columns but life), `onConflict` deciding what an existing id does.
    static func insertDevices(_ devices: [Device], onConflict: String, in s: PostgresSession) throws {
        try insertRows(
            "INSERT INTO devices (id, profile, domain, site, name, latitude, longitude, area_code, owner, created_at, attributes)",
            columns: 11, count: devices.count, tail: "ON CONFLICT (id) \(onConflict)", in: s
        ) { i, binds in
            let d = devices[i]
            binds.append(d.id)
            binds.append(d.profile)
            binds.append(d.domain.rawValue)
            binds.append(d.site)
            binds.append(d.name)
            binds.append(d.latitude)
            binds.append(d.longitude)
            binds.append(d.areaCode)
            binds.append(d.owner)
            binds.append(d.createdAt)
            binds.append(DeviceAttributes.encode(d.attributes))
        }
    }

    static func insertRejects(_ rejects: [RejectRecord], in s: PostgresSession) throws {
        try insertRows(
            "INSERT INTO rejects (received_at, topic, device, payload, code, reason, field)", columns: 7,
            count: rejects.count, in: s
        ) { i, binds in
            let reject = rejects[i]
            var reason = reject.reason
            var payload = reject.payload
            if payload.count > maxStoredRejectBytes {
                reason += " (payload of \(payload.count) bytes cut to the first \(maxStoredRejectBytes))"
                payload = Array(payload.prefix(maxStoredRejectBytes))
            }
            binds.append(reject.receivedAt)
            binds.append(reject.topic)
            binds.append(reject.device)
            binds.append(ByteBuffer(bytes: payload))
            binds.append(reject.code.rawValue)
            binds.append(reason)
            binds.append(reject.field)
        }
    }

    /// `head VALUES ($1, …), (…) tail` for `count` rows of `columns` values each, in as few
    /// statements as the protocol's 65,535 parameters allow; `bind` appends row `i`'s values.
    static func insertRows(
        _ head: String, columns: Int, count: Int, tail: String = "", in s: PostgresSession,
        bind: (_ i: Int, _ binds: inout PostgresBindings) throws -> Void
    ) throws {
        let perStatement = max(1, 60_000 / columns)
        var first = 0
        while first < count {
            let last = min(count, first + perStatement)
            var binds = PostgresBindings(capacity: (last - first) * columns)
            var values: [String] = []
            values.reserveCapacity(last - first)
            var p = 1
            for i in first..<last {
                values.append("(" + (p..<(p + columns)).map { "$\($0)" }.joined(separator: ", ") + ")")
                p += columns
                try bind(i, &binds)
            }
            try s.query("\(head) VALUES \(values.joined(separator: ", ")) \(tail)", binds)
            first = last
        }
    }
}

/// A device's attributes as stored: a JSON object text with sorted keys, NULL when empty
/// (the same text the SQLite engine keeps).
enum DeviceAttributes {
    static func encode(_ attributes: [String: Double]) -> String? {
        guard !attributes.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(attributes) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> [String: Double] {
        guard let text else { return [:] }
        return (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
    }
}
