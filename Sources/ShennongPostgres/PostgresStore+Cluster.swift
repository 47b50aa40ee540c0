import Foundation
import Logging
import NIOCore
import PostgresNIO
import ShennongCore
import Synchronization

/// Several nodes on one database: the leader lease with its fencing epoch, and dashboard
/// sessions and login codes (`dashboard_grants`, as on SQLite).
///
/// The lease is the session advisory lock ``leaderLockKey``, held by a connection of its own
/// (never the pool's, whose connections come and go). That session is told to end after
/// `timeout` of silence (`idle_session_timeout`) and to probe a vanished peer (server-side TCP
/// keepalives), so the server frees the lock of a holder that is hung (SIGSTOP, a frozen VM) or
/// cut off, as it frees a dead one's at once. Taking the lock increments `leader_lease.epoch`
/// under the writer lock; ``fencedWrite(_:)`` (ingest bursts, rule evaluations, contact
/// escalations, the command sender's and devices' command events)
/// then fails unless the row still holds the epoch this node took, so a node
/// that lost the lease never commits, and never acknowledges, anything afterwards.
extension PostgresStore: DashboardSessionStore, LeaderLease {
    /// The advisory lock of the leader lease ("SHNL").
    public static let leaderLockKey: Int64 = 0x5348_4E4C

    static let clusterSchema: [String] = [
        """
        CREATE TABLE leader_lease (
            id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL, node text NOT NULL, since bigint NOT NULL)
        """,
        """
        CREATE TABLE dashboard_grants (
            kind text NOT NULL, digest bytea NOT NULL, token_id bigint NOT NULL, created_at bigint NOT NULL,
            expires_at bigint NOT NULL, PRIMARY KEY (kind, digest))
        """,
        "CREATE INDEX dashboard_grants_expiry ON dashboard_grants (kind, expires_at)",
    ]

    // MARK: LeaderLease

    public var isShared: Bool { true }

    public func acquireLease(node: String, timeout: Int64) throws -> LeaseGrant? {
        let connection = try lease.connection(connections: connections, timeout: timeout, logger: logger)
        let session = PostgresSession(connection: connection, logger: logger)
        do {
            let granted =
                try session.query("SELECT pg_try_advisory_lock(\(Self.leaderLockKey))").first?.decode(Bool.self) ?? false
            guard granted else { return nil }
            let now = nowMillis()
            try session.execute("BEGIN")
            do {
                try session.query("SELECT pg_advisory_xact_lock(\(Self.writerLockKey))")
                let epoch = try session.query(
                    """
                    INSERT INTO leader_lease (id, epoch, node, since) VALUES (1, 1, $1, $2)
                    ON CONFLICT (id) DO UPDATE SET epoch = leader_lease.epoch + 1, node = $1, since = $2
                    RETURNING epoch
                    """, bindings(node, now)
                ).first?.decode(Int64.self)
                try session.execute("COMMIT")
                guard let epoch else { throw StoreError(.corrupt, "leader_lease returned no epoch") }
                lease.setFence(epoch)
                return LeaseGrant(epoch: epoch, node: node, since: now)
            } catch {
                try? session.execute("ROLLBACK")
                throw error
            }
        } catch {
            // Whatever happened, the lock must not outlive a failed acquisition.
            lease.drop()
            throw error
        }
    }

    public func confirmLease() throws {
        guard let connection = lease.held() else { throw StoreError(.io, "the lease's session is closed") }
        do {
            let held = try PostgresSession(connection: connection, logger: logger).query(
                """
                SELECT count(*)::bigint FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                AND objid = \(Self.leaderLockKey & 0xFFFF_FFFF) AND granted
                """
            ).first?.decode(Int64.self) ?? 0
            guard held > 0 else { throw StoreError(.io, "the lease's lock is not held") }
        } catch {
            lease.drop()
            throw error
        }
    }

    public func releaseLease() {
        // Unlock before closing: the server frees a closed session's locks only when its backend
        // has exited, which lags under load; a standby must not find the lock still held.
        if let connection = lease.held() {
            _ = try? PostgresSession(connection: connection, logger: logger).query("SELECT pg_advisory_unlock_all()")
        }
        lease.drop()
    }

