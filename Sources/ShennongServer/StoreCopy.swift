import Crypto
import Foundation
import Logging
import ShennongAlerts
import ShennongCore
import ShennongPostgres
import ShennongStore

/// `shennong db copy --to postgres://…`: a county's SQLite database moved into PostgreSQL
/// (the county that becomes a city platform).
///
/// Copies devices with their life, readings (through the PostgreSQL engine's own ingest, so
/// its buckets and rollups are built as for live data), rollup cells as the source stored them
/// (they may have outlived their raw readings), rejects, tokens (by hash), rule state, alerts
/// with their ids and transitions, trace chains with their codes, and scan counters. Then
/// verifies: the counts of both sides and, per series, the count and a SHA-256 of its readings
/// (timestamps and exact value bits) must be equal, else it throws.
///
/// Refuses a destination that already holds data unless `force` (the readings then merge,
/// idempotent on (series, time); the rest is added).
public enum StoreCopy {
    /// What was copied, and what the verification compared.
    public struct Report: Sendable {
        public var counts: [(item: String, source: Int, copy: Int)] = []
        /// Series whose readings were compared by checksum (all of them).
        public var seriesVerified = 0
    }

    /// Readings per ingest commit into the destination.
    static let chunk = 50_000

    public static func copy(from source: Store, to destination: PostgresStore, force: Bool, logger: Logger) throws -> Report {
        if !force, try destination.holdsData() {
            throw StoreError(
                .conflict,
                "\(destination.location) already holds data; copy into an empty database (or pass --force to merge)")
        }
        // Devices and their life.
        let records = try source.deviceRecords()
        try destination.upsertDevices(records.map(\.device))
        var life = IngestBatch()
        for r in records {
            if let seen = r.lastSeen { life.seen[r.device.id] = seen }
            if let state = r.presence, let at = r.presenceAt { life.presence[r.device.id] = Presence(state: state, at: at) }
        }
        try destination.commit(life)

        // Readings, series by series, then the rollup cells as stored.
        for record in records {
            for metric in record.metrics {
                var from = Int64.min
                while true {
                    let readings = try source.readings(device: record.device.id, metric: metric, from: from, to: .max, limit: chunk)
                    guard let last = readings.last else { break }
                    var batch = IngestBatch()
                    batch.readings = readings
                    try destination.commit(batch)
                    if readings.count < chunk || last.timestamp == .max { break }
                    from = last.timestamp + 1
                }
                for tier in StorageTier.rollups {
                    try destination.importRollupCells(
                        device: record.device.id, metric: metric, tier: tier,
                        cells: try source.rollupCells(device: record.device.id, metric: metric, tier: tier))
                }
            }
        }
        if let horizon = try source.rawHorizon() { try destination.importRawHorizon(horizon) }

        // Rejects, oldest first.
        let rejects = try source.rejects(since: .min, limit: .max).reversed()
        for start in stride(from: 0, to: rejects.count, by: 5_000) {
            var batch = IngestBatch()
            batch.rejects = Array(rejects.dropFirst(start).prefix(5_000))
            try destination.commit(batch)
        }

        try destination.importTokens(try source.tokenRecords())

        // Rule state, then alerts with their ids and transitions.
        let states = try source.ruleStates()
        if !states.isEmpty { _ = try destination.applyRuleEvaluation(states: states, changes: [], now: nil) }
        let alerts = try source.alerts(AlertQuery(limit: .max)).reversed()
        try destination.importAlerts(alerts.map { (alert: $0, transitions: try source.alertTransitions(id: $0.id)) })
        // Device commands with their transitions (StoreCopy+Commands.swift).
        try copyCommands(from: source, to: destination)

        // Trace chains record by record (the destination checks each continues its head), with
        // the codes each issued; then every code's scan counters.
        var codes: [String] = []
        for chain in try source.traceChains() {
            for row in try source.traceRecords(chain: chain) {
                let issued = try row.batch.map { try source.traceCodes(batch: $0, issueSeq: row.seq) } ?? []
                codes += issued
                try destination.appendTraceRecord(chain: chain, uniqueSubject: nil, codes: issued) { seq, prev in
                    guard seq == row.seq, prev == row.prevHash else {
                        throw StoreError(.conflict, "chain \(chain) in the destination does not continue at \(row.seq)")
                    }
                    return row
                }
            }
        }
        var scans: [TraceScanRow] = []
        for code in codes {
            if let scan = try source.traceScan(code: code, maxNetworks: .max) { scans.append(scan) }
            if scans.count >= 1_000 {
                try destination.saveTraceScans(scans)
                scans.removeAll()
            }
        }
        try destination.saveTraceScans(scans)
        logger.info("copied; verifying", metadata: ["to": "\(destination.location)"])
        return try verify(source: source, copy: destination, force: force)
    }

