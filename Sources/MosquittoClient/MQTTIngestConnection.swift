import CMosquitto
import CShennongIO
import Foundation
import Logging

/// Consumes MQTT messages and acknowledges each one only after the caller has committed it.
///
/// Call ``run(maxBatch:dropped:prepare:)`` (or ``run(maxBatch:handle:)``) on a thread of your own: it
/// connects (retrying with back-off until the broker is up), reads bursts of messages, hands
/// each burst to the caller, and only when the burst's commit returns normally lets the
/// PUBACKs of that burst leave. If the commit throws, the connection is dropped without
/// acknowledging, so the broker redelivers the burst after the reconnect (the session must be
/// persistent: fixed `clientID`, `cleanSession = false`, QoS 1 subscriptions). Redelivery
/// makes duplicates: storage must be idempotent.
///
/// Pipelining: commits run on a worker thread of their own, and while burst N is being
/// committed the run thread reads and prepares burst N+1 (at most one burst commits and one
/// waits). The PUBACKs of N+1 are held until N+1 is committed, even though libmosquitto has
/// already "written" them: the `CShennongIO` shim captures libmosquitto's writes to this
/// socket (and buffers its many small reads into one), and ``HeldOutput`` sends each captured
/// segment only when every burst before it is committed. Without the shim (it is not linked
/// in, or the connection uses TLS) bursts are committed one at a time and acknowledged by
/// libmosquitto itself, as below.
///
/// How it works with libmosquitto 2.0: the handle is put in threaded mode
/// (`mosquitto_threaded_set`) so that a received QoS 1 PUBLISH only *queues* its PUBACK; the
/// loop is driven here by hand (`poll`, `mosquitto_loop_read`, `mosquitto_loop_write`,
/// `mosquitto_loop_misc`) and, without the shim, `mosquitto_loop_write` is never called while a
/// read message is uncommitted. Dropping the connection after a failed commit shuts the socket
/// down at once, forgets what the shim holds, and reconnects with `mosquitto_reconnect`, which
/// discards every queued packet (`packet__cleanup_all`) before it opens the new socket.
///
/// Thread-safety invariant (why `@unchecked Sendable` is sound): the libmosquitto handle is only
/// driven — connect, reconnect, loop read/write/misc, disconnect — from the one thread inside
/// `run`, so every libmosquitto callback also runs on that thread and the callback state needs no
/// lock; the shim state `io` is attached to that thread only. The other methods only call
/// libmosquitto functions that lock internally in threaded mode (`mosquitto_publish`),
/// serialised against the first `mosquitto_connect` by `connectLock` (that call recreates
/// libmosquitto's internal wake-up socket pair), or touch state behind `control` (an
/// `NSCondition`) and `LockedBox`. Commit jobs run on the ``CommitWorker`` thread and touch
/// nothing of this object.
public final class MQTTIngestConnection: @unchecked Sendable {
    /// The configuration this connection was created with.
    public let configuration: MQTTConfiguration

    private let logger: Logger
    private let session: IngestSession
    private let mosq: OpaquePointer
    /// The shim state (buffered reads, captured writes) when bursts are pipelined; run thread only.
    private var io: OpaquePointer?

    /// Guards `stopRequested` and `running`; signalled by `stop()` to cut back-off waits short.
    private let control = NSCondition()
    private var stopRequested = false
    private var running = false

    /// Serialises `publish` against `mosquitto_connect` (see the invariant above).
    private let connectLock = NSLock()
    /// Whether `mosquitto_connect` has stored host and port, so that `mosquitto_reconnect` can be used. Run thread only.
    private var hostConfigured = false

    /// How long one `poll` waits for data; bounds how quickly `stop()` is noticed.
    private let pollTimeoutMilliseconds: Int32 = 100

