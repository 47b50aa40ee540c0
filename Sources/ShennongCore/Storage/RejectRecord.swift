import Foundation

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

/// The door to rejected payloads for those who list them (the staff API, the dashboard, the CLI).
/// Ingest writes rejects inside its own commit (``ReadingIngest``).
public protocol RejectLog: Sendable {
    /// Rejects received at or after `since`, newest first, at most `limit`.
    func rejects(since: Int64, limit: Int) throws -> [RejectRecord]
    /// Rejects a replay decodes again, oldest first, at most `limit`: received at or after
    /// `since`, of `device` when given (the reject's device or its topic's), whose code is
    /// `reason` or whose reason text contains it when given. Rejects of a payload cut to
    /// ``RejectCode/payloadTooLarge`` are never replayed (their bytes are incomplete).
    func rejectsToReplay(since: Int64, reason: String?, device: String?, limit: Int) throws -> [RejectRecord]
}

extension RejectLog {
    /// Rejects received at or after `since`, newest first, at most 1,000.
    public func rejects(since: Int64 = 0) throws -> [RejectRecord] {
        try rejects(since: since, limit: 1000)
    }

    /// The newest `limit` rejects.
    public func rejects(limit: Int) throws -> [RejectRecord] {
        try rejects(since: 0, limit: limit)
    }
}
