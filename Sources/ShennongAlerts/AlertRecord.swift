/// One alert as stored.
public struct AlertRecord: Sendable, Hashable, Codable {
    /// The store's id; 0 for an alert the lifecycle raised and the store has not yet written.
    public var id: Int64
    public var rule: String
    public var device: String
    public var domain: String
    public var metric: String?
    /// The current level (the last level while live; the level when it was resolved after).
    public var level: AlertLevel
    /// The highest level it reached.
    public var peakLevel: AlertLevel
    public var status: AlertStatus
    /// The value (reading, window aggregate or index) at the latest level change.
    public var value: Double?
    /// The threshold of the current level.
    public var threshold: Double?
    /// Time of the reading that raised it (ms).
    public var raisedAt: Int64
    /// Time of the reading (or check) behind the latest level change (ms).
    public var updatedAt: Int64
    /// Raised from readings older than `rules.late_after` (backfill): recorded, not pushed.
    public var late: Bool
    public var title: String
    public var message: String
    public var acknowledgedBy: String?
    public var acknowledgedAt: Int64?
    public var resolvedBy: String?
    public var resolvedAt: Int64?
    public var closedBy: String?
    public var closedAt: Int64?
    /// Index of the contact tier notified last (0: the first tier, at raise).
    public var contactTier: Int
    /// Wall-clock time (ms) the current tier was notified: the escalation timer starts here.
    public var notifiedAt: Int64

    public init(
        id: Int64, rule: String, device: String, domain: String, metric: String?, level: AlertLevel,
        peakLevel: AlertLevel, status: AlertStatus, value: Double?, threshold: Double?, raisedAt: Int64,
        updatedAt: Int64, late: Bool, title: String, message: String, acknowledgedBy: String? = nil,
        acknowledgedAt: Int64? = nil, resolvedBy: String? = nil, resolvedAt: Int64? = nil, closedBy: String? = nil,
        closedAt: Int64? = nil, contactTier: Int, notifiedAt: Int64
    ) {
        self.id = id
        self.rule = rule
        self.device = device
        self.domain = domain
        self.metric = metric
        self.level = level
        self.peakLevel = peakLevel
        self.status = status
        self.value = value
        self.threshold = threshold
        self.raisedAt = raisedAt
        self.updatedAt = updatedAt
        self.late = late
        self.title = title
        self.message = message
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
        self.closedBy = closedBy
        self.closedAt = closedAt
        self.contactTier = contactTier
        self.notifiedAt = notifiedAt
    }
}
