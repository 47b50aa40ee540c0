import CMosquitto
import CShennongIO
import Foundation
import Logging
import Synchronization

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
/// What is read, committing, held, lost or stopping is decided by an ``IngestLoop`` value; this
/// class is its driver: it feeds it events and performs what it answers.
///
/// Thread-safety invariant (why `@unchecked Sendable` is sound): the libmosquitto handle is only
/// driven — connect, reconnect, loop read/write/misc, disconnect — from the one thread inside
/// `run`, so every libmosquitto callback also runs on that thread and the callback state needs no
/// lock; the shim state `io` is attached to that thread only. The other methods only call
/// libmosquitto functions that lock internally in threaded mode (`mosquitto_publish`),
/// serialised against the first `mosquitto_connect` by `connectLock` (that call recreates
/// libmosquitto's internal wake-up socket pair), or touch state in a `Mutex` (`control`,
/// `session.status`) and the `stopSignal` semaphore. Commit jobs run on the ``CommitWorker``
/// thread and touch nothing of this object.
public final class MQTTIngestConnection: @unchecked Sendable {
    /// The configuration this connection was created with.
    public let configuration: MQTTConfiguration

    private let logger: Logger
    private let session: IngestSession
    private let mosq: OpaquePointer
    /// The shim state (buffered reads, captured writes) when bursts are pipelined; run thread only.
    private var io: OpaquePointer?

    private struct Control {
        var stopRequested = false
        var running = false
        /// `io != nil`, for other threads.
        var pipelined = false
    }

    private let control = Mutex(Control())
    /// Signalled by `stop()` to cut a back-off wait short.
    private let stopSignal = DispatchSemaphore(value: 0)

