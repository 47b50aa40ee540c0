import Foundation
import ShennongAlerts
import ShennongCore
import Synchronization

/// The rules in force, shared by the evaluator, the API and the notifiers; replaced on SIGHUP.
public final class RuleCatalog: Sendable {
    private let state: Mutex<State>
    private let clock: WallClock

    private struct State {
        var rules: [Rule]
        var errors: [RuleFileError]
        var loadedAt: Int64
        /// Places in `rules` by id (the first of an id, as a search from the start finds it):
        /// the notifier and the API look a rule up for every alert they show or send.
        var byID: [String: Int]

        init(rules: [Rule], errors: [RuleFileError], loadedAt: Int64) {
            self.rules = rules
            self.errors = errors
            self.loadedAt = loadedAt
            byID = [:]
            for (index, rule) in rules.enumerated() where byID[rule.id] == nil { byID[rule.id] = index }
        }
    }

    public init(rules: [Rule], errors: [RuleFileError] = [], clock: WallClock = .system) {
        self.clock = clock
        state = Mutex(State(rules: rules, errors: errors, loadedAt: clock.now()))
    }

    public var rules: [Rule] { state.withLock { $0.rules } }
    /// Problems found at the last load (those rules are left out).
    public var errors: [RuleFileError] { state.withLock { $0.errors } }
    public var loadedAt: Int64 { state.withLock { $0.loadedAt } }

    public func rule(id: String) -> Rule? {
        state.withLock { state in state.byID[id].map { state.rules[$0] } }
    }

    public func replace(rules: [Rule], errors: [RuleFileError]) {
        let now = clock.now()
        let loaded = State(rules: rules, errors: errors, loadedAt: now)
        state.withLock { $0 = loaded }
    }
}