    /// Compares counts and, per series, the readings' count and checksum; throws `corrupt`
    /// naming what differs. (With `force` the copy may hold more: counts must then be at least
    /// the source's.)
    public static func verify(source: Store, copy: PostgresStore, force: Bool = false) throws -> Report {
        var report = Report()
        let a = try source.stats()
        let b = try copy.stats()
        func count(_ store: any ServerStore) throws -> [Int] {
            let chains = try store.traceChains()
            return [
                try store.tokens().count,
                try store.alerts(AlertQuery(limit: .max)).count,
                try store.alerts(AlertQuery(limit: .max)).reduce(0) { $0 + (try store.alertTransitions(id: $1.id).count) },
                try store.ruleStates().count,
                try chains.reduce(0) { $0 + (try store.traceRecords(chain: $1).count) },
            ]
        }
        let (ca, cb) = (try count(source), try count(copy))
        report.counts = [
            ("devices", a.devices, b.devices), ("series", a.series, b.series), ("readings", a.readings, b.readings),
            ("rejects", a.rejects, b.rejects), ("tokens", ca[0], cb[0]), ("alerts", ca[1], cb[1]),
            ("alert_transitions", ca[2], cb[2]), ("rule_states", ca[3], cb[3]), ("trace_records", ca[4], cb[4]),
        ]
        report.counts += try commandCounts(source: source, copy: copy)
        for (item, x, y) in report.counts where force ? y < x : y != x {
            throw StoreError(.corrupt, "copy verification: \(item) \(y) in the copy, \(x) in the source")
        }
        for record in try source.deviceRecords() {
            for metric in record.metrics {
                let (n1, h1) = try checksum(source, device: record.device.id, metric: metric)
                let (n2, h2) = try checksum(copy, device: record.device.id, metric: metric)
                guard n1 == n2, h1 == h2 else {
                    throw StoreError(
                        .corrupt,
                        "copy verification: series \(record.device.id)/\(metric) has \(n2) readings (checksum \(h2.prefix(12))) in the copy, \(n1) (\(h1.prefix(12))) in the source")
                }
                report.seriesVerified += 1
            }
        }
        return report
    }

    /// The number of readings of a series and the SHA-256 of their (timestamp, value bits), in time order.
    static func checksum(_ store: any ReadingQueries, device: String, metric: String) throws -> (Int, String) {
        var hash = SHA256()
        var n = 0
        var from = Int64.min
        while true {
            let readings = try store.readings(device: device, metric: metric, from: from, to: .max, limit: chunk)
            for r in readings {
                withUnsafeBytes(of: r.timestamp.littleEndian) { hash.update(bufferPointer: $0) }
                withUnsafeBytes(of: r.value.bitPattern.littleEndian) { hash.update(bufferPointer: $0) }
            }
            n += readings.count
            guard readings.count == chunk, let last = readings.last, last.timestamp < .max else { break }
            from = last.timestamp + 1
        }
        return (n, hash.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
