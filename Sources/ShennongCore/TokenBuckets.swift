import Synchronization

/// Token buckets, one per client address: a client starts with `burst` tokens, which come back
/// at `perMinute` a minute up to `burst`. Thread-safe (a `Mutex`). Used by the public routes'
/// request limit and by the trace pages' limit on lookups that miss.
public final class TokenBuckets: Sendable {
    struct Bucket {
        var tokens: Double
        var at: Int64
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    public let burst: Double
    let perMillisecond: Double
    /// Above this many tracked clients, clients whose bucket is full again are forgotten (they
    /// would start full anyway).
    let maxClients: Int

    public init(burst: Int, perMinute: Double, maxClients: Int = 50_000) {
        self.burst = Double(max(burst, 1))
        self.perMillisecond = max(perMinute, 0) / 60_000
        self.maxClients = maxClients
    }

    /// The tokens `client` has at `now` (`burst` for a client not seen yet).
    public func tokens(_ client: String, now: Int64) -> Double {
        buckets.withLock { buckets in buckets[client].map { refill($0, now: now).tokens } ?? burst }
    }

    /// Takes a token from `client`'s bucket if it has one: `nil` when taken, else the
    /// milliseconds until the next token.
    public func take(_ client: String, now: Int64) -> Int64? {
        update(client, now: now) { b in
            if b.tokens >= 1 {
                b.tokens -= 1
                return nil
            }
            guard perMillisecond > 0 else { return 60_000 }
            return Int64(((1 - b.tokens) / perMillisecond).rounded(.up))
        }
    }

    /// Spends a token whether or not the bucket has one (it empties, never goes below zero).
    public func spend(_ client: String, now: Int64) {
        update(client, now: now) { b in b.tokens = max(b.tokens - 1, 0) }
    }

    private func update<T>(_ client: String, now: Int64, _ body: (inout Bucket) -> T) -> T {
        buckets.withLock { buckets in
            var b = buckets[client].map { refill($0, now: now) } ?? Bucket(tokens: burst, at: now)
            let result = body(&b)
            buckets[client] = b
            if buckets.count > maxClients {
                for (key, value) in buckets where refill(value, now: now).tokens >= burst { buckets[key] = nil }
            }
            return result
        }
    }

    private func refill(_ b: Bucket, now: Int64) -> Bucket {
        Bucket(tokens: min(burst, b.tokens + Double(max(now - b.at, 0)) * perMillisecond), at: now)
    }
}
