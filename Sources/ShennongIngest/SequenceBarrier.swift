import Dispatch
import Synchronization

/// The number of the newest burst resolved (committed, failed or dropped), and a blocking
/// wait for it.
///
/// The ingest thread waits here (inside the rules' prepare) until the burst before the one it
/// prepares is resolved on the commit thread. A waiter that finds the sequence not yet reached
/// parks on a semaphore of its own, registered under the same lock that ``advance(to:)``
/// takes, so a wake-up cannot be lost between the check and the wait.
final class SequenceBarrier: Sendable {
    private struct State {
        var resolved: UInt64 = 0
        /// Threads parked in ``wait(through:)``: the sequence each waits for, and its semaphore.
        var waiters: [(sequence: UInt64, semaphore: DispatchSemaphore)] = []
    }

    private let state = Mutex(State())

    /// Every burst up to `sequence` is resolved: wakes the waiters it satisfies.
    func advance(to sequence: UInt64) {
        let woken = state.withLock { state -> [DispatchSemaphore] in
            state.resolved = max(state.resolved, sequence)
            let resolved = state.resolved
            guard state.waiters.contains(where: { $0.sequence <= resolved }) else { return [] }
            let woken = state.waiters.filter { $0.sequence <= resolved }.map(\.semaphore)
            state.waiters.removeAll { $0.sequence <= resolved }
            return woken
        }
        for semaphore in woken { semaphore.signal() }
    }

    /// Returns once every burst up to `sequence` is resolved.
    func wait(through sequence: UInt64) {
        let parked = state.withLock { state -> DispatchSemaphore? in
            guard state.resolved < sequence else { return nil }
            let semaphore = DispatchSemaphore(value: 0)
            state.waiters.append((sequence, semaphore))
            return semaphore
        }
        parked?.wait()
    }
}
