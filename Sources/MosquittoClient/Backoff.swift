/// Exponential back-off: `minimum`, doubling each time, capped at `maximum`.
struct Backoff {
    let minimum: Double
    let maximum: Double
    private var upcoming: Double

    init(_ delay: MQTTConfiguration.ReconnectDelay) {
        minimum = max(0.001, delay.minimum.inSeconds)
        maximum = max(minimum, delay.maximum.inSeconds)
        upcoming = minimum
    }

    /// The delay to wait now; the following call returns twice as much (up to `maximum`).
    mutating func next() -> Double {
        let delay = upcoming
        upcoming = min(upcoming * 2, maximum)
        return delay
    }

    mutating func reset() {
        upcoming = minimum
    }
}
