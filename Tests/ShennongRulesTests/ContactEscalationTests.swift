import Foundation
import Logging
import ShennongAlerts
import Testing

@testable import ShennongRules

/// Who hears of an alert: contact tiers and the webhooks behind them.
struct ContactEscalationTests {
    static let policy = ContactEscalation(
        escalateAfter: 30 * 60_000, minLevel: .orange,
        tiers: [
            ContactTier(name: "village", contacts: [Contact(name: "村网格员", webhook: "https://sms.example/v")]),
            ContactTier(name: "town", contacts: [Contact(name: "张三"), Contact(name: "李四", webhook: "https://sms.example/t")]),
            ContactTier(name: "county", contacts: []),
        ])

    static func notice(_ kind: AlertTransitionKind, tier: Int = 0) -> AlertNotice {
        let alert = AlertRecord(
            id: 1, rule: "r", device: "d", domain: "flood", metric: nil, level: .red, peakLevel: .red, status: .open,
            value: nil, threshold: nil, raisedAt: 0, updatedAt: 0, late: false, title: "t", message: "m", contactTier: tier,
            notifiedAt: 0)
        let t = AlertTransition(
            id: 2, alertID: 1, kind: kind, fromLevel: nil, toLevel: .level(.red), status: .open, value: nil, at: 0,
            recordedAt: 0, by: "system", note: nil, late: false)
        return AlertNotice(alert: alert, transition: t)
    }

    @Test("the first tier hears of raises and escalations, a tier of its own escalation, nobody of the rest")
    func tierToTell() {
        let p = Self.policy
        #expect(p.tierToTell(Self.notice(.raised)) == 0)
        #expect(p.tierToTell(Self.notice(.escalated, tier: 1)) == 0)
        #expect(p.tierToTell(Self.notice(.contactsEscalated, tier: 2)) == 2)
        #expect(p.tierToTell(Self.notice(.contactsEscalated, tier: 3)) == nil)
        for kind in [AlertTransitionKind.steppedDown, .acknowledged, .resolved, .closed] {
            #expect(p.tierToTell(Self.notice(kind)) == nil, "\(kind)")
        }
        #expect(ContactEscalation().tierToTell(Self.notice(.raised)) == nil)
    }

    @Test("the next tier and its note name the wait, the tier and its contacts; none above the top")
    func next() {
        let p = Self.policy
        #expect(p.escalates && p.topTier == 2)
        #expect(p.next(after: 0)?.tier == 1)
        #expect(p.next(after: 0)?.note == "unacknowledged for 30m: escalated to town (张三、李四)")
        #expect(p.next(after: 1)?.note == "unacknowledged for 30m: escalated to county")
        #expect(p.next(after: 2) == nil)
        #expect(!ContactEscalation(tiers: [ContactTier(name: "only")]).escalates)
    }

    @Test("webhooks hear of everything, a contact's gateway only of its tier; one notifier per receiver")
    func webhookAudiences() {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let hook = WebhookTarget(url: "https://hook.example/a", secret: "s")
        let notifiers = WebhookNotifier.all(webhooks: [hook, hook], escalation: Self.policy, logger: logger)
        #expect(notifiers.map(\.target.url) == ["https://hook.example/a", "https://sms.example/v", "https://sms.example/t"])
        let (every, village, town) = (notifiers[0], notifiers[1], notifiers[2])
        #expect(every.wants(Self.notice(.acknowledged)) && every.wants(Self.notice(.raised)))
        #expect(village.wants(Self.notice(.raised)) && !village.wants(Self.notice(.contactsEscalated, tier: 1)))
        #expect(town.wants(Self.notice(.contactsEscalated, tier: 1)) && !town.wants(Self.notice(.raised)))
        #expect(!town.wants(Self.notice(.resolved)))
    }
}
