import ShennongCore

/// Stored readings of one series in `[from, to)`, for rebuilding an evaluator's windows.
public struct HistoryRequest: Sendable, Hashable {
    public var device: String
    public var metric: String
    public var from: Int64
    public var to: Int64

    public init(device: String, metric: String, from: Int64, to: Int64) {
        self.device = device
        self.metric = metric
        self.from = from
        self.to = to
    }
}

/// Filters of ``AlertStore/alerts(_:)``.
public struct AlertQuery: Sendable, Hashable {
    public var statuses: [AlertStatus]?
    public var level: AlertLevel?
    public var domain: String?
    public var device: String?
    public var rule: String?
    public var limit = 1000

    public init(
        statuses: [AlertStatus]? = nil, level: AlertLevel? = nil, domain: String? = nil, device: String? = nil,
        rule: String? = nil, limit: Int = 1000
    ) {
        self.statuses = statuses
        self.level = level
        self.domain = domain
        self.device = device
        self.rule = rule
        self.limit = limit
    }
}

/// The door to alert persistence: what the rules, the notifiers, the alerts routes and the
/// dashboard need. An engine persists what ``AlertLifecycle`` decides: each write reads the
/// alert, asks the lifecycle and writes its decision in one transaction; it decides nothing
/// itself.
///
/// Errors are ``StoreError``s: `not_found`, `conflict` and `invalid_argument` for the refusals
/// of ``AlertLifecycle`` (``AlertRefusal``), others for the engine's own failures.
public protocol AlertStore: Sendable {
    // MARK: Rules

    /// Every persisted rule state (read once when the evaluator starts).
    func ruleStates() throws -> [RuleStateRecord]
    /// Stored readings for each request, ascending by time (one read for all).
    func history(_ requests: [HistoryRequest]) throws -> [[Reading]]
    /// Writes the changed rule states and applies each level change to the live alert of its
    /// (rule, device) as ``AlertLifecycle/apply(_:to:now:)`` decides, all in one transaction;
    /// returns the alerts after each transition (for the notifiers). `now`: the wall clock (ms),
    /// `nil` for the engine's.
    func applyRuleEvaluation(states: [RuleStateRecord], changes: [AlertLevelChange], now: Int64?) throws -> [AlertNotice]

    // MARK: People

    /// A person's `action` on alert `id` as ``AlertLifecycle/act(_:on:id:by:note:now:)``
    /// decides. Throws `not_found`, `conflict`, or `invalid_argument` for a close without a note.
    func act(_ action: PersonAction, id: Int64, by: String, note: String?, now: Int64?) throws -> AlertNotice

    // MARK: Escalation to contacts

    /// Open (unacknowledged) alerts of at least `minLevel` whose current contact tier was
    /// notified before `notifiedBefore` and that have a tier above theirs (`tier < maxTier`), by id.
    func alertsAwaitingAcknowledgement(minLevel: AlertLevel, notifiedBefore: Int64, maxTier: Int) throws -> [AlertRecord]
    /// Records that alert `id` was escalated to contact tier `tier`, as
    /// ``AlertLifecycle/escalateContacts(_:to:note:now:)`` decides; `nil` when it no longer
    /// applies (someone acknowledged it meanwhile).
    func recordContactEscalation(id: Int64, tier: Int, note: String, now: Int64?) throws -> AlertNotice?

    // MARK: Listings

    /// Alerts matching `query`, newest first.
    func alerts(_ query: AlertQuery) throws -> [AlertRecord]
    /// Live alerts (open or acknowledged) counted by level; levels with none are absent.
    func liveAlertCounts() throws -> [AlertLevel: Int]
    /// The alert with `id`, or `nil`.
    func alert(id: Int64) throws -> AlertRecord?
    /// Every transition of alert `id`, oldest first.
    func alertTransitions(id: Int64) throws -> [AlertTransition]
}

extension AlertStore {
    /// ``applyRuleEvaluation(states:changes:now:)`` at the engine's clock.
    public func applyRuleEvaluation(states: [RuleStateRecord], changes: [AlertLevelChange]) throws -> [AlertNotice] {
        try applyRuleEvaluation(states: states, changes: changes, now: nil)
    }

    /// Marks a live alert acknowledged by `by`. Throws `not_found`, or `conflict` unless it is open.
    public func acknowledgeAlert(id: Int64, by: String, note: String?, now: Int64? = nil) throws -> AlertNotice {
        try act(.acknowledge, id: id, by: by, note: note, now: now)
    }

    /// Marks a live alert resolved (handled) by `by`. Throws `not_found`, or `conflict` unless it is open or acknowledged.
    public func resolveAlert(id: Int64, by: String, note: String?, now: Int64? = nil) throws -> AlertNotice {
        try act(.resolve, id: id, by: by, note: note, now: now)
    }

    /// Closes a resolved alert with a note (required). Throws `invalid_argument` for an empty
    /// note, `not_found`, or `conflict` unless it is resolved.
    public func closeAlert(id: Int64, by: String, note: String, now: Int64? = nil) throws -> AlertNotice {
        try act(.close, id: id, by: by, note: note, now: now)
    }

    /// ``recordContactEscalation(id:tier:note:now:)`` at the engine's clock.
    public func recordContactEscalation(id: Int64, tier: Int, note: String) throws -> AlertNotice? {
        try recordContactEscalation(id: id, tier: tier, note: note, now: nil)
    }

    /// Every alert, newest first (at most 1,000).
    public func alerts() throws -> [AlertRecord] {
        try alerts(AlertQuery())
    }
}

extension AlertLifecycle {
    /// ``act(_:on:id:by:note:now:)`` as an engine runs it on the stored alert: a refusal is
    /// the store's error.
    public static func act(
        _ action: PersonAction, onStored alert: AlertRecord?, id: Int64, by: String, note: String?, now: Int64
    ) throws(StoreError) -> AlertDecision {
        do {
            return try act(action, on: alert, id: id, by: by, note: note, now: now)
        } catch {
            throw StoreError(error)
        }
    }
}

extension StoreError {
    /// The store's error for a refusal of the lifecycle: `not_found`, `conflict`, or
    /// `invalid_argument` for a missing note; the message is the lifecycle's.
    public init(_ refusal: AlertRefusal) {
        switch refusal.code {
        case .notFound: self.init(.notFound, refusal.message)
        case .conflict: self.init(.conflict, refusal.message)
        case .noteRequired: self.init(.invalidArgument, refusal.message)
        }
    }
}
