/// One stored value: a series (device, metric) at a timestamp.
///
/// Timestamps are milliseconds since the Unix epoch, UTC. Values are in the metric's
/// canonical unit. Storage is idempotent on (device, metric, timestamp).
public struct Reading: Sendable, Hashable, Codable {
    public var device: String
    public var metric: String
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var timestamp: Int64
    public var value: Double

    public init(device: String, metric: String, timestamp: Int64, value: Double) {
        self.device = device
        self.metric = metric
        self.timestamp = timestamp
        self.value = value
    }
}

/// A payload, or one field of it, that could not be used, with the reason.
///
/// Rejects are stored with the raw bytes so that a message can be replayed after a profile
/// fix; good values of the same message are stored regardless.
public struct Rejection: Sendable, Hashable, Codable {
    /// A stable machine-readable code, used as the metric label of the reject counter.
    public var code: RejectCode
    /// A sentence a person can act on, naming the field where one is at fault.
    public var message: String
    /// The field at fault, where the fault is one field's.
    public var field: String?

    public init(code: RejectCode, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }
}

/// Why input was rejected. The raw values are stable: they appear in the database, the CLI
/// and the `shennong_messages_rejected_total{reason=...}` counter.
public enum RejectCode: String, Sendable, Codable, CaseIterable, Hashable {
    case malformedJSON = "malformed_json"
    case unsupportedPayload = "unsupported_payload"
    case payloadTooLarge = "payload_too_large"
    case invalidTopic = "invalid_topic"
    case invalidDeviceID = "invalid_device_id"
    case unknownDevice = "unknown_device"
    case unknownMetric = "unknown_metric"
    case wrongType = "wrong_type"
    case nonFinite = "non_finite"
    case outOfRange = "out_of_range"
    case badTimestamp = "bad_timestamp"
    case futureTimestamp = "future_timestamp"
    case tooOld = "too_old"
    case unitMismatch = "unit_mismatch"
}
