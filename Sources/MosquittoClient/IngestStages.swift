import CShennongIO
import Foundation

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
/// Thread-safety invariant (why `@unchecked Sendable` is sound): `job`, `outcome`, `busy` and
/// `stopping` are only touched with `condition` locked; `eventFD` is written by the worker
/// thread and read by the run thread (an eventfd counter, safe across threads).
final class CommitWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var job: CommitJob?
    private var outcome: Result<Void, any Error>?
    private var busy = false
    private var stopping = false
    private var exited = false
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
        condition.lock()
        defer { condition.unlock() }
        return busy || outcome != nil
    }

    /// Starts `job` on the worker; the worker must be idle (outcome of the last job taken).
    func submit(_ job: @escaping CommitJob) {
        condition.lock()
        precondition(!busy && outcome == nil, "CommitWorker.submit while a job is running")
        self.job = job
        busy = true
        condition.broadcast()
        condition.unlock()
    }

    /// The outcome of the job that has ended, if one has; `nil` while it runs or when idle.
    func takeOutcome() -> Result<Void, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        defer { outcome = nil }
        return outcome
    }

    /// Waits for the running job and returns its outcome; `nil` when no job was submitted.
    func waitOutcome() -> Result<Void, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while busy {
            condition.wait()
        }
        defer { outcome = nil }
        return outcome
    }

    /// Empties the event counter (after `poll` saw it readable).
    func drainEvent() {
        var counter: UInt64 = 0
        _ = Glibc.read(eventFD, &counter, 8)
    }

    /// Lets the running job finish, then ends the thread; blocks until it has.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited {
            condition.wait()
        }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while job == nil && !stopping {
                condition.wait()
            }
            guard let next = job else { break }
            job = nil
            condition.unlock()
            let result = Result { try next() }
            condition.lock()
            outcome = result
            busy = false
            condition.broadcast()
            var one: UInt64 = 1
            _ = Glibc.write(eventFD, &one, 8)
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}

/// What libmosquitto wrote to the socket, held until the bursts it acknowledges are committed.
///
/// libmosquitto writes PUBACKs, PINGREQ, SUBSCRIBE and publishes in the order it queued them;
/// with the `CShennongIO` shim those writes are captured instead of sent. Each capture becomes a
/// segment tagged with the newest burst handed to the commit worker at that moment, and a
/// segment leaves only when every burst up to its tag is committed — in order, so the byte
/// stream the broker sees is exactly libmosquitto's, only later. Run thread only.
struct HeldOutput {
    private var segments: [(burst: UInt64, bytes: [UInt8])] = []
    /// Bytes of the first segment already sent (a partial write).
    private var sentOfFirst = 0

    var isEmpty: Bool { segments.isEmpty }

    /// Moves everything captured so far into a segment that waits for `burst`.
    /// Returns how many bytes were captured.
    @discardableResult
    mutating func capture(from io: OpaquePointer, waitingFor burst: UInt64) -> Int {
        let count = shennong_io_captured_count(io)
        guard count > 0 else { return 0 }
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = shennong_io_take_captured(io, buffer.baseAddress, count)
        }
        if let last = segments.indices.last, segments[last].burst == burst {
            segments[last].bytes += bytes
        } else {
            segments.append((burst, bytes))
        }
        return count
    }

    /// Whether the first segment may leave now (so the caller should poll for POLLOUT).
    func hasSendable(committedThrough: UInt64) -> Bool {
        segments.first.map { $0.burst <= committedThrough } ?? false
    }

    /// Sends the segments whose bursts are committed, in order, until the socket would block.
    /// Returns the `errno` of a failed write, `nil` otherwise.
    mutating func send(to fd: Int32, committedThrough: UInt64) -> Int32? {
        while let first = segments.first, first.burst <= committedThrough {
            let remaining = first.bytes.count - sentOfFirst
            let written = first.bytes.withUnsafeBytes { raw in
                shennong_io_send(fd, raw.baseAddress! + sentOfFirst, remaining)
            }
            if written < 0 {
                let error = errno
                if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return nil }
                return error
            }
            sentOfFirst += written
            if sentOfFirst < first.bytes.count { return nil }
            segments.removeFirst()
            sentOfFirst = 0
        }
        return nil
    }

    /// Forgets everything held (the connection is gone; libmosquitto's reconnect discards its
    /// own queue too, and the broker redelivers what these PUBACKs would have acknowledged).
    mutating func discard() {
        segments.removeAll()
        sentOfFirst = 0
    }
}
