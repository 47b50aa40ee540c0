import ShennongAlerts
import ShennongCore

/// A person to tell about alerts: a village grid officer, a town's duty officer.
public struct Contact: Sendable, Hashable {
    public var name: String
    public var phone: String?
    /// Where this contact's notifications are POSTed (an SMS or messaging gateway).
    public var webhook: String?
    public var secret: String?

    public init(name: String, phone: String? = nil, webhook: String? = nil, secret: String? = nil) {
        self.name = name
        self.phone = phone
        self.webhook = webhook
        self.secret = secret
    }
}

/// One tier of contacts: village (村), town (镇), county (县).
public struct ContactTier: Sendable, Hashable {
    public var name: String
    public var contacts: [Contact]

    public init(name: String, contacts: [Contact] = []) {
        self.name = name
        self.contacts = contacts
    }
}

/// Who hears of an alert, tier by tier: the first tier when it is raised or escalated; an
/// open alert of at least ``minLevel`` nobody acknowledged within ``escalateAfter`` goes up
/// to the next tier (``AlertLifecycle/escalateContacts(_:to:note:now:)``), and that tier is told.
public struct ContactEscalation: Sendable, Hashable {
    /// How long (ms) a tier has to acknowledge before the next is told.
    public var escalateAfter: Int64
    /// The lowest level that escalates.
    public var minLevel: AlertLevel
    /// First tier first.
    public var tiers: [ContactTier]

    public init(escalateAfter: Int64 = 30 * 60_000, minLevel: AlertLevel = .orange, tiers: [ContactTier] = []) {
        self.escalateAfter = escalateAfter
        self.minLevel = minLevel
        self.tiers = tiers
    }

    /// Whether alerts can go up a tier (there is a tier above the first).
    public var escalates: Bool { tiers.count > 1 }

    /// The highest tier index.
    public var topTier: Int { tiers.count - 1 }

    /// The tier an alert at tier `current` goes up to, and the note of that transition;
    /// `nil` at the top tier.
    public func next(after current: Int) -> (tier: Int, note: String)? {
        let index = current + 1
        guard index >= 1, index < tiers.count else { return nil }
        let tier = tiers[index]
        let names = tier.contacts.map(\.name).joined(separator: "、")
        let note = "unacknowledged for \(DurationText.format(escalateAfter)): escalated to \(tier.name)"
            + (names.isEmpty ? "" : " (\(names))")
        return (index, note)
    }

    /// The tier whose contacts hear of `notice`: the first when an alert is raised or
    /// escalated, the tier it moved to when it was escalated to contacts; `nil` otherwise.
    public func tierToTell(_ notice: AlertNotice) -> Int? {
        switch notice.transition.kind {
        case .raised, .escalated:
            return tiers.isEmpty ? nil : 0
        case .contactsEscalated:
            let tier = notice.alert.contactTier
            return tier >= 0 && tier < tiers.count ? tier : nil
        default:
            return nil
        }
    }
}
