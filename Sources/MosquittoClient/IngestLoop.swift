/// The state of ``MQTTIngestConnection``'s ack-after-commit loop, apart from all I/O.
///
/// A plain value: the connection's run thread (the driver) tells it what happened — a burst was
/// read, a commit ended, a connection was opened, accepted, lost or refused, stop was asked for —
/// and does what it answers: start a commit, wait for one, drop the connection, pause, connect,
/// finish. It touches no libmosquitto, socket, thread or clock (the time comes with the events),
/// so its rules are tested without a broker.
///
/// Bursts are numbered from 1 in the order they are read. Output the driver captures while burst
/// `n` is ``newestBurst`` waits for `n` (see ``HeldOutput``) and may leave once
/// ``releasedThrough`` reaches `n`. The rules:
/// - **Ack after commit.** ``releasedThrough`` reaches a burst only when its commit, and so every
///   commit before it, has succeeded on a connection that is still up.
/// - **Pipelined**: a burst may be read while the one before commits; it is *prepared* and waits
///   (one commits, one waits, no more: nothing is read while one waits). **Serial** (no
///   `CShennongIO` shim, or TLS): a burst is committed before anything else happens, so nothing is
///   read while a commit runs and libmosquitto may write its own queue between bursts.
/// - **A failed commit** drops the connection without writing anything; the burst prepared behind
///   it is abandoned (its job never runs); the next connect waits the commit back-off.
/// - **A lost connection** (or a failed connect) releases nothing more on it; a commit still
///   running is let to end (unacknowledged: the broker redelivers) before the next connect, which
///   waits the connect back-off.
/// - **Stop** waits for the commit running; if it succeeded and the connection is up, everything
///   released is flushed before DISCONNECT ("drain, then stop").
struct IngestLoop {
    /// A burst read from the broker and handed (or about to be handed) to the commit worker.
    struct Burst: Equatable {
        /// Its place in the order of reading, from 1.
        var number: UInt64
        var messages: Int
    }

    enum Link: Equatable {
        /// No usable connection: the next step connects (after any back-off).
        case down
        /// The connection is open and CONNECT queued; no CONNACK yet.
        case connecting
        /// The broker accepted the connection.
        case connected
    }

    /// What the driver does next, between service rounds (``nextStep()``).
    enum Step: Equatable {
        /// Wait this long (less if stop is asked for), then ask again.
        case pause(seconds: Double)
        /// Wait for the running commit to end and report it with ``commitEnded(succeeded:at:)``.
        case awaitCommit
        /// Open a connection (the old one's queue is discarded) and report it.
        case connect
        /// Poll, read, hand over and write once on the open connection.
        case service
        /// Stop: when `flush`, send what ``releasedThrough`` lets leave and DISCONNECT; then return.
        case finish(flush: Bool)
    }

    /// What the driver does at once after an event.
    enum Action: Equatable {
        case none
        /// Hand the burst just read to the commit worker.
        case startCommit(burst: UInt64)
        /// Hand the burst just read to the commit worker and wait for it (serial mode); report
        /// with ``commitEnded(succeeded:at:)``.
        case commitAndAwait(burst: UInt64)
        /// Wait for the running commit before the burst just read may start; report with
        /// ``commitEnded(succeeded:at:)``.
        case awaitCommit
        /// A commit failed: shut the connection down without writing and forget the output held;
        /// `abandoned` is the burst prepared behind the failed one, whose job must not run (the
        /// caller undoes its preparation). The broker redelivers both.
        case dropConnection(abandoned: UInt64?)
    }

    /// Whether a burst may be read while the one before commits.
    private(set) var isPipelined: Bool
    private(set) var link: Link = .down
    /// Whether stop was asked for.
    private(set) var isStopping = false
    /// The burst the commit worker has.
    private(set) var committing: Burst?
    /// The burst read while ``committing`` runs, waiting for it (pipelined mode).
    private(set) var prepared: Burst?
    /// The newest burst read; output captured now waits for it.
    private(set) var newestBurst: UInt64 = 0
    /// Output waiting for a burst up to this one may leave on the current connection.
    private(set) var releasedThrough: UInt64 = 0

    private var pendingPause: Double?
    private var connectBackoff: Backoff
    private var commitBackoff: Backoff
    /// When the current outage began; `nil` while connected.
    private var outageStart: ContinuousClock.Instant?
    private var warnedThisOutage = false
    private var everConnected = false

