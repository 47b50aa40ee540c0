import ShennongCore
import Synchronization

/// What pages say about the monitoring data behind them: the last verification of the seal
/// chain, kept and recomputed in the background when new seals appear (or after `maxAge`),
/// so a page view costs at most one small query a second (``pollInterval``), never a
/// recomputation.
public final class SealWatch: Sendable {
    /// The state of the data over a period.
    public enum Coverage: Sendable, Hashable {
        /// Every bucket of the period is sealed and verified: the period from … to (ms, both
        /// ends as the period gives them).
        case verified(from: Int64, to: Int64)
        /// Sealed and verified from `from` through `through` (the last sealed millisecond);
        /// later data is not sealed yet (its bucket still open).
        case partly(from: Int64, through: Int64)
        /// Nothing of the period is sealed yet.
        case unsealed
        /// The last verification found a change.
        case failed(SealProblem)
        /// No verification has finished yet.
        case checking
    }

    let ledger: any SealLedger
    let publicKey: String?
    let maxAge: Int64
    let clock: WallClock
    /// How often (ms) a page view may ask the ledger whether seals were added.
    let pollInterval: Int64
    private let state = Mutex<State>(State())

    private struct State {
        var result: SealVerification?
        var lastSequence: Int64 = -1
        var checkedAt: Int64?
        var polledAt: Int64?
        var running = false
    }

    /// Watches the seals of `ledger`, signed by `publicKey` (hex), verifying again when new
    /// seals appear or `maxAge` ms after the last check.
    public init(
        ledger: any SealLedger, publicKey: String?, maxAge: Int64 = 3_600_000, pollInterval: Int64 = 1_000, clock: WallClock = .system
    ) {
        self.pollInterval = pollInterval
        self.ledger = ledger
        self.publicKey = publicKey
        self.maxAge = maxAge
        self.clock = clock
    }

    /// The last finished verification (`nil`: none yet); starts a new one in the background
    /// when seals were added since or it is older than `maxAge`.
    public func current() -> SealVerification? {
        let now = clock.now()
        let (result, lastSequence, stale, poll) = state.withLock { s in
            let poll = s.polledAt.map { now - $0 >= pollInterval || now < $0 } ?? true
            if poll { s.polledAt = now }
            return (s.result, s.lastSequence, !s.running && s.checkedAt.map { now - $0 >= maxAge } ?? true, poll)
        }
        let newer = poll && ((try? ledger.seals(after: max(0, lastSequence), limit: 1).isEmpty == false) ?? false)
        if stale || newer || lastSequence < 0 {
            let start = state.withLock { s -> Bool in
                guard !s.running else { return false }
                s.running = true
                return true
            }
            if start { Task.detached { self.refresh() } }
        }
        return result
    }

    /// Verifies now (in the caller) and keeps the result.
    @discardableResult
    public func refresh() -> SealVerification? {
        defer { state.withLock { $0.running = false } }
        guard let last = try? Self.lastSequence(ledger),
            let result = try? SealVerifier.verify(ledger: ledger, publicKey: publicKey)
        else { return nil }
        state.withLock { s in
            s.result = result
            s.lastSequence = last
            s.checkedAt = clock.now()
        }
        return result
    }

    static func lastSequence(_ ledger: any SealLedger) throws -> Int64 {
        var last: Int64 = 0
        while let end = try ledger.seals(after: last, limit: 1000).last?.sequence { last = end }
        return last
    }

    /// The state of the data over `[from, to)` by the last verification.
    public func coverage(from: Int64, to: Int64) -> Coverage {
        Self.coverage(current(), from: from, to: to)
    }

    /// The state of `[from, to)` by `result`.
    public static func coverage(_ result: SealVerification?, from: Int64, to: Int64) -> Coverage {
        guard let result else { return .checking }
        if let problem = result.problem { return .failed(problem) }
        guard let first = result.firstBucket, let last = result.lastUntil, last > from else { return .unsealed }
        let begin = max(first, from)
        return last >= to ? .verified(from: begin, to: to) : .partly(from: begin, through: last - 1)
    }
}
