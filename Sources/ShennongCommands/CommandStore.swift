import ShennongCore

/// Filters of ``CommandStore/commands(_:)``.
public struct CommandQuery: Sendable, Hashable {
    public var device: String?
    public var states: [CommandState]?
    /// Commands of this rule's automation only.
    public var rule: String?
    /// Commands caused by this alert only.
    public var alert: Int64?
    /// `true`: rules' commands only; `false`: people's only; `nil`: both.
    public var automatic: Bool?
    /// Issued at or after this (ms).
    public var issuedSince: Int64?
    public var limit: Int

    public init(
        device: String? = nil, states: [CommandState]? = nil, rule: String? = nil, alert: Int64? = nil,
        automatic: Bool? = nil, issuedSince: Int64? = nil, limit: Int = 1000
    ) {
        self.device = device
        self.states = states
        self.rule = rule
        self.alert = alert
        self.automatic = automatic
        self.issuedSince = issuedSince
        self.limit = limit
    }

    /// Commands something may still happen to: queued, sending, sent, acknowledged.
    public static let unfinishedStates: [CommandState] = [.queued, .sending, .sent, .acknowledged]
}

/// The door to command persistence. An engine persists what ``CommandLifecycle`` decides: it
/// writes an issued command with its first transition, and for an event reads the command,
/// asks the lifecycle and writes the decision with its transition in one transaction; it
/// decides nothing itself. Five calls, values only: a second engine implements them with a
/// row lock (`SELECT … FOR UPDATE`) around ``applyCommandEvent(id:event:by:now:)``.
///
/// Errors are ``StoreError``s: `not_found` and `conflict` for the lifecycle's refusals
/// (``CommandRefusal``), `conflict` for an id already used, others for the engine's own failures.
public protocol CommandStore: Sendable {
    /// Writes a command ``CommandLifecycle/issue(_:device:spec:id:now:)`` decided (state
    /// `queued`) and its transition.
    func insertCommand(_ decision: CommandDecision) throws -> CommandDecision
    /// Applies `event` to command `id` as ``CommandLifecycle/apply(_:to:by:now:)`` decides, in one
    /// transaction; returns the decision written, or `nil` when the event changed nothing.
    func applyCommandEvent(id: String, event: CommandEvent, by: String, now: Int64) throws -> CommandDecision?
    /// The command with `id`, or `nil`.
    func command(id: String) throws -> CommandRecord?
    /// Commands matching `query`, newest first (by issue time, then id).
    func commands(_ query: CommandQuery) throws -> [CommandRecord]
    /// Every transition of command `id`, oldest first.
    func commandTransitions(id: String) throws -> [CommandTransition]
}

extension CommandLifecycle {
    /// ``apply(_:to:by:now:)`` as an engine runs it on the stored command `id` (`nil` when
    /// there is none): a missing command is `not_found`, a refusal the store's error.
    public static func apply(
        _ event: CommandEvent, toStored command: CommandRecord?, id: String, by: String, now: Int64
    ) throws(StoreError) -> CommandDecision? {
        guard let command else { throw StoreError(.notFound, "命令不存在 no command \(id)") }
        do {
            return try apply(event, to: command, by: by, now: now)
        } catch {
            throw StoreError(error)
        }
    }
}

extension StoreError {
    /// The store's error for a refusal of the command lifecycle (same code where the store has
    /// it; `unknown_device`, `unknown_command` and `invalid_argument` become `invalid_argument`
    /// with the lifecycle's message).
    public init(_ refusal: CommandRefusal) {
        switch refusal.code {
        case .notFound: self.init(.notFound, refusal.message)
        case .conflict: self.init(.conflict, refusal.message)
        case .unknownDevice, .unknownCommand, .invalidArgument: self.init(.invalidArgument, refusal.message)
        }
    }
}