    public func leaseHolder() throws -> LeaseGrant? {
        try read { s in
            try s.query("SELECT epoch, node, since FROM leader_lease WHERE id = 1").first.map {
                let (epoch, node, since) = try $0.decode((Int64, String, Int64).self)
                return LeaseGrant(epoch: epoch, node: node, since: since)
            }
        }
    }

    /// ``write(_:)`` for the leader-only work: once this node took the lease, the transaction
    /// fails (rolled back, nothing committed) unless `leader_lease` still holds its epoch.
    /// Under the writer lock, as the epoch's increment: a write either commits before another
    /// node's acquisition (and that node reads it) or sees the new epoch and fails.
    func fencedWrite<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try fencedWrite(if: true, body)
    }

    /// ``fencedWrite(_:)`` when `fenced`, else ``write(_:)``.
    func fencedWrite<T>(if fenced: Bool, _ body: (PostgresSession) throws -> T) throws -> T {
        let fence = fenced ? lease.fence() : nil
        return try write { s in
            if let fence {
                let current = try s.query("SELECT epoch FROM leader_lease WHERE id = 1").first?.decode(Int64.self)
                guard current == fence else {
                    throw StoreError(
                        .conflict,
                        "this node no longer leads (it took epoch \(fence), the database holds \(current.map(String.init) ?? "none")): nothing was committed")
                }
            }
            return try body(s)
        }
    }

    // MARK: DashboardSessionStore

    public func insertDashboardGrant(_ grant: DashboardGrant, kind: DashboardGrantKind, digest: [UInt8], capacity: Int) throws {
        try write { s in
            try s.query(
                "DELETE FROM dashboard_grants WHERE kind = $1 AND expires_at <= $2", bindings(kind.rawValue, grant.createdAt))
            let held = try s.query("SELECT count(*)::bigint FROM dashboard_grants WHERE kind = $1", bindings(kind.rawValue))
                .first?.decode(Int64.self) ?? 0
            if held >= Int64(capacity) {
                try s.query(
                    """
                    DELETE FROM dashboard_grants WHERE kind = $1 AND digest IN (
                        SELECT digest FROM dashboard_grants WHERE kind = $1 ORDER BY expires_at, digest LIMIT $2)
                    """, bindings(kind.rawValue, held - Int64(capacity) + 1))
            }
            try s.query(
                """
                INSERT INTO dashboard_grants (kind, digest, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (kind, digest) DO UPDATE SET token_id = $3, created_at = $4, expires_at = $5
                """,
                bindings(kind.rawValue, ByteBuffer(bytes: digest), grant.tokenID, grant.createdAt, grant.expiresAt))
        }
    }

    /// The grant `sql` returns (`token_id, created_at, expires_at` of its first row), with
    /// `kind` and `digest` bound as `$1` and `$2`.
    static func grant(_ sql: String, kind: DashboardGrantKind, digest: [UInt8], in s: PostgresSession) throws
        -> DashboardGrant?
    {
        try s.query(sql, bindings(kind.rawValue, ByteBuffer(bytes: digest))).first.map { row in
            let (token, created, expires) = try row.decode((Int64, Int64, Int64).self)
            return DashboardGrant(tokenID: token, createdAt: created, expiresAt: expires)
        }
    }

    public func dashboardGrant(kind: DashboardGrantKind, digest: [UInt8], now: Int64) throws -> DashboardGrant? {
        let grant = try read { s in
            try Self.grant(
                "SELECT token_id, created_at, expires_at FROM dashboard_grants WHERE kind = $1 AND digest = $2",
                kind: kind, digest: digest, in: s)
        }
        guard let grant else { return nil }
        guard grant.expiresAt > now else {
            try write { s in
                try s.query(
                    "DELETE FROM dashboard_grants WHERE kind = $1 AND digest = $2 AND expires_at <= $3",
                    bindings(kind.rawValue, ByteBuffer(bytes: digest), now))
            }
            return nil
        }
        return grant
    }

    public func takeDashboardGrant(kind: DashboardGrantKind, digest: [UInt8], now: Int64) throws -> DashboardGrant? {
        let grant = try write { s in
            try Self.grant(
                "DELETE FROM dashboard_grants WHERE kind = $1 AND digest = $2 RETURNING token_id, created_at, expires_at",
                kind: kind, digest: digest, in: s)
        }
        guard let grant, grant.expiresAt > now else { return nil }
        return grant
    }

    public func dashboardGrantCount(kind: DashboardGrantKind) throws -> Int {
        try read { s in
            Int(
                try s.query("SELECT count(*)::bigint FROM dashboard_grants WHERE kind = $1", bindings(kind.rawValue))
                    .first?.decode(Int64.self) ?? 0)
        }
    }
}

