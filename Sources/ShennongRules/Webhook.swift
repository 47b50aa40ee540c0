import Crypto
import Foundation
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A webhook receiver of alert JSON.
public struct WebhookTarget: Sendable, Hashable {
    public var url: String
    /// HMAC-SHA256 key of the signature header; `nil`: unsigned.
    public var secret: String?
    /// Further attempts after the first.
    public var retries: Int
    /// Delay before the first retry (ms); it doubles each time, up to a minute.
    public var backoff: Int64
    /// Per-attempt timeout (ms).
    public var timeout: Int64

    public init(url: String, secret: String? = nil, retries: Int = 5, backoff: Int64 = 1000, timeout: Int64 = 10_000) {
        self.url = url
        self.secret = secret
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
    }
}

/// Signs and POSTs alert JSON to webhooks, retrying with exponential back-off.
///
/// Headers: `Content-Type: application/json`, `X-Shennong-Event: alert.{event}`,
/// `X-Shennong-Delivery: {alert}-{transition}` (the same on every retry, so a receiver can
/// drop duplicates) and, with a secret, `X-Shennong-Signature: sha256={hex HMAC-SHA256 of the body}`.
public enum Webhook {
    public static let signatureHeader = "X-Shennong-Signature"

    /// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
    public static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Delays (ms) before each retry of `target`.
    public static func delays(for target: WebhookTarget) -> [Int64] {
        (0..<max(0, target.retries)).map { k in min(60_000, target.backoff << min(k, 16)) }
    }

    /// POSTs `body` until a 2xx answer or the retries are spent; returns whether it was delivered.
    /// Never throws; cancellation stops the retries.
    public static func deliver(
        _ body: [UInt8], event: String, delivery: String, to target: WebhookTarget, logger: Logger
    ) async -> Bool {
        guard let url = URL(string: target.url), url.scheme == "http" || url.scheme == "https" else {
            logger.error("webhook url is not http(s); not delivering", metadata: ["url": "\(target.url)"])
            return false
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = Double(max(1000, target.timeout)) / 1000
        request.httpBody = Data(body)
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.setValue("alert.\(event)", forHTTPHeaderField: "X-Shennong-Event")
        request.setValue(delivery, forHTTPHeaderField: "X-Shennong-Delivery")
        if let secret = target.secret, !secret.isEmpty {
            request.setValue(signature(body: body, secret: secret), forHTTPHeaderField: signatureHeader)
        }
        let delays = Self.delays(for: target)
        for attempt in 0...delays.count {
            if Task.isCancelled { return false }
            var problem: String
            do {
                let (_, response) = try await Webhook.send(request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if (200..<300).contains(status) { return true }
                problem = "HTTP \(status)"
            } catch {
                problem = error.localizedDescription
            }
            guard attempt < delays.count else {
                logger.error(
                    "webhook delivery failed; giving up",
                    metadata: ["url": "\(target.url)", "delivery": "\(delivery)", "attempts": "\(attempt + 1)", "error": "\(problem)"])
                return false
            }
            logger.warning(
                "webhook delivery failed; retrying",
                metadata: ["url": "\(target.url)", "delivery": "\(delivery)", "in_ms": "\(delays[attempt])", "error": "\(problem)"])
            try? await Task.sleep(for: .milliseconds(delays[attempt]))
        }
        return false
    }
}

extension Webhook {
    /// Sends `request` with the shared URLSession, shielded from the caller's cancellation: on
    /// Linux, cancelling URLSession's async `data(for:)` mid-request can trap inside
    /// FoundationNetworking ("a task that is not in the registry"), so the request runs in a
    /// detached task that ends by itself within the request's timeout.
    public static func send(_ request: URLRequest) async throws -> (Data, URLResponse) {
        try await Task.detached { try await URLSession.shared.data(for: request) }.value
    }
}
