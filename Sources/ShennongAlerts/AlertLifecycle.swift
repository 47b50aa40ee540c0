import Foundation

/// What a person may do to an alert.
public enum PersonAction: String, Sendable, Hashable, CaseIterable {
    /// I have seen it and am handling it: an open alert only.
    case acknowledge
    /// It is handled: an open or acknowledged alert.
    case resolve
    /// The loop is closed, with a note saying what was done: a resolved alert only.
    case close

    /// The transition the action records.
    public var kind: AlertTransitionKind {
        switch self {
        case .acknowledge: .acknowledged
        case .resolve: .resolved
        case .close: .closed
        }
    }

    /// The statuses an alert must have for the action.
    public var allowed: Set<AlertStatus> {
        switch self {
        case .acknowledge: [.open]
        case .resolve: [.open, .acknowledged]
        case .close: [.resolved]
        }
    }

    /// Whether the action needs a note (closing does).
    public var needsNote: Bool { self == .close }
}

/// What the lifecycle decided for one alert: the alert after the change and the transition
/// to record, both for the store to write in one transaction.
public struct AlertDecision: Sendable, Hashable {
    /// The alert after the change; a new alert (``isNew``) has id 0 until the store writes it.
    public var alert: AlertRecord
    /// A raise: the store inserts the alert (and assigns its id) instead of updating it.
    public var isNew: Bool
    /// The transition to record; its id (and a new alert's id) are the store's to assign.
    public var transition: AlertTransition

    public init(alert: AlertRecord, isNew: Bool, transition: AlertTransition) {
        self.alert = alert
        self.isNew = isNew
        self.transition = transition
    }
}

/// The closed loop of an alert (闭环) as pure decisions, apart from storage: the store reads
/// the alert, asks the lifecycle, and writes what it decided.
///
/// - An evaluation's level change (``apply(_:to:now:)``): a rise from no level raises an alert
///   (or moves the live one); a rise or fall between levels escalates or steps down the live
///   alert (a rise re-opens an acknowledged alert, starts the contact tiers over and restarts
///   the escalation timer: the higher level needs acknowledging again); a fall to no level
///   resolves it (`by: system`, with the "自动解除" note). With no live alert (a person resolved
///   it), a fall changes nothing and a rise raises a new alert.
/// - A person's action (``act(_:on:id:by:note:now:)``): acknowledge an open alert, resolve an
///   open or acknowledged one, close a resolved one with a note; anything else is refused.
/// - Contact escalation (``escalateContacts(_:to:note:now:)``): an open alert goes up one tier
///   of contacts at a time.
public enum AlertLifecycle {
    /// Who automatic transitions are recorded by.
    public static let system = "system"
    /// The note of a resolve by the system.
    public static let clearedNote = "condition cleared for the clear delay (自动解除)"

    /// What `change` does to the live (open or acknowledged) alert of its (rule, device), or
    /// `nil` when it changes nothing. `now` is the wall clock (ms): when the transition is
    /// recorded and, for a raise or a rise, when the first tier of contacts is notified.
    public static func apply(_ change: AlertLevelChange, to live: AlertRecord?, now: Int64) -> AlertDecision? {
        guard let to = change.to else {
            guard var alert = live else { return nil }
            alert.status = .resolved
            alert.resolvedBy = system
            alert.resolvedAt = change.at
            alert.updatedAt = change.at
            return AlertDecision(
                alert: alert, isNew: false,
                transition: transition(
                    alert, .resolved, from: .level(alert.level), to: TransitionLevel.none, value: change.value,
                    at: change.at, now: now, by: system, note: clearedNote, late: change.late))
        }
        guard var alert = live else {
            // Nothing live: raise, unless the level did not rise (a step down of an alert a person resolved).
            if let from = change.from, to <= from { return nil }
            let alert = AlertRecord(
                id: 0, rule: change.rule, device: change.device, domain: change.domain, metric: change.metric, level: to,
                peakLevel: to, status: .open, value: change.value, threshold: change.threshold, raisedAt: change.at,
                updatedAt: change.at, late: change.late, title: change.title, message: change.message, contactTier: 0,
                notifiedAt: now)
            return AlertDecision(
                alert: alert, isNew: true,
                transition: transition(
                    alert, .raised, from: nil, to: .level(to), value: change.value, at: change.at, now: now, by: system,
                    note: nil, late: change.late))
        }
        guard to != alert.level else { return nil }
        let from = alert.level
        let rising = to > from
        alert.level = to
        alert.peakLevel = max(alert.peakLevel, to)
        alert.value = change.value
        alert.threshold = change.threshold
        alert.updatedAt = change.at
        alert.title = change.title
        alert.message = change.message
        if rising {
            alert.status = .open
            alert.contactTier = 0
            alert.notifiedAt = now
        }
        return AlertDecision(
            alert: alert, isNew: false,
            transition: transition(
                alert, rising ? .escalated : .steppedDown, from: .level(from), to: .level(to), value: change.value,
                at: change.at, now: now, by: system, note: nil, late: change.late))
    }

