import Foundation
import ShennongAlerts
import ShennongCore
import Synchronization

/// The rules in force, shared by the evaluator, the API and the notifiers; replaced on SIGHUP.
public final class RuleCatalog: Sendable {
    private let state: Mutex<(rules: [Rule], errors: [RuleFileError], loadedAt: Int64)>
    private let clock: WallClock

    public init(rules: [Rule], errors: [RuleFileError] = [], clock: WallClock = .system) {
        self.clock = clock
        state = Mutex((rules, errors, clock.now()))
    }

    public var rules: [Rule] { state.withLock { $0.rules } }
    /// Problems found at the last load (those rules are left out).
    public var errors: [RuleFileError] { state.withLock { $0.errors } }
    public var loadedAt: Int64 { state.withLock { $0.loadedAt } }

    public func rule(id: String) -> Rule? { state.withLock { $0.rules.first { $0.id == id } } }

    public func replace(rules: [Rule], errors: [RuleFileError]) {
        let now = clock.now()
        state.withLock { $0 = (rules, errors, now) }
    }
}