    /// Creates the client; it connects only when ``run(maxBatch:dropped:prepare:)`` is called.
    ///
    /// - Parameter pipelined: commit on a worker thread while the next burst is read (when the
    ///   `CShennongIO` shim is in effect and the connection is not TLS); `false` commits one
    ///   burst at a time.
    /// - Throws: ``MQTTError`` when libmosquitto rejects the configuration (for example a TLS file
    ///   that cannot be read, an empty client id with a persistent session, keep-alive below 5 s).
    public init(
        configuration: MQTTConfiguration, pipelined: Bool = true,
        logger: Logger = Logger(label: "shennong.mqtt.ingest")
    ) throws {
        var logger = logger
        logger[metadataKey: "mqtt.broker"] = "\(configuration.host):\(configuration.port)"
        logger[metadataKey: "mqtt.client_id"] = "\(configuration.clientID)"
        self.configuration = configuration
        self.logger = logger
        let session = IngestSession(configuration: configuration, logger: logger)
        self.session = session
        let mosq = try configuration.makeHandle(userData: Unmanaged.passUnretained(session).toOpaque())
        // Queue PUBACKs instead of writing them from inside mosquitto_loop_read (libmosquitto 2.0
        // writes at once from packet__queue when the handle is not threaded).
        _ = mosquitto_threaded_set(mosq, true)
        IngestSession.installCallbacks(on: mosq, forwardLog: MosquittoLog.wanted(by: logger))
        self.mosq = mosq
        if pipelined && configuration.tls == nil {
            if shennong_io_interposed() == 1 {
                io = shennong_io_create(256 * 1024)
            } else {
                logger.warning("CShennongIO shim not in effect (read/write not interposed); committing one burst at a time")
            }
        }
    }

    deinit {
        // The session object outlives this call (stored property), so callbacks fired by
        // mosquitto_destroy, if any, still find it.
        mosquitto_destroy(mosq)
        if let io { shennong_io_destroy(io) }
    }

    /// Whether bursts are read while the previous one commits (see the type's documentation).
    public var isPipelined: Bool { io != nil }

    /// Whether the broker has accepted the connection (CONNACK received) and the socket is open.
    public var isConnected: Bool {
        session.status.withLock { $0.connected }
    }

    /// Whether every configured subscription has been granted (SUBACK) on the current connection.
    public var isSubscribed: Bool {
        session.status.withLock { $0.connected && $0.subscribed }
    }

    /// Asks ``run(maxBatch:dropped:prepare:)`` to finish; returns at once and may be called from any thread.
    ///
    /// `run` then finishes its current step — the bursts it has read are committed and, if
    /// that succeeds, acknowledged — sends DISCONNECT and returns. A `stop()` before `run` makes
    /// `run` return immediately; a stopped connection cannot be run again.
    public func stop() {
        control.lock()
        stopRequested = true
        control.broadcast()
        control.unlock()
    }

    /// Publishes a message on this connection; thread-safe.
    ///
    /// The message is queued and sent by the thread inside `run`: right away when that thread is
    /// idle, or after the batch it is committing. A QoS 1/2 message is kept by libmosquitto until
    /// the broker acknowledges it — also while disconnected, in which case it leaves after the
    /// next connect — but only in memory, while this object lives.
    ///
    /// - Throws: ``MQTTError`` when libmosquitto refuses the message (invalid topic, payload too
    ///   large), or for QoS 0 when there is no connection (the message is dropped).
    public func publish(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) throws {
        connectLock.lock()
        defer { connectLock.unlock() }
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish(mosq, nil, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
        }
        // libmosquitto 2.0 queues a QoS > 0 message and *then* reports MOSQ_ERR_NO_CONN when it
        // cannot send it yet; the message still goes out after the next CONNACK.
        if rc == MosqCode.noConnection && qos > 0 {
            return
        }
        try MQTTError.check(rc, "publish to '\(topic)'")
    }

    /// Runs the ack-after-commit loop, committing each burst with `handle`; blocks until ``stop()``.
    ///
    /// The same as ``run(maxBatch:dropped:prepare:)`` with nothing to prepare: `handle` runs on the
    /// commit thread.
    public func run(maxBatch: Int = 5000, handle: @escaping @Sendable ([MQTTMessage]) throws -> Void) {
        run(maxBatch: maxBatch) { batch in { try handle(batch) } }
    }

