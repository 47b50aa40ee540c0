/// The persisted evaluator state of one (rule, device).
public struct RuleStateRecord: Sendable, Hashable, Codable {
    public var rule: String
    public var device: String
    /// The level in force (`nil`: none).
    public var level: AlertLevel?
    /// The newest reading time that changed this state (redelivered readings up to it are skipped).
    public var watermark: Int64
    /// The evaluator's own state, JSON.
    public var state: String
    public var updatedAt: Int64

    public init(rule: String, device: String, level: AlertLevel?, watermark: Int64, state: String, updatedAt: Int64) {
        self.rule = rule
        self.device = device
        self.level = level
        self.watermark = watermark
        self.state = state
        self.updatedAt = updatedAt
    }
}
