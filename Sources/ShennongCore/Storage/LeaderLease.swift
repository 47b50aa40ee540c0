/// The lease one node holds to run the leader-only work, with a fencing epoch.
public struct LeaseGrant: Sendable, Hashable, Codable {
    /// Incremented at each acquisition: writes of the leader-only work check it in their
    /// transaction, so a node that lost the lease can never commit.
    public var epoch: Int64
    /// The node that took it (`node.id`).
    public var node: String
    /// When it was taken (epoch ms).
    public var since: Int64

    public init(epoch: Int64, node: String, since: Int64) {
        self.epoch = epoch
        self.node = node
        self.since = since
    }
}

/// The door to leadership among the nodes sharing one database (see ``Leadership``).
///
/// On PostgreSQL the lease is a session advisory lock held by a dedicated connection (not the
/// pool's) whose session the server ends after `timeout` of silence (`idle_session_timeout`,
/// TCP keepalives), so a hung holder loses it server-side; taking it increments the epoch row
/// in a write transaction, and from then on the engine's leader-only writes (ingest bursts, rule
/// evaluations, contact escalations) fail unless the row still holds that epoch. A SQLite file
/// belongs to one process: the lease is always granted (epoch 1) and never lost.
///
/// A node that loses the lease does not take it again in the same process: its in-memory
/// state (rule runtimes, queued notifications, the ingest connection) belongs to the lost
/// term, so it exits and its supervisor starts it afresh as a standby.
public protocol LeaderLease: Sendable {
    /// Whether other nodes may share this database (so a lease is needed at all).
    var isShared: Bool { get }
    /// Tries to take the lease for `node`; the grant (its epoch incremented) when taken, `nil`
    /// when another node holds it. `timeout` (ms): how long the database keeps a silent
    /// holder's session. Throws when the database cannot be reached.
    func acquireLease(node: String, timeout: Int64) throws -> LeaseGrant?
    /// Confirms the lease is still held (a round trip on its session). Throws when it is not.
    func confirmLease() throws
    /// Gives the lease up (graceful shutdown): another node may take it at once.
    func releaseLease()
    /// The holder last recorded (the node that took the lease most recently), or `nil`.
    func leaseHolder() throws -> LeaseGrant?
}