/// The lease's own connection and the epoch this node took.
///
/// Invariant: the connection is used by one thread at a time (the leadership driver's); the
/// mutex guards only the reference and the epoch.
final class PostgresLease: Sendable {
    private let state = Mutex<State>(State())

    private struct State {
        var connection: PostgresConnection?
        var fence: Int64?
    }

    /// The epoch of the lease this node took, if it ever did (kept after a loss: the fence
    /// must keep refusing).
    func fence() -> Int64? { state.withLock { $0.fence } }

    func setFence(_ epoch: Int64) { state.withLock { $0.fence = epoch } }

    /// The open connection, if any.
    func held() -> PostgresConnection? {
        state.withLock { state in
            guard let connection = state.connection, !connection.isClosed else { return nil }
            return connection
        }
    }

    /// The lease's connection: the open one, or a new one whose session the server ends after
    /// `timeout` ms of silence and whose peer it probes with keepalives.
    func connection(connections: PostgresConnections, timeout: Int64, logger: Logger) throws -> PostgresConnection {
        if let connection = held() { return connection }
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: connections.group.next(), configuration: connections.configuration, id: 0, logger: logger
            ).wait()
        } catch {
            throw PostgresSession.storeError(error)
        }
        let session = PostgresSession(connection: connection, logger: logger)
        let keepalive = max(1, timeout / 3_000)
        do {
            try session.execute("SET idle_session_timeout = '\(max(1_000, timeout))ms'")
            try session.execute("SET tcp_keepalives_idle = \(keepalive)")
            try session.execute("SET tcp_keepalives_interval = \(keepalive)")
            try session.execute("SET tcp_keepalives_count = 2")
            try session.execute("SET application_name = 'shennong-leader-lease'")
        } catch {
            try? connection.close().wait()
            throw error
        }
        state.withLock { $0.connection = connection }
        return connection
    }

    /// Closes the connection: the server frees the lock with the session.
    func drop() {
        let connection = state.withLock { state -> PostgresConnection? in
            defer { state.connection = nil }
            return state.connection
        }
        if let connection, !connection.isClosed { try? connection.close().wait() }
    }
}

extension PostgresStore {
    public func addTraceScans(_ rows: [TraceScanRow]) throws {
        guard !rows.isEmpty else { return }
        // One row per code for the upsert (counts of one code added up); every network is added.
        var merged: [String: TraceScanRow] = [:]
        for row in rows {
            if var m = merged[row.code] {
                m.count += row.count
                m.firstAt = min(m.firstAt, row.firstAt)
                m.lastAt = max(m.lastAt, row.lastAt)
                merged[row.code] = m
            } else {
                merged[row.code] = row
            }
        }
        let scans = merged.values.sorted { $0.code < $1.code }
        let pairs = rows.flatMap { row in row.networks.map { (row.code, $0) } }
        try write { s in
            try s.query(
                """
                INSERT INTO trace_scans (code, count, first_at, last_at)
                SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[])
                ON CONFLICT (code) DO UPDATE SET count = trace_scans.count + excluded.count,
                    first_at = least(trace_scans.first_at, excluded.first_at),
                    last_at = greatest(trace_scans.last_at, excluded.last_at)
                """, bindings(scans.map(\.code), scans.map(\.count), scans.map(\.firstAt), scans.map(\.lastAt)))
            if !pairs.isEmpty {
                try s.query(
                    """
                    INSERT INTO trace_scan_networks (code, network) SELECT * FROM unnest($1::text[], $2::text[])
                    ON CONFLICT DO NOTHING
                    """, bindings(pairs.map(\.0), pairs.map(\.1)))
            }
        }
    }
}
