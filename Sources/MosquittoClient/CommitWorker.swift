import CShennongIO
import Foundation
import Synchronization

/// Commits one burst (see ``MQTTIngestConnection/run(maxBatch:dropped:prepare:)``): returns once the
/// burst is durable, throws to refuse it.
public typealias CommitJob = @Sendable () throws -> Void

/// The thread that commits bursts for ``MQTTIngestConnection`` while its run thread reads and
/// prepares the next one.
///
/// One job at a time: ``submit(_:)`` is only called when the worker is idle. When a job ends,
/// its outcome is kept for ``takeOutcome()`` / ``waitOutcome()`` and the worker's event file
/// descriptor becomes readable, so the run thread's `poll` wakes up to send the PUBACKs.
///
/// The job, its outcome and the flags live in a `Mutex`. The worker thread sleeps on `wake`
/// (signalled once per submitted job and once by ``shutdown()``); each ended job signals `ended`
/// once, after its outcome is stored, and whoever takes that outcome consumes the signal, so a
/// wait for the running job never returns early.
final class CommitWorker: Sendable {
    private struct State {
        var job: CommitJob?
        var outcome: Result<Void, any Error>?
        /// A job was submitted and has not ended.
        var busy = false
        var stopping = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    /// Readable when a job has ended (an eventfd, non-blocking).
    let eventFD: Int32

    init(name: String) {
        eventFD = shennong_io_eventfd()
        let thread = Thread { [self] in work() }
        thread.name = name
        thread.start()
    }

    deinit {
        if eventFD >= 0 { close(eventFD) }
    }

    /// Whether a job is running (its outcome not yet taken counts as running).
    var isBusy: Bool {
        state.withLock { $0.busy || $0.outcome != nil }
    }

    /// Starts `job` on the worker; the worker must be idle (outcome of the last job taken).
    func submit(_ job: @escaping CommitJob) {
        state.withLock { state in
            precondition(!state.busy && state.outcome == nil, "CommitWorker.submit while a job is running")
            state.job = job
            state.busy = true
        }
        wake.signal()
    }

    /// The outcome of the job that has ended, if one has; `nil` while it runs or when idle.
    func takeOutcome() -> Result<Void, any Error>? {
        let outcome = state.withLock { state in
            defer { state.outcome = nil }
            return state.outcome
        }
        if outcome != nil {
            // Signalled right after the outcome was stored: returns at once.
            ended.wait()
        }
        return outcome
    }

    /// Waits for the running job and returns its outcome; `nil` when no job was submitted.
    func waitOutcome() -> Result<Void, any Error>? {
        guard isBusy else { return nil }
        ended.wait()
        return state.withLock { state in
            defer { state.outcome = nil }
            return state.outcome
        }
    }

    /// Empties the event counter (after `poll` saw it readable).
    func drainEvent() {
        var counter: UInt64 = 0
        _ = Glibc.read(eventFD, &counter, 8)
    }

    /// Lets the running job finish, then ends the thread; blocks until it has.
    func shutdown() {
        state.withLock { $0.stopping = true }
        wake.signal()
        exited.wait()
    }

    private func work() {
        while true {
            wake.wait()
            let (next, stopping) = state.withLock { state in
                defer { state.job = nil }
                return (state.job, state.stopping)
            }
            guard let next else {
                if stopping { break }
                continue
            }
            let result = Result { try next() }
            state.withLock { state in
                state.outcome = result
                state.busy = false
            }
            ended.signal()
            var one: UInt64 = 1
            _ = Glibc.write(eventFD, &one, 8)
        }
        exited.signal()
    }
}
