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

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id"
            case leaseTimeout = "lease_timeout"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let id = try c.decodeIfPresent(String.self, forKey: .nodeID) {
                guard !id.isEmpty, id.count <= 64, Device.isValidID(id) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .nodeID, in: c, debugDescription: "must be 1 to 64 of A-Z a-z 0-9 _ . -, not \(id)")
                }
                nodeID = id
            }
            if let text = try c.decodeIfPresent(String.self, forKey: .leaseTimeout) {
                guard let ms = Storage.duration(text), ms >= 1_000, ms <= 60_000 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .leaseTimeout, in: c, debugDescription: "must be a duration from 1s to 60s, not \(text)")
                }
                leaseTimeout = ms
            }
        }
    }
}