    /// Serialises `publish` against `mosquitto_connect` (see the invariant above).
    private let connectLock = Mutex(())
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
                let created = shennong_io_create(256 * 1024)
                io = created
                control.withLock { $0.pipelined = created != nil }
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
    public var isPipelined: Bool {
        control.withLock { $0.pipelined }
    }

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
        control.withLock { $0.stopRequested = true }
        stopSignal.signal()
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
        let rc = connectLock.withLock { _ in
            payload.withUnsafeBytes { bytes in
                mosquitto_publish(mosq, nil, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
            }
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
        let alreadyRunning = control.withLock { control in
            defer { control.running = true }
            return control.running
        }
        precondition(!alreadyRunning, "MQTTIngestConnection.run(maxBatch:dropped:prepare:) is already running")
        let worker = CommitWorker(name: "shennong-commit")
        if let io { shennong_io_attach(io) }
        defer {
            worker.shutdown()
            if io != nil { shennong_io_attach(nil) }
            control.withLock { $0.running = false }
        }

        var state = RunState(loop: IngestLoop(
            pipelined: io != nil, reconnectDelay: configuration.reconnectDelay, now: .now))
        while true {
            if !state.loop.isStopping && isStopRequested {
                state.loop.stopRequested()
            }
            switch state.loop.nextStep() {
            case .pause(let seconds):
                sleepUnlessStopped(seconds)
            case .awaitCommit:
                _ = perform(commitEnded(worker.waitOutcome(), &state.loop), job: nil, worker: worker, dropped: dropped, &state)
            case .connect:
                connect(&state)
            case .service:
                service(maxBatch: maxBatch, prepare: prepare, dropped: dropped, worker: worker, &state)
            case .finish(let flush):
                finish(flush: flush, &state)
                return
            }
        }
    }

    // MARK: - The driver (run thread only)

    /// What the run thread works on: the loop's state and the output held for it.
    private struct RunState {
        var loop: IngestLoop
        /// Captured output waiting for commits (pipelined mode).
        var held = HeldOutput()
        /// A connection was just opened: the first capture must hold its CONNECT (proof that
        /// libmosquitto writes through the shim).
        var verifyCapture = false
    }

    private var isStopRequested: Bool {
        control.withLock { $0.stopRequested }
    }

    /// Does what the loop decided, reporting the commits it waits for, until nothing is left to
    /// do. `job` is the commit job of the burst just read. Returns `false` when a failed commit
    /// dropped the connection.
    private func perform(
        _ action: IngestLoop.Action,
        job: CommitJob?,
        worker: CommitWorker,
        dropped: () -> Void,
        _ state: inout RunState
    ) -> Bool {
        var action = action
        var job = job
        while true {
            switch action {
            case .none:
                return true
            case .startCommit, .commitAndAwait:
                guard let next = job else {
                    preconditionFailure("IngestLoop started a commit without a burst read")
                }
                job = nil
                worker.submit(next)
                guard case .commitAndAwait = action else { return true }
                action = commitEnded(worker.waitOutcome(), &state.loop)
            case .awaitCommit:
                action = commitEnded(worker.waitOutcome(), &state.loop)
            case .dropConnection(let abandoned):
                if abandoned != nil {
                    dropped()
                }
                abandonConnection(&state)
                return false
            }
        }
    }

    /// Reports how the running commit ended (logging a failure); returns what the loop decides.
    private func commitEnded(_ outcome: Result<Void, any Error>?, _ loop: inout IngestLoop) -> IngestLoop.Action {
        guard let outcome else {
            preconditionFailure("IngestLoop waits for a commit the worker does not have")
        }
        if case .failure(let error) = outcome {
            logger.error(
                "Batch handler failed; dropping the connection without acknowledging so the broker redelivers",
                metadata: ["mqtt.batch": "\(loop.committing?.messages ?? 0)", "error": "\(error)"]
            )
            return loop.commitEnded(succeeded: false, at: .now)
        }
        return loop.commitEnded(succeeded: true, at: .now)
    }

    /// Opens a connection (or reopens it) and reports the result to the loop.
    private func connect(_ state: inout RunState) {
        // Whatever is held belongs to the old socket, whose number the new one may reuse.
        forgetShim(&state.held)
        if let failure = openConnection() {
            session.markDisconnected()
            noteOutage(failure, firstFailure: state.loop.connectFailed(at: .now))
            return
        }
        state.loop.connectionOpened()
        state.verifyCapture = io != nil
    }

    /// Starts a TCP connection and queues CONNECT; `nil` on success (CONNACK still to come).
    private func openConnection() -> MQTTError? {
        let rc: Int32
        let savedErrno: Int32
        if hostConfigured {
            rc = mosquitto_reconnect(mosq)
            savedErrno = errno
        } else {
            (rc, savedErrno) = connectLock.withLock { _ in
                let rc = mosquitto_connect(mosq, configuration.host, Int32(configuration.port), Int32(configuration.keepAlive))
                return (rc, errno)
            }
            // MOSQ_ERR_INVAL / NOMEM come from argument checks before host and port are stored.
            hostConfigured = rc != MosqCode.invalid && rc != MosqCode.noMemory
        }
        // Once host and port are stored, mosquitto__reconnect has run packet__cleanup_all, whether
        // or not it then connected: nothing queued on the old connection survives.
        if rc == MosqCode.success {
            if let io {
                shennong_io_set_socket(io, mosquitto_socket(mosq))
            }
            return nil
        }
        return MQTTError(mosquittoCode: rc, operation: "connect", systemErrno: savedErrno)
    }

    /// One poll, read burst, hand-over and write round on the open connection; a failure is
    /// reported to the loop, which decides what comes next.
    private func service(
        maxBatch: Int,
        prepare: ([MQTTMessage]) -> CommitJob,
        dropped: () -> Void,
        worker: CommitWorker,
        _ state: inout RunState
    ) {
        let fd = mosquitto_socket(mosq)
        guard fd >= 0 else {
            return lose(MQTTError(mosquittoCode: MosqCode.noConnection, operation: "poll"), &state)
        }
        if let io, shennong_io_socket(io) != fd {
            // The shim is not on this socket: never service a socket whose writes would not be held.
            return lose(MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "poll"), &state)
        }
        let buffered = io.map { shennong_io_buffered_input($0) > 0 } ?? false
        var events = Int16(POLLIN)
        if io == nil
            ? mosquitto_want_write(mosq) : state.held.hasSendable(committedThrough: state.loop.releasedThrough)
        {
            events |= Int16(POLLOUT)
        }
        var descriptors = (
            pollfd(fd: fd, events: events, revents: 0),
            pollfd(fd: worker.eventFD, events: Int16(POLLIN), revents: 0)
        )
        // Output libmosquitto queued since the last round (CONNECT right after a connect, a
        // publish()) is captured after this poll, and the broker answers nothing before it
        // leaves: do not sleep a poll timeout on it (a connection's first round used to wait
        // 100 ms for its own CONNECT).
        let queuedOutput = io != nil && mosquitto_want_write(mosq)
        let ready = withUnsafeMutableBytes(of: &descriptors) { raw in
            poll(
                raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2,
                buffered || queuedOutput ? 0 : pollTimeoutMilliseconds)
        }
        if ready > 0, descriptors.1.revents & Int16(POLLIN) != 0 {
            worker.drainEvent()
        }
        if let outcome = worker.takeOutcome() {
            guard perform(commitEnded(outcome, &state.loop), job: nil, worker: worker, dropped: dropped, &state) else { return }
        }
        let socket = descriptors.0.revents
        if ready > 0, socket & Int16(POLLNVAL) != 0 {
            return lose(MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "poll"), &state)
        }

