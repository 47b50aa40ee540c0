import Foundation
import ShennongCore
import ShennongTestSupport
import Testing

@testable import ShennongStore

/// Every schema migration from each earlier schema: a database migrated only up to each
/// migration of `Store.migrationNames`, holding rows valid for that schema, is opened with
/// the full Store; its data must survive and its schema must equal a fresh database's.
@Suite struct MigrationTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
    static let origin: Int64 = 1_763_596_800_000  // 2025-11-20T00:00:00Z

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Runs `script` with the sqlite3 tool and returns its output (`|`-separated rows).
    @discardableResult
    func sqlite(_ path: String, _ script: String) throws -> String { try sqlite3(path, script) }

    /// The schema as sqlite_master holds it, bookkeeping of SQLite and GRDB aside.
    func schema(_ path: String) throws -> [String] {
        try sqlite(path, "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name;")
            .split(separator: "\n").map(String.init)
    }

    /// Rows valid once `migration` has been applied (each schema gets the rows of the tables it adds).
    static func rows(after migration: String) -> String {
        switch migration {
        case Store.v1Name:
            return """
                INSERT INTO devices (id, profile, domain, site, created_at) VALUES ('pond-1', 'generic', 'water', 'lianzhou', 1);
                INSERT INTO series (id, device, metric) VALUES (1, 'pond-1', 'dissolved_oxygen');
                WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 2879)
                INSERT INTO readings SELECT 1, \(origin) + n * 60000, (500 + n % 100) / 100.0 FROM i;
                INSERT INTO latest SELECT series_id, max(ts), value FROM readings GROUP BY series_id;
                INSERT INTO rejects (received_at, topic, device, payload, code, reason)
                    VALUES (\(origin), 'agri/pond-1/telemetry', 'pond-1', X'7B7D', 'unsupported_payload', 'empty object');
                INSERT INTO tokens (name, role, hash, created_at) VALUES ('v1-admin', 'admin', 'hash-v1', 1);
                """
        case Store.v2Name:
            return """
                INSERT INTO devices (id, profile, domain, site, created_at) VALUES ('soil-2', 'soil-probe', 'soil', 'qingxin', 2);
                INSERT INTO tokens (name, role, hash, created_at) VALUES ('v2-viewer', 'viewer', 'hash-v2', 2);
                """
        case Store.v3Name:
            return """
                INSERT INTO devices (id, profile, domain, site, created_at, attributes)
                    VALUES ('gauge-3', 'water-level-gauge', 'flood', 'lianjiang', 3, '{"warning_stage":4.5}');
                """
        case let name where name.hasPrefix("alerts-"):
            return """
                INSERT INTO rule_state (rule, device, level, watermark, state, updated_at) VALUES ('do-low', 'pond-1', 2, 5, '{}', 5);
                INSERT INTO alerts (id, rule, device, domain, metric, level, peak_level, status, value, threshold, raised_at,
                    updated_at, title, message, notified_at)
                    VALUES (1, 'do-low', 'pond-1', 'water', 'dissolved_oxygen', 2, 2, 'open', 2.5, 3, 5, 5, '溶解氧偏低', 'DO 2.5', 5);
                INSERT INTO alert_transitions (alert_id, kind, to_level, status, value, at, recorded_at, by)
                    VALUES (1, 'raised', 2, 'open', 2.5, 5, 5, 'rules');
                """
        case let name where name.contains("trace"):
            return """
                INSERT INTO trace_records (chain, seq, kind, subject, payload, content_hash, prev_hash, hash, recorded_at)
                    VALUES ('main', 0, 'producer', 'P1', '{}', 'c0', 'g', 'h0', 6);
                INSERT INTO trace_codes (code, batch, issue_seq, issued_at) VALUES ('CODE1', 'B1', 1, 6);
                INSERT INTO trace_scans (code, count, first_at, last_at) VALUES ('CODE1', 3, 6, 7);
                INSERT INTO trace_scan_networks (code, network) VALUES ('CODE1', '10.0.0.0/24');
                """
        case let name where name.hasPrefix("commands-"):
            return """
                INSERT INTO commands (id, device, name, args, state, issued_by, issued_at, expires_at, reply_within,
                    confirm_metric, confirm_value, confirm_within, updated_at)
                    VALUES ('c1', 'pond-1', 'aerator_on', '{}', 'queued', 'ops', 8, 600008, 60000, 'aerator_on', 1, 180000, 8);
                INSERT INTO command_transitions (command_id, to_state, at, by) VALUES ('c1', 'queued', 8, 'ops');
                """
        case let name where name.hasPrefix("seals-"):
            return """
                INSERT INTO bucket_seals (seq, bucket, until, series, readings, root, prev, hash, sealed_at, public_key, signature, leaves)
                    VALUES (1, \(origin), \(origin) + 86400000, 1, 1440, 'r', 'p', 'h', 9, 'k', 's', X'01');
                """
        case let name where name.hasPrefix("feed-"):
            return """
                INSERT INTO commit_feed (committed_at, readings, ranges) VALUES (9, 1, x'00');
                INSERT INTO feed_state (consumer, key, value, updated_at) VALUES ('centre', 'cursor', '{"seq":1}', 9);
                """
        case let name where name.hasPrefix("tokens-"):
            return """
                INSERT INTO tokens (name, role, hash, created_at, scope, revoked_at)
                    VALUES ('scoped', 'viewer', 'hash-scoped', 9, '{"areas":["4418"],"devices":[],"domains":["water"],"sites":[]}', 10);
                """
        case let name where name.hasPrefix("cluster-"):
            return """
                INSERT INTO dashboard_grants (kind, digest, token_id, created_at, expires_at) VALUES ('session', x'00', 1, 9, 43200009);
                """
        case let name where name.hasPrefix("notifications-"):
            return """
                INSERT INTO notification_cursors (notifier, transition_id, updated_at) VALUES ('mqtt', 1, 9);
                """
        default:
            return ""
        }
    }

    /// Row counts the full Store must find after upgrading from a database at `migration`.
    static func expectedCounts(upTo index: Int) -> [String: Int] {
        var counts: [String: Int] = [:]
        for name in Store.migrationNames.prefix(index + 1) {
            switch name {
            case Store.v1Name: counts["devices", default: 0] += 1; counts["tokens", default: 0] += 1; counts["rejects"] = 1
            case Store.v2Name: counts["devices", default: 0] += 1; counts["tokens", default: 0] += 1
            case Store.v3Name: counts["devices", default: 0] += 1
            case let n where n.hasPrefix("alerts-"): counts["alerts"] = 1; counts["alert_transitions"] = 1; counts["rule_state"] = 1
            case let n where n.hasPrefix("commands-"): counts["commands"] = 1; counts["command_transitions"] = 1
            case let n where n.hasPrefix("seals-"): counts["bucket_seals"] = 1
            case let n where n.hasPrefix("feed-"): counts["commit_feed"] = 1; counts["feed_state"] = 1
            case let n where n.hasPrefix("tokens-"): counts["tokens", default: 0] += 1
            case let n where n.hasPrefix("cluster-"): counts["dashboard_grants"] = 1
            case let n where n.hasPrefix("notifications-"): counts["notification_cursors"] = 1
            case let n where n.contains("trace"):
                counts["trace_records"] = 1; counts["trace_codes"] = 1; counts["trace_scans"] = 1; counts["trace_scan_networks"] = 1
            default: Issue.record("migration \(name) has no representative rows in MigrationTests: add them")
            }
        }
        return counts
    }

    @Test("the migration list starts with the core schema and includes the module migrations")
    func migrationList() {
        let names = Store.migrationNames
        #expect(Array(names.prefix(3)) == [Store.v1Name, Store.v2Name, Store.v3Name])
        #expect(names.contains { $0.hasPrefix("alerts-") })
        #expect(names.contains { $0.contains("trace") })
    }

    @Test("a database left at each earlier migration upgrades with its data and ends with a fresh database's schema",
          arguments: Array(Store.migrationNames.indices))
    func upgradeFrom(index: Int) throws {
        let names = Store.migrationNames
        let path = directory.appendingPathComponent("at-\(index).db").path
        // Build the old file step by step, each step's rows inserted while it was the newest schema.
        for name in names.prefix(index + 1) {
            try Store.migrate(path: path, upTo: name)
            try sqlite(path, Self.rows(after: name))
        }
        let applied = try sqlite(path, "SELECT identifier FROM grdb_migrations ORDER BY rowid;").split(separator: "\n").map(String.init)
        #expect(applied == Array(names.prefix(index + 1)))

        let store = try Store(path: path, durable: false)
        #expect(try store.appliedMigrations() == names)
        // The readings of v1 moved into buckets with their values; the rest survived row for row.
        let readings = try store.readings(device: "pond-1", metric: "dissolved_oxygen", from: 0, to: .max, limit: .max)
        #expect(readings.count == 2880)
        #expect(readings.first?.value == 5.0 && readings.last?.value == Double(500 + 2879 % 100) / 100)
        #expect(try store.rollups(device: "pond-1", metric: "dissolved_oxygen", tier: .day, from: 0, to: .max).map(\.count) == [1440, 1440])
        #expect(try store.latest(device: "pond-1").first?.value == readings.last?.value)
        let expected = Self.expectedCounts(upTo: index)
        for (table, count) in expected {
            let found = try sqlite(path, "SELECT count(*) FROM \(table);").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Int(found) == count, "\(table) after upgrading from \(names[index])")
        }
        if index >= 2 {
            let gauge = try store.deviceRecords(id: "gauge-3").first
            #expect(gauge?.device.attributes["warning_stage"] == 4.5)
        }
        // Tokens from before scopes are unrestricted and live; a stored scope and revocation read back.
        let tokens = try store.tokens()
        #expect(tokens.first { $0.name == "v1-admin" }.map { $0.scope.isEverything && !$0.isRevoked } == true)
        if let scoped = tokens.first(where: { $0.name == "scoped" }) {
            #expect(scoped.scope.text == "domain=water,area=4418" && scoped.revokedAt == 10)
        }
        // Still a working database: a reading of today is stored in its own bucket.
        var batch = IngestBatch()
        batch.readings = [Reading(device: "pond-1", metric: "ph", timestamp: Self.origin + 3 * 86_400_000, value: 7.2)]
        try store.commit(batch)
        try store.close()

        // The same data in a fresh database: the schema must be identical, table for table.
        let fresh = directory.appendingPathComponent("fresh-\(index).db").path
        let freshStore = try Store(path: fresh, durable: false)
        var freshBatch = IngestBatch()
        freshBatch.newDevices = [Device(id: "pond-1", profile: "generic", domain: .water, createdAt: 1)]
        freshBatch.readings = readings + batch.readings
        try freshStore.commit(freshBatch)
        try freshStore.close()
        #expect(try schema(path) == schema(fresh))
    }
}
