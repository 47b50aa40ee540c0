import ShennongCore

/// A payload (or one field of it) that could not be stored, kept with its raw bytes so it
/// can be inspected and replayed after a profile fix.
public struct RejectRecord: Sendable, Hashable, Codable {
    public var id: Int64?
    /// Milliseconds since the epoch when the message was received.
    public var receivedAt: Int64
    public var topic: String
    public var device: String?
    public var payload: [UInt8]
    public var code: RejectCode
    public var reason: String
    public var field: String?

    public init(
        id: Int64? = nil, receivedAt: Int64, topic: String, device: String?, payload: [UInt8],
        code: RejectCode, reason: String, field: String? = nil
    ) {
        self.id = id
        self.receivedAt = receivedAt
        self.topic = topic
        self.device = device
        self.payload = payload
        self.code = code
        self.reason = reason
        self.field = field
    }
}

/// What one ingest burst writes, in one transaction: new devices, readings and rejects.
public struct IngestBatch: Sendable {
    public var newDevices: [Device] = []
    public var readings: [Reading] = []
    public var rejects: [RejectRecord] = []
    /// Per device, the receive time of its newest message in the burst ("last seen").
    public var seen: [String: Int64] = [:]
    /// Per device, the newest presence report (`online` / `offline`) in the burst.
    public var presence: [String: Presence] = [:]

    public init() {}

    public var isEmpty: Bool {
        newDevices.isEmpty && readings.isEmpty && rejects.isEmpty && seen.isEmpty && presence.isEmpty
    }

    /// Notes that `device` was heard from at `time` (keeps the newest).
    public mutating func markSeen(_ device: String, at time: Int64) {
        if let old = seen[device], old >= time { return }
        seen[device] = time
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
}

/// The newest reading of a series, with what staff need beside it.
public struct LatestValue: Sendable, Hashable, Codable {
    public var device: String
    public var site: String?
    public var domain: Domain
    public var metric: String
    public var unit: String
    public var timestamp: Int64
    public var value: Double
}

/// One aggregate over an interval of a series.
public struct AggregatePoint: Sendable, Hashable, Codable {
    public var device: String
    public var metric: String
    /// Start of the interval, ms since the epoch (UTC-aligned).
    public var start: Int64
    public var count: Int
    public var min: Double
    public var max: Double
    public var sum: Double
    public var mean: Double { count > 0 ? sum / Double(count) : .nan }
    public var first: Double
    public var last: Double
}

/// A staff token as stored: only the SHA-256 of the secret is kept.
public struct TokenInfo: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var role: Role
    public var createdAt: Int64

    public init(id: Int64, name: String, role: Role, createdAt: Int64) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
    }
}

/// A registered device with what the store knows of its life: when it was last heard from,
/// its presence on the status topic, and the metrics it has reported.
public struct DeviceRecord: Sendable, Hashable, Codable {
    public var device: Device
    /// Receive time (ms) of its newest message.
    public var lastSeen: Int64?
    /// `online` / `offline` as last reported on `agri/{device}/status`.
    public var presence: String?
    public var presenceAt: Int64?
    public var metrics: [String]
}

/// Sizes and counts for `shennong db stats`.
public struct StoreStats: Sendable, Codable {
    public var devices: Int
    public var series: Int
    public var readings: Int
    public var rejects: Int
    public var fileBytes: Int64
    /// Time buckets registered (with any table left).
    public var buckets: Int = 0
    /// Readings in raw bucket tables (not yet compacted, or late ones).
    public var rawReadings: Int = 0
    /// Readings inside compacted blocks.
    public var compactedReadings: Int = 0
}
