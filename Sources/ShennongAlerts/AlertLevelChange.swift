/// A change of the level in force of one (rule, device), as the evaluator decided it.
public struct AlertLevelChange: Sendable, Hashable {
    public var rule: String
    public var device: String
    public var domain: String
    public var metric: String?
    /// Level before (`nil`: none) and after (`nil`: cleared).
    public var from: AlertLevel?
    public var to: AlertLevel?
    public var value: Double?
    public var threshold: Double?
    /// The reading's time (or the check's, for silence).
    public var at: Int64
    public var late: Bool
    public var title: String
    public var message: String

    public init(
        rule: String, device: String, domain: String, metric: String?, from: AlertLevel?, to: AlertLevel?,
        value: Double?, threshold: Double?, at: Int64, late: Bool, title: String, message: String
    ) {
        self.rule = rule
        self.device = device
        self.domain = domain
        self.metric = metric
        self.from = from
        self.to = to
        self.value = value
        self.threshold = threshold
        self.at = at
        self.late = late
        self.title = title
        self.message = message
    }
}
