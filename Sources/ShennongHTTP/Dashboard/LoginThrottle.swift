import Metrics
import NIOCore
import ShennongCore

/// Failed dashboard logins per client address: a token bucket each (``TokenBuckets``, as the
/// public rate limit). Each address may fail `burst` times at once; failures come back at
/// `perMinute` a minute. An address with none left is refused (429, `Retry-After`) before
/// its token is even checked, so guessing tokens from one address is slow. A successful login
/// costs nothing.
public struct LoginRateLimit: Sendable, Hashable {
    /// Failed logins an address may make at once.
    public var burst: Int
    /// Failed logins an address gets back per minute; 0 with a positive burst: never back
    /// while the server runs. `burst` 0 turns the limit off.
    public var perMinute: Double

    public init(burst: Int = 10, perMinute: Double = 2) {
        self.burst = burst
        self.perMinute = perMinute
    }

    public var isEnabled: Bool { burst > 0 }
}

/// The state of ``LoginRateLimit``: shared by every copy of the dashboard routes.
final class LoginThrottle: Sendable {
    let limit: LoginRateLimit
    private let buckets: TokenBuckets
    /// `shennong_dashboard_login_throttled_total`: logins refused with 429.
    let refused: Counter

    init(limit: LoginRateLimit, refused: Counter = Counter(label: "shennong_dashboard_login_throttled_total")) {
        self.limit = limit
        self.buckets = TokenBuckets(burst: limit.burst, perMinute: limit.perMinute)
        self.refused = refused
    }

    /// Seconds `client` must wait before it may try again (counted as a refusal), or `nil`
    /// when it may try now.
    func refusal(_ client: String, now: Int64) -> Int64? {
        guard limit.isEnabled, buckets.tokens(client, now: now) < 1 else { return nil }
        refused.increment()
        let perMillisecond = limit.perMinute / 60_000
        guard perMillisecond > 0 else { return 3600 }
        let wait = (1 - buckets.tokens(client, now: now)) / perMillisecond
        return max(1, Int64((wait / 1000).rounded(.up)))
    }

    /// A failed login from `client`.
    func failed(_ client: String, now: Int64) {
        guard limit.isEnabled else { return }
        buckets.spend(client, now: now)
    }

    /// The client's address without its port (each connection has its own port).
    static func clientKey(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        return address.ipAddress ?? "\(address)"
    }
}
