/// The door to committed alert transitions in the order they were written, for those who
/// follow them with a durable cursor (forwarding to an upstream centre).
public protocol AlertFeed: Sendable {
    /// Transitions with an id above `afterTransition`, by id, each with its alert as it is now;
    /// at most `limit`.
    func alertNotices(afterTransition: Int64, limit: Int) throws -> [AlertNotice]
    /// The newest transition id, 0 when none.
    func newestAlertTransition() throws -> Int64
}