    /// Runs the ack-after-commit loop on the calling thread until ``stop()``; blocks.
    ///
    /// - Parameters:
    ///   - maxBatch: the most messages read before a burst is handed over (a burst stops earlier
    ///     when the socket has nothing more to read; QoS 1/2 `publish` traffic on this connection
    ///     may add a few). Do not rely on the broker's `max_inflight_messages` to bound a batch:
    ///     mosquitto 2.0.11 was seen sending over 3,000 unacknowledged messages with it at 1000.
    ///   - prepare: called on this thread with each burst (decode it here); returns the commit
    ///     job, which runs on the commit thread once the previous burst's job has returned. The
    ///     job returns normally only once the burst is durable: its PUBACKs are sent right after.
    ///     It throws to refuse the burst: the connection is dropped unacknowledged (a burst
    ///     prepared meanwhile is dropped too, its job never runs) and the broker redelivers
    ///     after a back-off. Messages read just before a connection loss are still handed over
    ///     (without an ack), so a message may be handed over more than once. A job must return
    ///     well within 1.5 × keep-alive, or the broker drops the connection (and redelivers).
    ///   - dropped: called on this thread when the job of a prepared burst is dropped (the
    ///     burst before it failed); whatever `prepare` set up for it must be undone.
    ///
    /// Never returns on connection problems: a failed connect, a lost connection or a refused
    /// CONNACK is logged at `warning` once per outage and retried with exponential back-off
    /// (``MQTTConfiguration/reconnectDelay``) until `stop()`.
    public func run(maxBatch: Int = 5000, dropped: () -> Void = {}, prepare: ([MQTTMessage]) -> CommitJob) {
        precondition(maxBatch > 0, "maxBatch must be positive")
        control.lock()
        precondition(!running, "MQTTIngestConnection.run(maxBatch:dropped:prepare:) is already running")
        running = true
        control.unlock()
        let worker = CommitWorker(name: "shennong-commit")
        if let io { shennong_io_attach(io) }
        defer {
            worker.shutdown()
            if io != nil { shennong_io_attach(nil) }
            control.lock()
            running = false
            control.broadcast()
            control.unlock()
        }

        var link = Link(configuration.reconnectDelay)
        var flow = Flow()
        while !isStopRequested {
            if link.mustReconnect || mosquitto_socket(mosq) < 0 {
                settle(worker, &flow)
                if let failure = openConnection(&link) {
                    noteOutage(failure, &link)
                    sleepUnlessStopped(link.connectBackoff.next())
                    continue
                }
            }
            switch serviceConnection(
                maxBatch: maxBatch, prepare: prepare, dropped: dropped, worker: worker, flow: &flow, link: &link)
            {
            case .healthy:
                break
            case .lost(let failure):
                link.mustReconnect = true
                noteOutage(failure, &link)
                sleepUnlessStopped(link.connectBackoff.next())
            case .commitFailed:
                abandonConnection(&link, &flow)
                sleepUnlessStopped(link.commitBackoff.next())
            }
        }
        finish(&link, worker, &flow)
    }

    // MARK: - Loop steps (run thread only)

    private struct Link {
        var connectBackoff: Backoff
        var commitBackoff: Backoff
        /// When the current outage began; `nil` while connected.
        var outageStart: ContinuousClock.Instant?
        var warnedThisOutage = false
        var everConnected = false
        /// The connection was lost or shut down after a failed commit: nothing queued on it may
        /// be written, so the next step is `mosquitto_reconnect` (which discards the queue).
        var mustReconnect = false
        /// A connection was just opened: the first capture must hold its CONNECT (proof that
        /// libmosquitto writes through the shim).
        var verifyCapture = false

        init(_ delay: MQTTConfiguration.ReconnectDelay) {
            connectBackoff = Backoff(delay)
            commitBackoff = Backoff(delay)
            outageStart = .now
        }
    }

    /// Bursts handed to the commit worker and what waits for them.
    private struct Flow {
        /// Number of the last burst handed to the worker (bursts count from 1).
        var submitted: UInt64 = 0
        /// Every burst up to this one is committed.
        var committedThrough: UInt64 = 0
        /// Messages in the burst the worker has (for the failure log).
        var inFlightMessages = 0
        /// Captured output waiting for commits (pipelined mode).
        var held = HeldOutput()
    }

    private enum StepOutcome {
        case healthy
        case lost(MQTTError)
        case commitFailed
    }

    private var isStopRequested: Bool {
        control.lock()
        defer { control.unlock() }
        return stopRequested
    }

