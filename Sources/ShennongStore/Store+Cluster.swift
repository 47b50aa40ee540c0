import Foundation
import GRDB
import ShennongCore

/// What lived in one process's memory and now lives in the database, so that it holds across
/// restarts (and, on the shared engine, across nodes): dashboard sessions and login codes.
///
/// - `dashboard_grants`: keyed by (kind, SHA-256 of the id); the token id and times only.
///
/// Leadership: a SQLite file belongs to one process, so the lease is always granted.
extension Store: DashboardSessionStore, LeaderLease {
    static func registerClusterMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration(
            "cluster-v1: dashboard sessions and login codes",
            sql: """
                CREATE TABLE dashboard_grants (
                    kind TEXT NOT NULL,
                    digest BLOB NOT NULL,
                    token_id INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (kind, digest)
                ) WITHOUT ROWID;
                CREATE INDEX dashboard_grants_expiry ON dashboard_grants(kind, expires_at);
                """)
    }

    // MARK: DashboardSessionStore

    public func insertDashboardGrant(_ grant: DashboardGrant, kind: DashboardGrantKind, digest: [UInt8], capacity: Int) throws {
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM dashboard_grants WHERE kind = ? AND expires_at <= ?", arguments: [kind.rawValue, grant.createdAt])
            let held = try Int.fetchOne(db, sql: "SELECT count(*) FROM dashboard_grants WHERE kind = ?", arguments: [kind.rawValue]) ?? 0
            if held >= capacity {
                try db.execute(
                    sql: """
                        DELETE FROM dashboard_grants WHERE kind = ? AND digest IN (
                            SELECT digest FROM dashboard_grants WHERE kind = ? ORDER BY expires_at, digest LIMIT ?)
                        """, arguments: [kind.rawValue, kind.rawValue, held - capacity + 1])
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO dashboard_grants (kind, digest, token_id, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [kind.rawValue, Data(digest), grant.tokenID, grant.createdAt, grant.expiresAt])
        }
    }

    public func dashboardGrant(kind: DashboardGrantKind, digest: [UInt8], now: Int64) throws -> DashboardGrant? {
        let row = try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT token_id, created_at, expires_at FROM dashboard_grants WHERE kind = ? AND digest = ?",
                arguments: [kind.rawValue, Data(digest)])
        }
        guard let row else { return nil }
        let grant = DashboardGrant(tokenID: row[0], createdAt: row[1], expiresAt: row[2])
        guard grant.expiresAt > now else {
            try pool.write { db in
                try db.execute(
                    sql: "DELETE FROM dashboard_grants WHERE kind = ? AND digest = ? AND expires_at <= ?",
                    arguments: [kind.rawValue, Data(digest), now])
            }
            return nil
        }
        return grant
    }

    public func takeDashboardGrant(kind: DashboardGrantKind, digest: [UInt8], now: Int64) throws -> DashboardGrant? {
        try pool.write { db in
            let row = try Row.fetchOne(
                db, sql: "DELETE FROM dashboard_grants WHERE kind = ? AND digest = ? RETURNING token_id, created_at, expires_at",
                arguments: [kind.rawValue, Data(digest)])
            guard let row else { return nil }
            let grant = DashboardGrant(tokenID: row[0], createdAt: row[1], expiresAt: row[2])
            return grant.expiresAt > now ? grant : nil
        }
    }

    public func dashboardGrantCount(kind: DashboardGrantKind) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM dashboard_grants WHERE kind = ?", arguments: [kind.rawValue]) ?? 0
        }
    }

    // MARK: LeaderLease

    public var isShared: Bool { false }

    /// Always granted: one process owns the file.
    public func acquireLease(node: String, timeout: Int64) throws -> LeaseGrant? {
        LeaseGrant(epoch: 1, node: node, since: clock.now())
    }

    public func confirmLease() throws {}

    public func releaseLease() {}

    public func leaseHolder() throws -> LeaseGrant? { nil }
}

extension Store {
    public func addTraceScans(_ rows: [TraceScanRow]) throws {
        guard !rows.isEmpty else { return }
        try pool.write { db in
            let scans = try db.makeStatement(
                sql: """
                    INSERT INTO trace_scans (code, count, first_at, last_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(code) DO UPDATE SET count = trace_scans.count + excluded.count,
                        first_at = min(trace_scans.first_at, excluded.first_at), last_at = max(trace_scans.last_at, excluded.last_at)
                    """)
            let networks = try db.makeStatement(sql: "INSERT OR IGNORE INTO trace_scan_networks (code, network) VALUES (?, ?)")
            for row in rows {
                try scans.execute(arguments: [row.code, row.count, row.firstAt, row.lastAt])
                for network in row.networks { try networks.execute(arguments: [row.code, network]) }
            }
        }
    }
}
