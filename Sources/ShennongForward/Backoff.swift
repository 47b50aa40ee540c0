/// Exponential backoff between failed deliveries: `minimum`, doubling per failure up to
/// `maximum`; a success starts over. A value, no clock.
public struct Backoff: Sendable, Hashable {
    public let minimum: Int64
    public let maximum: Int64
    public private(set) var failures = 0

    public init(minimum: Int64, maximum: Int64) {
        self.minimum = max(1, minimum)
        self.maximum = max(self.minimum, maximum)
    }

    /// Records a failure; returns how long to wait before the next attempt (ms).
    public mutating func failed() -> Int64 {
        failures += 1
        let shift = min(failures - 1, 40)
        let (delay, overflow) = minimum.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? maximum : min(maximum, delay)
    }

    /// Records a success.
    public mutating func succeeded() {
        failures = 0
    }
}