    /// A loop that has not connected yet; its first outage starts `now`.
    init(pipelined: Bool, reconnectDelay: MQTTConfiguration.ReconnectDelay, now: ContinuousClock.Instant) {
        isPipelined = pipelined
        connectBackoff = Backoff(reconnectDelay)
        commitBackoff = Backoff(reconnectDelay)
        outageStart = now
    }

    /// Whether the service round may read a burst now.
    var mayRead: Bool {
        prepared == nil && (isPipelined || committing == nil)
    }

    // MARK: - Between rounds

    /// What to do next. A pause is answered once; ask again after it.
    mutating func nextStep() -> Step {
        assert(prepared == nil, "a prepared burst waits only within a service round")
        if isStopping {
            return committing != nil ? .awaitCommit : .finish(flush: link != .down)
        }
        if let seconds = pendingPause {
            pendingPause = nil
            return .pause(seconds: seconds)
        }
        if link == .down {
            // A commit still running belongs to the old connection: let it end first.
            return committing != nil ? .awaitCommit : .connect
        }
        return .service
    }

    /// Stop was asked for: no more pauses or connects; the running commit is waited for.
    mutating func stopRequested() {
        isStopping = true
        pendingPause = nil
    }

    // MARK: - Connection events

    /// A connection was opened and CONNECT queued. Whatever the old connection held is gone, so
    /// output captured from now on waits only for bursts read from now on.
    mutating func connectionOpened() {
        precondition(committing == nil && prepared == nil, "connect only after the old connection's commit ended")
        link = .connecting
        releasedThrough = newestBurst
    }

    /// The broker accepted the connection (CONNACK). Returns how long the outage lasted, or
    /// `nil` for the first connection.
    mutating func connected(at now: ContinuousClock.Instant) -> Duration? {
        link = .connected
        connectBackoff.reset()
        let outage = everConnected ? outageStart.map { now - $0 } : nil
        everConnected = true
        outageStart = nil
        warnedThisOutage = false
        return outage
    }

    /// Opening a connection failed. Returns `true` when this is the outage's first failure (worth
    /// a warning; later ones are routine).
    mutating func connectFailed(at now: ContinuousClock.Instant) -> Bool {
        failed(at: now)
    }

    /// The connection was lost (read, write, poll or keep-alive failed, or the broker refused it):
    /// nothing more leaves on it. Returns `true` when this is the outage's first failure.
    mutating func connectionLost(at now: ContinuousClock.Instant) -> Bool {
        failed(at: now)
    }

    /// The shim turned out not to capture libmosquitto's writes: commit one burst at a time.
    mutating func stopPipelining() {
        isPipelined = false
    }

    // MARK: - Burst events

    /// A burst of `messages` was read and prepared; it is ``newestBurst`` from now on.
    mutating func burstRead(messages: Int) -> Action {
        precondition(mayRead, "a burst is read only when mayRead")
        newestBurst += 1
        let burst = Burst(number: newestBurst, messages: messages)
        guard committing == nil else {
            prepared = burst
            return .awaitCommit
        }
        committing = burst
        return isPipelined ? .startCommit(burst: burst.number) : .commitAndAwait(burst: burst.number)
    }

    /// The running commit (``committing``) ended.
    mutating func commitEnded(succeeded: Bool, at now: ContinuousClock.Instant) -> Action {
        guard let ended = committing else {
            preconditionFailure("commitEnded without a commit running")
        }
        committing = nil
        if succeeded {
            if link != .down {
                releasedThrough = ended.number
                commitBackoff.reset()
            }
            guard let next = prepared else { return .none }
            prepared = nil
            committing = next
            return isPipelined ? .startCommit(burst: next.number) : .commitAndAwait(burst: next.number)
        }
        let abandoned = prepared?.number
        prepared = nil
        if link != .down {
            link = .down
            pendingPause = commitBackoff.next()
            if outageStart == nil {
                outageStart = now
                warnedThisOutage = false
            }
        }
        return .dropConnection(abandoned: abandoned)
    }

    private mutating func failed(at now: ContinuousClock.Instant) -> Bool {
        link = .down
        pendingPause = connectBackoff.next()
        if outageStart == nil {
            outageStart = now
            warnedThisOutage = false
        }
        defer { warnedThisOutage = true }
        return !warnedThisOutage
    }
}
