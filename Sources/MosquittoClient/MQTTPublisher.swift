import CMosquitto
import Foundation
import Logging
import Synchronization

/// A plain publishing client (simulator, tests, tools) driven by libmosquitto's own thread.
///
/// ``connect(timeout:)`` waits for the CONNACK; afterwards libmosquitto's network thread
/// (`mosquitto_loop_start`) sends, receives PUBACKs and reconnects by itself (1 s doubling to
/// 10 s). ``publish(topic:payload:qos:retain:)`` applies back-pressure: it blocks while
/// `maxUnacknowledged` messages are still waiting for their PUBACK, so memory stays bounded
/// however many messages are sent. ``waitUntilAcknowledged(timeout:)`` waits for every PUBACK.
/// Subscriptions in the configuration are ignored; the will and birth messages are used.
///
/// Thread-safety invariant (why `@unchecked Sendable` is sound): after ``connect(timeout:)`` the
/// handle is driven only by libmosquitto's thread; callers only use functions libmosquitto
/// locks internally in threaded mode (`mosquitto_publish`, `mosquitto_disconnect`), and
/// `connect`/`disconnect` are serialised by `lifecycle` (a `Mutex` around whether the network
/// thread runs). Counters live behind an `NSCondition`, which `publish`, `connect` and
/// `waitUntilAcknowledged` wait on.
public final class MQTTPublisher: @unchecked Sendable {
    /// The configuration this publisher was created with.
    public let configuration: MQTTConfiguration
    /// The most messages that may wait for their PUBACK before `publish` blocks.
    public let maxUnacknowledged: Int
    /// How long `publish` waits for room before throwing a timeout error.
    public let backPressureTimeout: Duration

    private let logger: Logger
    private let state: PublisherState
    private let mosq: OpaquePointer
    /// Whether libmosquitto's network thread runs; held for the whole of `connect`/`disconnect`.
    private let lifecycle = Mutex(false)

    /// Creates the client; nothing is sent before ``connect(timeout:)``.
    ///
    /// - Parameters:
    ///   - maxUnacknowledged: back-pressure bound on messages awaiting their PUBACK.
    ///   - backPressureTimeout: how long `publish` may block on that bound before it throws.
    /// - Throws: ``MQTTError`` when libmosquitto rejects the configuration.
    public init(
        configuration: MQTTConfiguration,
        maxUnacknowledged: Int = 1000,
        backPressureTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "shennong.mqtt.publisher")
    ) throws {
        precondition(maxUnacknowledged > 0, "maxUnacknowledged must be positive")
        var logger = logger
        logger[metadataKey: "mqtt.broker"] = "\(configuration.host):\(configuration.port)"
        logger[metadataKey: "mqtt.client_id"] = "\(configuration.clientID)"
        self.configuration = configuration
        self.maxUnacknowledged = maxUnacknowledged
        self.backPressureTimeout = backPressureTimeout
        self.logger = logger
        let state = PublisherState(configuration: configuration, logger: logger)
        self.state = state
        let mosq = try configuration.makeHandle(userData: Unmanaged.passUnretained(state).toOpaque())
        let minimum = max(1, UInt32(configuration.reconnectDelay.minimum.inSeconds.rounded(.up)))
        let maximum = max(minimum, UInt32(configuration.reconnectDelay.maximum.inSeconds.rounded(.up)))
        _ = mosquitto_reconnect_delay_set(mosq, minimum, maximum, true)
        PublisherState.installCallbacks(on: mosq, forwardLog: MosquittoLog.wanted(by: logger))
        self.mosq = mosq
    }

    deinit {
        disconnect()
        mosquitto_destroy(mosq)
    }

    /// Whether the broker has accepted the connection and it has not dropped since.
    public var isConnected: Bool {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.connected
    }

    /// Messages handed to libmosquitto so far (birth messages included).
    public var publishedCount: Int {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.published
    }

    /// Messages the broker has acknowledged (QoS 1/2) or that were written (QoS 0).
    public var acknowledgedCount: Int {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.acknowledged
    }

    /// Connects and waits for the broker's CONNACK; then starts libmosquitto's network thread.
    ///
    /// Calling it while connected does nothing.
    /// - Throws: ``MQTTError``: the TCP connection failed, the broker refused (with
    ///   `connackCode`), or no CONNACK came within `timeout` (`MOSQ_ERR_TIMEOUT`).
    public func connect(timeout: Duration = .seconds(10)) throws {
        try lifecycle.withLock { loopStarted in
            try connect(timeout: timeout, loopStarted: &loopStarted)
        }
    }

    private func connect(timeout: Duration, loopStarted: inout Bool) throws {
        if loopStarted {
            return
        }
        state.condition.lock()
        state.connackRefusal = nil
        state.connected = false
        state.condition.unlock()

        let rc = mosquitto_connect(mosq, configuration.host, Int32(configuration.port), Int32(configuration.keepAlive))
        try MQTTError.check(rc, "connect to \(configuration.host):\(configuration.port)")
        try MQTTError.check(mosquitto_loop_start(mosq), "start network thread")
        loopStarted = true

        let deadline = Date(timeIntervalSinceNow: timeout.inSeconds)
        state.condition.lock()
        while !state.connected && state.connackRefusal == nil {
            if !state.condition.wait(until: deadline) {
                break
            }
        }
        let connected = state.connected
        let refusal = state.connackRefusal
        state.condition.unlock()
        if connected {
            return
        }
        stopLoop(&loopStarted)
        if let refusal {
            throw MQTTError(mosquittoCode: MosqCode.connectionRefused, operation: "connect", connackCode: refusal)
        }
        throw MQTTError(
            code: MosqCode.timeout, operation: "connect",
            message: "No CONNACK from \(configuration.host):\(configuration.port) within \(timeout)."
        )
    }

    /// Publishes one message; blocks while `maxUnacknowledged` messages await their PUBACK.
    ///
    /// QoS 1 messages are kept by libmosquitto until acknowledged, also while it reconnects,
    /// and resent after a reconnect.
    /// - Throws: ``MQTTError`` when libmosquitto refuses the message, or `MOSQ_ERR_TIMEOUT` when
    ///   there was no room for `backPressureTimeout`.
    public func publish(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) throws {
        let deadline = Date(timeIntervalSinceNow: backPressureTimeout.inSeconds)
        state.condition.lock()
        while state.published - state.acknowledged >= maxUnacknowledged {
            if !state.condition.wait(until: deadline) {
                let waiting = state.published - state.acknowledged
                state.condition.unlock()
                throw MQTTError(
                    code: MosqCode.timeout, operation: "publish to '\(topic)'",
                    message: "\(waiting) messages still unacknowledged after \(backPressureTimeout)."
                )
            }
        }
        // Count before handing over, so that an early PUBACK never overtakes the count.
        state.published += 1
        state.condition.unlock()

        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish(mosq, nil, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
        }
        let savedErrno = errno
        // libmosquitto 2.0 queues a QoS > 0 message and then reports MOSQ_ERR_NO_CONN while it is
        // reconnecting; the message is sent (and counted as acknowledged) after the CONNACK.
        if rc != MosqCode.success && !(rc == MosqCode.noConnection && qos > 0) {
            state.condition.lock()
            state.published -= 1
            state.condition.broadcast()
            state.condition.unlock()
            throw MQTTError(mosquittoCode: rc, operation: "publish to '\(topic)'", systemErrno: savedErrno)
        }
    }

    /// Waits until every message published so far has been acknowledged; `false` on timeout.
    public func waitUntilAcknowledged(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.inSeconds)
        state.condition.lock()
        defer { state.condition.unlock() }
        while state.acknowledged < state.published {
            if !state.condition.wait(until: deadline) {
                return state.acknowledged >= state.published
            }
        }
        return true
    }

    /// Sends DISCONNECT (no will is published) and stops the network thread; idempotent.
    ///
    /// Messages not yet acknowledged are abandoned: call ``waitUntilAcknowledged(timeout:)`` first.
    public func disconnect() {
        lifecycle.withLock { stopLoop(&$0) }
    }

    /// `loopStarted` is `lifecycle`'s value: requires it to be held.
    private func stopLoop(_ loopStarted: inout Bool) {
        guard loopStarted else { return }
        _ = mosquitto_disconnect(mosq)
        _ = mosquitto_loop_stop(mosq, false)
        loopStarted = false
        state.condition.lock()
        state.connected = false
        state.condition.broadcast()
        state.condition.unlock()
    }
}

