import Crypto
import Foundation
import Logging
import Metrics
import ShennongAlerts

/// POSTs alert transitions to one webhook (``Webhook/deliver(_:event:delivery:to:logger:)``:
/// signed, retried with back-off), every transition or only those of some contact tiers.
public struct WebhookNotifier: Notifier {
    /// Which transitions a webhook hears of.
    public enum Audience: Sendable, Hashable {
        /// Every transition (the `rules.webhooks` list).
        case every
        /// Those whose contacts tier (``ContactEscalation/tierToTell(_:)``) is one of these.
        case tiers(Set<Int>, ContactEscalation)
    }

    public let target: WebhookTarget
    public let audience: Audience
    let logger: Logger
    private let delivered = Counter(label: "shennong_alert_webhooks_delivered_total")
    private let failed = Counter(label: "shennong_alert_webhooks_failed_total")

    public init(target: WebhookTarget, audience: Audience = .every, logger: Logger) {
        self.target = target
        self.audience = audience
        self.logger = logger
    }

    /// One notifier per receiver: each of `webhooks` hears of every transition, each contact
    /// of `escalation` with a webhook of its tier's. A receiver named twice is one notifier
    /// (one queue, each message once).
    public static func all(webhooks: [WebhookTarget], escalation: ContactEscalation, logger: Logger) -> [WebhookNotifier] {
        var order: [WebhookTarget] = []
        var every: Set<WebhookTarget> = []
        var tiers: [WebhookTarget: Set<Int>] = [:]
        for target in webhooks where every.insert(target).inserted {
            if tiers[target] == nil { order.append(target) }
        }
        for (index, tier) in escalation.tiers.enumerated() {
            for contact in tier.contacts {
                guard let url = contact.webhook else { continue }
                let target = WebhookTarget(url: url, secret: contact.secret)
                if !every.contains(target) && tiers[target] == nil { order.append(target) }
                tiers[target, default: []].insert(index)
            }
        }
        return order.map { target in
            WebhookNotifier(
                target: target, audience: every.contains(target) ? .every : .tiers(tiers[target] ?? [], escalation),
                logger: logger)
        }
    }

    /// `webhook:{host}:{first 12 hex of SHA-256 of the URL}`: stable, and without the URL's
    /// path or query (which may hold a token) in the database or the metrics.
    public var name: String {
        let host = URL(string: target.url)?.host ?? "invalid"
        let digest = SHA256.hash(data: Array(target.url.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        return "webhook:\(host):\(digest)"
    }

    public func wants(_ notice: AlertNotice) -> Bool {
        switch audience {
        case .every: true
        case .tiers(let tiers, let escalation): escalation.tierToTell(notice).map(tiers.contains) ?? false
        }
    }

    public func run(_ messages: AsyncStream<AlertMessage>, settled: @escaping @Sendable (AlertMessage) -> Void) async throws {
        for await message in messages {
            if await Webhook.deliver(message.body, event: message.event, delivery: message.delivery, to: target, logger: logger) {
                delivered.increment()
            } else if Task.isCancelled {
                // Stopped mid-delivery (shutdown): not settled, sent again after the restart.
                return
            } else {
                failed.increment()
            }
            settled(message)
        }
    }
}
