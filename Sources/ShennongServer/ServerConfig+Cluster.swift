import Foundation
import ShennongCore

extension ServerConfig {
    /// The `cluster:` section: several nodes on one PostgreSQL database (`database.url`).
    ///
    /// ```yaml
    /// cluster:
    ///   node_id: shennong-a     # this node's name in /healthz, metrics and logs (default: the host name)
    ///   lease_timeout: 8s       # a silent leader loses the lease after this long (1s to 60s)
    /// ```
    ///
    /// Every node serves HTTP; the node holding the leader lease runs ingest, rules, escalation,
    /// commands and maintenance. A standby takes over within `lease_timeout` plus about one
    /// second when the leader hangs or is cut off, and within about one second when it dies.
    /// With SQLite (one process) the node always leads.
    public struct Cluster: Sendable, Decodable {
        public var nodeID = ProcessInfo.processInfo.hostName
        public var leaseTimeout: Int64 = 8_000

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            try c.update(&nodeID, "node_id", parsing: { !$0.isEmpty && $0.count <= 64 && Device.isValidID($0) ? $0 : nil }) {
                "must be 1 to 64 of A-Z a-z 0-9 _ . -, not \($0)"
            }
            try c.update(duration: &leaseTimeout, "lease_timeout", in: 1_000...60_000) { "must be a duration from 1s to 60s, not \($0)" }
        }
    }
}