/// What the libmosquitto callbacks of one ``MQTTPublisher`` work on; every field behind `condition`.
final class PublisherState {
    let configuration: MQTTConfiguration
    let logger: Logger
    let condition = NSCondition()
    var connected = false
    var connackRefusal: Int32?
    var published = 0
    var acknowledged = 0

    init(configuration: MQTTConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    static func installCallbacks(on mosq: OpaquePointer, forwardLog: Bool) {
        mosquitto_connect_callback_set(mosq) { mosq, obj, rc in
            guard let mosq, let obj else { return }
            Unmanaged<PublisherState>.fromOpaque(obj).takeUnretainedValue().didConnect(mosq, rc: rc)
        }
        mosquitto_disconnect_callback_set(mosq) { _, obj, rc in
            guard let obj else { return }
            Unmanaged<PublisherState>.fromOpaque(obj).takeUnretainedValue().didDisconnect(rc: rc)
        }
        mosquitto_publish_callback_set(mosq) { _, obj, _ in
            guard let obj else { return }
            let state = Unmanaged<PublisherState>.fromOpaque(obj).takeUnretainedValue()
            state.condition.lock()
            state.acknowledged += 1
            state.condition.broadcast()
            state.condition.unlock()
        }
        if forwardLog {
            mosquitto_log_callback_set(mosq) { _, obj, level, text in
                guard let obj else { return }
                MosquittoLog.forward(Unmanaged<PublisherState>.fromOpaque(obj).takeUnretainedValue().logger, level: level, text: text)
            }
        }
    }

    private func didConnect(_ mosq: OpaquePointer, rc: Int32) {
        condition.lock()
        if rc == 0 {
            connected = true
            connackRefusal = nil
        } else {
            connackRefusal = rc
        }
        condition.broadcast()
        condition.unlock()
        guard rc == 0 else {
            logger.warning("MQTT broker refused the connection", metadata: [
                "error": "\(MQTTError(mosquittoCode: MosqCode.connectionRefused, operation: "connect", connackCode: rc))",
            ])
            return
        }
        if let birth = configuration.birth {
            condition.lock()
            published += 1
            condition.unlock()
            let result = birth.payload.withUnsafeBytes { bytes in
                mosquitto_publish(mosq, nil, birth.topic, Int32(bytes.count), bytes.baseAddress, 1, birth.retain)
            }
            if result != MosqCode.success {
                condition.lock()
                published -= 1
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    private func didDisconnect(rc: Int32) {
        condition.lock()
        let wasConnected = connected
        connected = false
        condition.broadcast()
        condition.unlock()
        if wasConnected && rc != 0 {
            logger.warning("MQTT publisher lost its connection; libmosquitto reconnects", metadata: [
                "error": "\(MQTTError(mosquittoCode: rc, operation: "connection"))",
            ])
        }
    }
}