    /// Starts a TCP connection and queues CONNECT; `nil` on success (CONNACK still to come).
    private func openConnection(_ link: inout Link) -> MQTTError? {
        // Whatever the shim holds belongs to the old socket, whose number the new one may reuse.
        if let io { shennong_io_set_socket(io, -1) }
        let rc: Int32
        let savedErrno: Int32
        if hostConfigured {
            rc = mosquitto_reconnect(mosq)
            savedErrno = errno
        } else {
            connectLock.lock()
            rc = mosquitto_connect(mosq, configuration.host, Int32(configuration.port), Int32(configuration.keepAlive))
            savedErrno = errno
            connectLock.unlock()
            // MOSQ_ERR_INVAL / NOMEM come from argument checks before host and port are stored.
            hostConfigured = rc != MosqCode.invalid && rc != MosqCode.noMemory
        }
        if hostConfigured {
            // mosquitto__reconnect ran packet__cleanup_all: nothing queued before survives.
            link.mustReconnect = false
        }
        if rc == MosqCode.success {
            if let io {
                shennong_io_set_socket(io, mosquitto_socket(mosq))
                link.verifyCapture = true
            }
            return nil
        }
        return MQTTError(mosquittoCode: rc, operation: "connect", systemErrno: savedErrno)
    }

    /// Before a reconnect: lets a commit still running end (its PUBACKs die with the old
    /// connection; the broker redelivers those messages) and forgets held output.
    private func settle(_ worker: CommitWorker, _ flow: inout Flow) {
        if case .failure(let error) = worker.waitOutcome() {
            logCommitFailure(error, messages: flow.inFlightMessages)
        }
        flow.committedThrough = flow.submitted
        flow.held.discard()
    }

    /// The outcome of the burst the worker had, if it has ended: `false` when its commit failed.
    private func collect(_ outcome: Result<Void, any Error>?, _ flow: inout Flow, _ link: inout Link) -> Bool {
        switch outcome {
        case nil:
            return true
        case .success:
            flow.committedThrough = flow.submitted
            link.commitBackoff.reset()
            return true
        case .failure(let error):
            logCommitFailure(error, messages: flow.inFlightMessages)
            return false
        }
    }

    private func logCommitFailure(_ error: any Error, messages: Int) {
        logger.error(
            "Batch handler failed; dropping the connection without acknowledging so the broker redelivers",
            metadata: ["mqtt.batch": "\(messages)", "error": "\(error)"]
        )
    }

    /// One poll, read burst, hand-over and write round on an open socket.
    private func serviceConnection(
        maxBatch: Int,
        prepare: ([MQTTMessage]) -> CommitJob,
        dropped: () -> Void,
        worker: CommitWorker,
        flow: inout Flow,
        link: inout Link
    ) -> StepOutcome {
        let fd = mosquitto_socket(mosq)
        guard fd >= 0 else {
            return .lost(MQTTError(mosquittoCode: MosqCode.noConnection, operation: "poll"))
        }
        if let io, shennong_io_socket(io) != fd {
            // The shim is not on this socket (a reconnect failed after opening it): never
            // service a socket whose writes would not be held.
            forgetShim(&flow)
            return .lost(MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "poll"))
        }
        let buffered = io.map { shennong_io_buffered_input($0) > 0 } ?? false
        var events = Int16(POLLIN)
        if io == nil ? mosquitto_want_write(mosq) : flow.held.hasSendable(committedThrough: flow.committedThrough) {
            events |= Int16(POLLOUT)
        }
        var descriptors = [
            pollfd(fd: fd, events: events, revents: 0),
            pollfd(fd: worker.eventFD, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&descriptors, 2, buffered ? 0 : pollTimeoutMilliseconds)
        if ready > 0, descriptors[1].revents & Int16(POLLIN) != 0 {
            worker.drainEvent()
        }
        guard collect(worker.takeOutcome(), &flow, &link) else { return .commitFailed }
        let socket = descriptors[0].revents
        if ready > 0, socket & Int16(POLLNVAL) != 0 {
            return .lost(MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "poll"))
        }

