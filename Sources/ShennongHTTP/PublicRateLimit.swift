import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ShennongCore
import Synchronization

/// Per-client request limits of the public routes: a token bucket per client address.
///
/// Each address starts with `burst` tokens; a request takes one; tokens come back at
/// `perMinute` a minute up to `burst`. `perMinute` 0 turns the limit off.
public struct PublicRateLimit: Sendable, Hashable {
    /// Requests a client may make at once.
    public var burst: Int
    /// Sustained requests per minute per client; 0 = no limit.
    public var perMinute: Double
    /// Path prefixes under the limit (GET and HEAD only; staff writes carry tokens).
    public var prefixes: [String]

    /// The public routes: consumer pages, their JSON, GS1 Digital Link and `/.well-known/`.
    /// `/healthz` and `/metrics` are not limited (monitoring polls them).
    public static let publicPrefixes = ["/t/", "/api/v1/trace/", "/01/", "/.well-known/"]

    public init(burst: Int = 120, perMinute: Double = 120, prefixes: [String] = PublicRateLimit.publicPrefixes) {
        self.burst = burst
        self.perMinute = perMinute
        self.prefixes = prefixes
    }

    public var isEnabled: Bool { perMinute > 0 && burst > 0 }
}

/// Which refusals of the public limit get logged: the first of each client in a minute.
final class RefusalLog: Sendable {
    private let lastRefused = Mutex<[String: Int64]>([:])

    /// True for the first refusal of `client` in a minute.
    func isFirstRefusal(_ client: String, now: Int64) -> Bool {
        lastRefused.withLock { seen in
            if let at = seen[client], now - at < 60_000 { return false }
            seen[client] = now
            if seen.count > 10_000 { seen = seen.filter { now - $0.value < 60_000 } }
            return true
        }
    }
}

/// Answers 429 with `Retry-After` to a client over its public-route limit: a short zh-CN HTML
/// page on consumer pages (`/t/`, `/01/`), the JSON error elsewhere. Counted in
/// `shennong_http_rate_limited_total`; the first refusal of an address in a minute is logged
/// (the address only: no query, no header).
struct PublicRateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let limit: PublicRateLimit
    let buckets: TokenBuckets
    let refusals = RefusalLog()
    let logger: Logger
    let refused = Counter(label: "shennong_http_rate_limited_total")
    let clock: WallClock

    init(limit: PublicRateLimit, logger: Logger, clock: WallClock = .system) {
        self.limit = limit
        self.buckets = TokenBuckets(burst: limit.burst, perMinute: limit.perMinute)
        self.logger = logger
        self.clock = clock
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard limit.isEnabled, request.method == .get || request.method == .head else {
            return try await next(request, context)
        }
        let path = request.uri.path
        guard limit.prefixes.contains(where: { path.hasPrefix($0) }) else { return try await next(request, context) }
        let client = Self.clientKey(context.remoteAddress)
        let now = clock.now()
        guard let wait = buckets.take(client, now: now) else { return try await next(request, context) }
        refused.increment()
        if refusals.isFirstRefusal(client, now: now) {
            logger.notice("public rate limit reached; answering 429", metadata: ["client": "\(client)"])
        }
        let retryAfter = max(1, (wait + 999) / 1000)
        var response: Response
        if path.hasPrefix("/t/") || path.hasPrefix("/01/") {
            let html = """
                <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">\
                <meta name="viewport" content="width=device-width, initial-scale=1"><title>查询过于频繁</title></head>\
                <body><h1>查询过于频繁</h1><p>您的查询次数过多，请在 \(retryAfter) 秒后再试。</p>\
                <p lang="en">Too many requests: please try again in \(retryAfter) s.</p></body></html>
                """
            response = Response(
                status: .tooManyRequests, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: html)))
        } else {
            response = try APIError(.tooManyRequests, "请求过于频繁，请 \(retryAfter) 秒后再试 / too many requests, retry in \(retryAfter) s")
                .response(from: request, context: context)
        }
        response.headers[.retryAfter] = "\(retryAfter)"
        return response
    }

    /// The client's address without its port (each connection has its own port).
    static func clientKey(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        return address.ipAddress ?? "\(address)"
    }
}