    /// A person's `action` on alert `id` (`alert`: as stored, `nil` if there is none), by `by`
    /// at `now`. A blank note counts as none.
    ///
    /// Refuses, in this order: `note_required` when closing without a note, `not_found`
    /// without an alert, `conflict` when the alert's status does not allow the action.
    public static func act(
        _ action: PersonAction, on alert: AlertRecord?, id: Int64, by: String, note: String?, now: Int64
    ) throws(AlertRefusal) -> AlertDecision {
        let note = note.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        if action.needsNote && note == nil {
            throw AlertRefusal(.noteRequired, "closing an alert needs a note (what was done)")
        }
        guard var alert else { throw AlertRefusal(.notFound, "no alert \(id)") }
        guard action.allowed.contains(alert.status) else {
            let need = action.allowed.map(\.rawValue).sorted().joined(separator: " or ")
            throw AlertRefusal(
                .conflict,
                "alert \(id) is \(alert.status.rawValue); only an alert that is \(need) can be \(action.kind.rawValue)")
        }
        switch action {
        case .acknowledge:
            alert.status = .acknowledged
            alert.acknowledgedBy = by
            alert.acknowledgedAt = now
        case .resolve:
            alert.status = .resolved
            alert.resolvedBy = by
            alert.resolvedAt = now
        case .close:
            alert.status = .closed
            alert.closedBy = by
            alert.closedAt = now
        }
        return AlertDecision(
            alert: alert, isNew: false,
            transition: transition(
                alert, action.kind, from: .level(alert.level), to: .level(alert.level), value: nil, at: now, now: now,
                by: by, note: note, late: false))
    }

    /// Alert `alert` escalated to contact tier `tier` at `now`, or `nil` unless it is still
    /// open at the tier below (someone acknowledged it meanwhile, or another check escalated it).
    public static func escalateContacts(_ alert: AlertRecord, to tier: Int, note: String, now: Int64) -> AlertDecision? {
        guard alert.status == .open, alert.contactTier == tier - 1 else { return nil }
        var alert = alert
        alert.contactTier = tier
        alert.notifiedAt = now
        return AlertDecision(
            alert: alert, isNew: false,
            transition: transition(
                alert, .contactsEscalated, from: .level(alert.level), to: .level(alert.level), value: nil, at: now,
                now: now, by: system, note: note, late: false))
    }

    private static func transition(
        _ alert: AlertRecord, _ kind: AlertTransitionKind, from: TransitionLevel?, to: TransitionLevel?, value: Double?,
        at: Int64, now: Int64, by: String, note: String?, late: Bool
    ) -> AlertTransition {
        AlertTransition(
            id: 0, alertID: alert.id, kind: kind, fromLevel: from, toLevel: to, status: alert.status, value: value, at: at,
            recordedAt: now, by: by, note: note, late: late)
    }
}