        var readFailure: MQTTError?
        // Without the shim a burst read now would queue its PUBACKs behind the committing
        // burst's, and libmosquitto writes its whole queue: read only when nothing commits.
        let readable = buffered || (ready > 0 && socket & Int16(POLLIN | POLLERR | POLLHUP) != 0)
        if readable && (io != nil || !worker.isBusy) {
            readFailure = readBurst(fd: fd, maxBatch: maxBatch)
            if io != nil && readFailure == nil && !shimOnSocket() {
                readFailure = MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "read")
            }
            if readFailure != nil {
                // libmosquitto may have closed the socket: its number can be reused by the next
                // open() on this thread (a SQLite file in prepare), which the shim must not touch.
                forgetShim(&flow)
            }
        }
        if session.connackAccepted {
            session.connackAccepted = false
            noteConnected(&link)
        }

        if !session.pending.isEmpty {
            let batch = session.pending
            session.pending.removeAll(keepingCapacity: true)
            let job = prepare(batch)
            let burst = flow.submitted + 1
            if let io, readFailure == nil {
                // Capture this burst's PUBACKs (and whatever was queued before them) now,
                // before anything else can be queued behind them.
                if captureQueued(io, waitingFor: burst, &flow) == nil {
                    readFailure = MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "write")
                }
            }
            // The burst before must be committed before this one starts.
            guard collect(worker.waitOutcome(), &flow, &link) else {
                dropped()
                return .commitFailed
            }
            worker.submit(job)
            flow.submitted = burst
            flow.inFlightMessages = batch.count
            if io == nil {
                guard collect(worker.waitOutcome(), &flow, &link) else { return .commitFailed }
                if readFailure == nil, let failure = writeQueued() {
                    return .lost(failure)
                }
            }
        }
        if let readFailure {
            return .lost(readFailure)
        }
        if let io {
            if mosquitto_want_write(mosq) {
                guard let captured = captureQueued(io, waitingFor: flow.submitted, &flow) else {
                    return .lost(MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "write"))
                }
                if link.verifyCapture {
                    link.verifyCapture = false
                    if captured == 0 {
                        // CONNECT was queued, yet nothing was captured: libmosquitto does not
                        // write through the shim. It wrote CONNECT itself (harmless); from now
                        // on commit one burst at a time and let libmosquitto write.
                        logger.error("CShennongIO shim did not capture libmosquitto's CONNECT; committing one burst at a time")
                        shennong_io_set_socket(io, -1)
                        shennong_io_attach(nil)
                        shennong_io_destroy(io)
                        self.io = nil
                        return .healthy
                    }
                }
            }
            if let error = flow.held.send(to: fd, committedThrough: flow.committedThrough) {
                return .lost(MQTTError(mosquittoCode: MosqCode.errno, operation: "write", systemErrno: error))
            }
        } else if mosquitto_want_write(mosq), let failure = writeQueued() {
            // Nothing uncommitted is pending here: whatever is queued (PUBACKs of committed
            // batches, PINGREQ, SUBSCRIBE, CONNECT, publish()) may leave.
            return .lost(failure)
        }
        _ = mosquitto_loop_misc(mosq)
        if mosquitto_socket(mosq) < 0 {
            // mosquitto_loop_misc closes the socket when the broker missed a keep-alive PINGRESP.
            forgetShim(&flow)
            return .lost(MQTTError(mosquittoCode: MosqCode.keepalive, operation: "keep-alive"))
        }
        return .healthy
    }

    /// Lets libmosquitto write its queue — into the shim — and holds the bytes until `burst`
    /// is committed. Returns how many bytes were captured, or `nil` when libmosquitto closed
    /// the socket meanwhile (the shim has then let go of it and nothing held will be sent).
    private func captureQueued(_ io: OpaquePointer, waitingFor burst: UInt64, _ flow: inout Flow) -> Int? {
        _ = mosquitto_loop_write(mosq, 1)
        guard shimOnSocket() else {
            forgetShim(&flow)
            return nil
        }
        return flow.held.capture(from: io, waitingFor: burst)
    }

    /// Whether the shim still buffers and captures the socket libmosquitto has open.
    private func shimOnSocket() -> Bool {
        guard let io else { return true }
        let fd = mosquitto_socket(mosq)
        return fd >= 0 && shennong_io_socket(io) == fd
    }

    /// The connection is gone or unusable: the shim lets go of its socket number (which the
    /// next open() may reuse) and nothing held is ever sent.
    private func forgetShim(_ flow: inout Flow) {
        flow.held.discard()
        if let io { shennong_io_set_socket(io, -1) }
    }

    /// Reads packets while the socket (or the shim's buffer) stays readable and fewer than
    /// `maxBatch` messages are pending.
    private func readBurst(fd: Int32, maxBatch: Int) -> MQTTError? {
        while true {
            let rc = mosquitto_loop_read(mosq, 1)
            let savedErrno = errno
            if rc != MosqCode.success {
                return failure(rc, operation: "read", errno: savedErrno)
            }
            if mosquitto_socket(mosq) < 0 {
                return MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "read")
            }
            if session.pending.count >= maxBatch {
                return nil
            }
            if let io, shennong_io_buffered_input(io) > 0 {
                continue
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) <= 0 || descriptor.revents & Int16(POLLIN | POLLERR | POLLHUP) == 0 {
                return nil
            }
        }
    }

    /// Writes queued packets; only called when nothing uncommitted is pending (no shim).
    private func writeQueued() -> MQTTError? {
        let rc = mosquitto_loop_write(mosq, 1)
        let savedErrno = errno
        if rc != MosqCode.success {
            return failure(rc, operation: "write", errno: savedErrno)
        }
        return nil
    }

    private func failure(_ rc: Int32, operation: String, errno savedErrno: Int32) -> MQTTError {
        if let refusal = session.connackRefusal {
            session.connackRefusal = nil
            return MQTTError(mosquittoCode: rc, operation: "connect", connackCode: refusal)
        }
        return MQTTError(mosquittoCode: rc, operation: operation, systemErrno: savedErrno)
    }

    /// Shuts the socket down without writing anything; what the shim holds is forgotten and
    /// the queued PUBACKs are discarded by the `mosquitto_reconnect` that follows the back-off.
    private func abandonConnection(_ link: inout Link, _ flow: inout Flow) {
        let fd = mosquitto_socket(mosq)
        if fd >= 0 {
            _ = shutdown(fd, Int32(SHUT_RDWR))
        }
        flow.held.discard()
        if let io { shennong_io_set_socket(io, -1) }
        link.mustReconnect = true
        session.markDisconnected()
        if link.outageStart == nil {
            link.outageStart = .now
            link.warnedThisOutage = false
        }
    }

    private func noteConnected(_ link: inout Link) {
        link.connectBackoff.reset()
        if let start = link.outageStart, link.everConnected {
            let seconds = (ContinuousClock.now - start).inSeconds
            logger.info("MQTT connection restored", metadata: ["mqtt.outage_seconds": "\(String(format: "%.1f", seconds))"])
        } else {
            logger.info("MQTT connected", metadata: ["mqtt.pipelined": "\(io != nil)"])
        }
        link.everConnected = true
        link.outageStart = nil
        link.warnedThisOutage = false
    }

    private func noteOutage(_ failure: MQTTError, _ link: inout Link) {
        session.markDisconnected()
        if link.outageStart == nil {
            link.outageStart = .now
            link.warnedThisOutage = false
        }
        if !link.warnedThisOutage {
            link.warnedThisOutage = true
            logger.warning(
                "MQTT broker unavailable; reconnecting with back-off until it is back",
                metadata: ["error": "\(failure)"]
            )
        } else {
            logger.debug("MQTT reconnect attempt failed", metadata: ["error": "\(failure)"])
        }
    }

    /// Waits `seconds`, returning early when `stop()` is called.
    private func sleepUnlessStopped(_ seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        control.lock()
        defer { control.unlock() }
        while !stopRequested {
            if !control.wait(until: deadline) {
                return
            }
        }
    }

    /// After `stop()`: waits for the burst being committed; if it succeeded, sends everything
    /// held, then DISCONNECT, and closes.
    private func finish(_ link: inout Link, _ worker: CommitWorker, _ flow: inout Flow) {
        defer {
            session.markDisconnected()
            logger.info("MQTT ingest stopped")
        }
        guard collect(worker.waitOutcome(), &flow, &link) else {
            abandonConnection(&link, &flow)
            return
        }
        guard !link.mustReconnect, mosquitto_socket(mosq) >= 0 else {
            return
        }
        let deadline = ContinuousClock.now + .seconds(2)
        if let io {
            // Everything is committed: send what is held, then stop capturing, because
            // libmosquitto closes the socket as soon as it has written DISCONNECT.
            if !shimOnSocket() {
                forgetShim(&flow)
            } else if mosquitto_want_write(mosq) {
                _ = captureQueued(io, waitingFor: flow.submitted, &flow)
            }
            while !flow.held.isEmpty, ContinuousClock.now < deadline {
                let fd = mosquitto_socket(mosq)
                guard fd >= 0, flow.held.send(to: fd, committedThrough: flow.committedThrough) == nil else { break }
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 50)
            }
            shennong_io_set_socket(io, -1)
        }
        _ = mosquitto_disconnect(mosq)
        while mosquitto_want_write(mosq), mosquitto_socket(mosq) >= 0, ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: mosquitto_socket(mosq), events: Int16(POLLOUT), revents: 0)
            if poll(&descriptor, 1, 50) > 0 {
                if mosquitto_loop_write(mosq, 1) != MosqCode.success {
                    break
                }
            }
        }
    }
}

