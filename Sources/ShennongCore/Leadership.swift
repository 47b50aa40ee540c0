/// Which node runs the leader-only work (MQTT ingest, rules, notifiers' escalation, commands,
/// maintenance): the state of one node, driven by what its ``LeaderLease`` answers and by the
/// clock, without I/O.
///
/// A node starts as standby and tries the lease every ``retryInterval``. Once granted (with a
/// fencing epoch) it leads and must confirm the lease every ``heartbeatInterval``; a failed
/// confirmation, or none for ``timeout`` (the node was hung: SIGSTOP, a long GC-like pause,
/// a frozen VM), steps it down. Stepping down is final for the process: the leader-only
/// services stop and the process exits (``LeaderLease`` explains why it does not lead again).
public struct Leadership: Sendable, Hashable {
    /// Where the node stands.
    public enum Role: Sendable, Hashable {
        /// Serving HTTP only; trying the lease.
        case standby
        /// Holding the lease taken at `since` with fencing `epoch`.
        case leading(epoch: Int64, since: Int64)
        /// Lost the lease it held with `epoch`: the leader-only services are stopping.
        case steppingDown(epoch: Int64, reason: String)
    }

    /// What the driver must do after an event.
    public enum Action: Sendable, Hashable {
        case none
        /// Start the leader-only services (the store is fenced at `epoch`).
        case startLeading(epoch: Int64)
        /// Stop them: the lease is gone.
        case stopLeading(reason: String)
    }

    public private(set) var role: Role = .standby
    /// A leader that has not confirmed its lease for this long (ms) has lost it: the database
    /// ends a silent session after this long, and another node may hold the lease by then.
    public let timeout: Int64
    /// How often a leader confirms its lease (ms), well inside ``timeout``.
    public let heartbeatInterval: Int64
    /// How often a standby tries the lease (ms).
    public let retryInterval: Int64
    /// When the lease was last confirmed (or taken), epoch ms.
    public private(set) var lastConfirmed: Int64 = 0
    /// When the lease was last tried (standby) or confirmed (leader).
    public private(set) var lastAttempt: Int64?

    /// - Parameter timeout: the takeover bound's main part (ms, at least 1 s); heartbeats
    ///   every quarter of it, standby retries every second (or the quarter, if shorter).
    public init(timeout: Int64) {
        self.timeout = max(1_000, timeout)
        heartbeatInterval = max(250, self.timeout / 4)
        retryInterval = min(1_000, heartbeatInterval)
    }

    /// Whether the leader-only work may run at `now`: leading, and confirmed within ``timeout``.
    public func isLeading(at now: Int64) -> Bool {
        if case .leading = role { return now - lastConfirmed < timeout }
        return false
    }

    /// The fencing epoch while leading.
    public var epoch: Int64? {
        if case .leading(let epoch, _) = role { return epoch }
        return nil
    }

    /// Whether the lease should be tried (standby) or confirmed (leader) at `now`.
    public func isDue(at now: Int64) -> Bool {
        switch role {
        case .standby: return lastAttempt.map { now - $0 >= retryInterval } ?? true
        case .leading: return now - (lastAttempt ?? lastConfirmed) >= heartbeatInterval
        case .steppingDown: return false
        }
    }

    /// A standby's attempt at `now`: `epoch` when the lease was granted, `nil` when another node holds it.
    public mutating func attempted(granted epoch: Int64?, at now: Int64) -> Action {
        guard case .standby = role else { return .none }
        lastAttempt = now
        guard let epoch else { return .none }
        role = .leading(epoch: epoch, since: now)
        lastConfirmed = now
        return .startLeading(epoch: epoch)
    }

    /// A leader's confirmation started at `startedAt` answered (`confirmed` false: the
    /// session is gone). A confirmation that started after the timeout had passed does not
    /// count: another node may have taken the lease meanwhile.
    public mutating func confirmed(_ confirmed: Bool, startedAt: Int64, at now: Int64) -> Action {
        guard case .leading(let epoch, _) = role else { return .none }
        lastAttempt = now
        if confirmed && startedAt - lastConfirmed < timeout {
            lastConfirmed = startedAt
            return .none
        }
        let reason = confirmed ? "the lease was not confirmed for \(now - lastConfirmed) ms" : "the lease's session is gone"
        role = .steppingDown(epoch: epoch, reason: reason)
        return .stopLeading(reason: reason)
    }

    /// The clock moved to `now`: a leader unconfirmed for ``timeout`` steps down.
    public mutating func tick(at now: Int64) -> Action {
        guard case .leading(let epoch, _) = role, now - lastConfirmed >= timeout else { return .none }
        let reason = "the lease was not confirmed for \(now - lastConfirmed) ms"
        role = .steppingDown(epoch: epoch, reason: reason)
        return .stopLeading(reason: reason)
    }
}
