import Foundation

/// What one ingest burst writes, in one transaction: new devices, readings and rejects.
public struct IngestBatch: Sendable {
    public var newDevices: [Device] = []
    public var readings: [Reading] = []
    public var rejects: [RejectRecord] = []
    /// Per device, the receive time of its newest message in the burst ("last seen").
    public var seen: [String: Int64] = [:]
    /// Per device, the newest presence report (`online` / `offline`) in the burst.
    public var presence: [String: Presence] = [:]
    /// Ids of stored rejects this burst replaces (a reject replay): they are deleted in the same
    /// transaction, and what of their payloads still fails is among ``rejects`` again.
    public var replacedRejects: [Int64] = []

    public init() {}

    public var isEmpty: Bool {
        newDevices.isEmpty && readings.isEmpty && rejects.isEmpty && seen.isEmpty && presence.isEmpty
            && replacedRejects.isEmpty
    }

    /// Notes that `device` was heard from at `time` (keeps the newest).
    public mutating func markSeen(_ device: String, at time: Int64) {
        // One lookup when the time is newer (messages mostly come in order).
        if let old = seen.updateValue(time, forKey: device), old > time { seen[device] = old }
    }
}

/// A presence report from the status topic.
public struct Presence: Sendable, Hashable, Codable {
    public var state: String
    public var at: Int64

    public init(state: String, at: Int64) {
        self.state = state
        self.at = at
    }
}

/// What a commit did.
public struct CommitResult: Sendable, Equatable {
    /// Readings inserted (duplicates of stored readings are not counted).
    public var inserted: Int
    /// Readings that were already stored (redelivery): ignored.
    public var duplicates: Int
    public var rejects: Int

    public init(inserted: Int, duplicates: Int, rejects: Int) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.rejects = rejects
    }
}


/// The door ingest writes through: one burst, one transaction.
///
/// A commit stores the burst's new devices, readings (idempotent on (device, metric,
/// timestamp): a redelivered reading is a duplicate, not an error), rejects, last-seen times
/// and presence, and the rollups the readings touch, all or nothing; it deletes the rejects
/// named by ``IngestBatch/replacedRejects`` (a replay) in the same transaction. It returns only once the
/// transaction is durable, so the caller may then acknowledge the burst's messages. Writes
/// come from one ingest thread at a time.
public protocol ReadingIngest: Sendable {
    /// Where the engine keeps its data, for logs: a file path, or a database URL without its password.
    var location: String { get }
    /// Commits `batch` in one transaction; throws when nothing of it was stored.
    func commit(_ batch: IngestBatch) throws -> CommitResult
}