/// What the libmosquitto callbacks of one ``MQTTIngestConnection`` work on.
///
/// The callbacks run inside `mosquitto_loop_read/write/misc`, which only the `run` thread calls,
/// so the run-thread fields need no lock; `status` is also read by other threads and is locked.
final class IngestSession {
    struct Status {
        var connected = false
        var subscribed = false
    }

    let configuration: MQTTConfiguration
    let logger: Logger
    let status = LockedBox(Status())

    // Run thread only.
    var pending: [MQTTMessage] = []
    var awaitingSubacks: Set<Int32> = []
    var subscribeFailed = false
    var connackAccepted = false
    var connackRefusal: Int32?

    init(configuration: MQTTConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        pending.reserveCapacity(1024)
    }

    func markDisconnected() {
        status.withLock {
            $0.connected = false
            $0.subscribed = false
        }
    }

    static func installCallbacks(on mosq: OpaquePointer, forwardLog: Bool) {
        mosquitto_connect_callback_set(mosq) { mosq, obj, rc in
            guard let mosq, let obj else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().didConnect(mosq, rc: rc)
        }
        mosquitto_disconnect_callback_set(mosq) { _, obj, _ in
            guard let obj else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().markDisconnected()
        }
        mosquitto_subscribe_callback_set(mosq) { _, obj, mid, count, granted in
            guard let obj else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue()
                .didSubscribe(mid: mid, granted: UnsafeBufferPointer(start: granted, count: Int(max(0, count))))
        }
        mosquitto_message_callback_set(mosq) { _, obj, message in
            guard let obj, let message else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().didReceive(message.pointee)
        }
        if forwardLog {
            mosquitto_log_callback_set(mosq) { _, obj, level, text in
                guard let obj else { return }
                MosquittoLog.forward(Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().logger, level: level, text: text)
            }
        }
    }