        var readFailure: MQTTError?
        // Serial mode: a burst read now would queue its PUBACKs behind the committing burst's,
        // and libmosquitto writes its whole queue, so the loop lets nothing be read while one commits.
        let readable = buffered || (ready > 0 && socket & Int16(POLLIN | POLLERR | POLLHUP) != 0)
        if readable && state.loop.mayRead {
            readFailure = readBurst(fd: fd, maxBatch: maxBatch)
            if io != nil && readFailure == nil && !shimOnSocket() {
                readFailure = MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "read")
            }
            if readFailure != nil {
                // libmosquitto may have closed the socket: its number can be reused by the next
                // open() on this thread (a SQLite file in prepare), which the shim must not touch.
                forgetShim(&state.held)
            }
        }
        if session.connackAccepted {
            session.connackAccepted = false
            noteConnected(outage: state.loop.connected(at: .now))
        }

        if !session.pending.isEmpty {
            let batch = session.pending
            session.pending.removeAll(keepingCapacity: true)
            // Messages read just before a failure are still handed over (without an ack).
            let job = prepare(batch)
            let action = state.loop.burstRead(messages: batch.count)
            if let io, readFailure == nil {
                // Capture this burst's PUBACKs (and whatever was queued before them) now,
                // before anything else can be queued behind them.
                if captureQueued(io, waitingFor: state.loop.newestBurst, &state.held) == nil {
                    readFailure = MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "write")
                }
            }
            guard perform(action, job: job, worker: worker, dropped: dropped, &state) else { return }
        }
        if let readFailure {
            return lose(readFailure, &state)
        }
        if let io {
            if mosquitto_want_write(mosq) {
                guard let captured = captureQueued(io, waitingFor: state.loop.newestBurst, &state.held) else {
                    return lose(MQTTError(mosquittoCode: MosqCode.connectionLost, operation: "write"), &state)
                }
                if state.verifyCapture {
                    state.verifyCapture = false
                    if captured == 0 {
                        // CONNECT was queued, yet nothing was captured: libmosquitto does not
                        // write through the shim. It wrote CONNECT itself (harmless); from now
                        // on commit one burst at a time and let libmosquitto write.
                        logger.error("CShennongIO shim did not capture libmosquitto's CONNECT; committing one burst at a time")
                        shennong_io_set_socket(io, -1)
                        shennong_io_attach(nil)
                        shennong_io_destroy(io)
                        self.io = nil
                        control.withLock { $0.pipelined = false }
                        state.loop.stopPipelining()
                        return
                    }
                }
            }
            if let error = state.held.send(to: fd, committedThrough: state.loop.releasedThrough) {
                return lose(MQTTError(mosquittoCode: MosqCode.errno, operation: "write", systemErrno: error), &state)
            }
        } else if mosquitto_want_write(mosq), let failure = writeQueued() {
            // Serial mode, between bursts: nothing uncommitted is queued, so whatever is (PUBACKs
            // of committed bursts, PINGREQ, SUBSCRIBE, CONNECT, publish()) may leave.
            return lose(failure, &state)
        }
        _ = mosquitto_loop_misc(mosq)
        if mosquitto_socket(mosq) < 0 {
            // mosquitto_loop_misc closes the socket when the broker missed a keep-alive PINGRESP.
            return lose(MQTTError(mosquittoCode: MosqCode.keepalive, operation: "keep-alive"), &state)
        }
    }

    /// Lets libmosquitto write its queue — into the shim — and holds the bytes until `burst`
    /// is committed. Returns how many bytes were captured, or `nil` when libmosquitto closed
    /// the socket meanwhile (the shim has then let go of it and nothing held will be sent).
    private func captureQueued(_ io: OpaquePointer, waitingFor burst: UInt64, _ held: inout HeldOutput) -> Int? {
        _ = mosquitto_loop_write(mosq, 1)
        guard shimOnSocket() else {
            forgetShim(&held)
            return nil
        }
        return held.capture(from: io, waitingFor: burst)
    }

    /// Whether the shim still buffers and captures the socket libmosquitto has open.
    private func shimOnSocket() -> Bool {
        guard let io else { return true }
        let fd = mosquitto_socket(mosq)
        return fd >= 0 && shennong_io_socket(io) == fd
    }

    /// The connection is gone or unusable: the shim lets go of its socket number (which the
    /// next open() may reuse) and nothing held is ever sent.
    private func forgetShim(_ held: inout HeldOutput) {
        held.discard()
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

    /// The connection failed: nothing held leaves, and the loop pauses before it reconnects.
    private func lose(_ failure: MQTTError, _ state: inout RunState) {
        forgetShim(&state.held)
        session.markDisconnected()
        noteOutage(failure, firstFailure: state.loop.connectionLost(at: .now))
    }

    /// After a failed commit: shuts the socket down without writing anything; what the shim
    /// holds is forgotten and the queued PUBACKs are discarded by the `mosquitto_reconnect` that
    /// follows the back-off.
    private func abandonConnection(_ state: inout RunState) {
        let fd = mosquitto_socket(mosq)
        if fd >= 0 {
            _ = shutdown(fd, Int32(SHUT_RDWR))
        }
        forgetShim(&state.held)
        session.markDisconnected()
    }

    /// Logs a connection accepted by the broker: `outage` is how long the connection was down,
    /// `nil` for the first one.
    private func noteConnected(outage: Duration?) {
        if let outage {
            logger.info("MQTT connection restored", metadata: ["mqtt.outage_seconds": "\(String(format: "%.1f", outage.inSeconds))"])
        } else {
            logger.info("MQTT connected", metadata: ["mqtt.pipelined": "\(io != nil)"])
        }
    }

    /// Logs a failed connect or a lost connection: a warning for the outage's first failure.
    private func noteOutage(_ failure: MQTTError, firstFailure: Bool) {
        if firstFailure {
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
        guard !isStopRequested else { return }
        // stop() signals after setting the flag: a stop since the check ends this wait at once.
        _ = stopSignal.wait(timeout: .now() + seconds)
    }

    /// After `stop()`, once no commit runs: when `flush` (the last commit succeeded on a live
    /// connection), sends everything held, then DISCONNECT, and closes.
    private func finish(flush: Bool, _ state: inout RunState) {
        defer {
            session.markDisconnected()
            logger.info("MQTT ingest stopped")
        }
        guard flush, mosquitto_socket(mosq) >= 0 else {
            return
        }
        let deadline = ContinuousClock.now + .seconds(2)
        if let io {
            // Everything is committed: send what is held, then stop capturing, because
            // libmosquitto closes the socket as soon as it has written DISCONNECT.
            if !shimOnSocket() {
                forgetShim(&state.held)
            } else if mosquitto_want_write(mosq) {
                _ = captureQueued(io, waitingFor: state.loop.newestBurst, &state.held)
            }
            while !state.held.isEmpty, ContinuousClock.now < deadline {
                let fd = mosquitto_socket(mosq)
                guard fd >= 0, state.held.send(to: fd, committedThrough: state.loop.releasedThrough) == nil else { break }
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