    private func didConnect(_ mosq: OpaquePointer, rc: Int32) {
        guard rc == 0 else {
            connackRefusal = rc
            return
        }
        connackAccepted = true
        awaitingSubacks.removeAll()
        subscribeFailed = false
        for subscription in configuration.subscriptions {
            var mid: Int32 = 0
            let result = mosquitto_subscribe(mosq, &mid, subscription.topic, subscription.qos)
            if result == MosqCode.success {
                awaitingSubacks.insert(mid)
            } else {
                subscribeFailed = true
                logger.error("MQTT subscribe failed", metadata: [
                    "error": "\(MQTTError(mosquittoCode: result, operation: "subscribe to '\(subscription.topic)'"))",
                ])
            }
        }
        if let birth = configuration.birth {
            let result = birth.payload.withUnsafeBytes { bytes in
                mosquitto_publish(mosq, nil, birth.topic, Int32(bytes.count), bytes.baseAddress, 1, birth.retain)
            }
            if result != MosqCode.success {
                logger.error("MQTT birth message failed", metadata: [
                    "error": "\(MQTTError(mosquittoCode: result, operation: "publish birth to '\(birth.topic)'"))",
                ])
            }
        }
        let subscribed = awaitingSubacks.isEmpty && !subscribeFailed
        status.withLock {
            $0.connected = true
            $0.subscribed = subscribed
        }
    }

    private func didSubscribe(mid: Int32, granted: UnsafeBufferPointer<Int32>) {
        guard awaitingSubacks.remove(mid) != nil else { return }
        if granted.contains(where: { $0 < 0 || $0 > 2 }) {
            subscribeFailed = true
            logger.error("MQTT broker refused a subscription", metadata: ["mqtt.granted_qos": "\(Array(granted))"])
        }
        let subscribed = awaitingSubacks.isEmpty && !subscribeFailed
        status.withLock { $0.subscribed = subscribed }
    }

    private func didReceive(_ message: mosquitto_message) {
        // libmosquitto frees topic and payload after this callback returns: copy both.
        let topic = message.topic.map { String(cString: $0) } ?? ""
        let payload: [UInt8]
        if let bytes = message.payload, message.payloadlen > 0 {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
        } else {
            payload = []
        }
        pending.append(MQTTMessage(topic: topic, payload: payload, qos: message.qos, retain: message.retain))
    }
}
