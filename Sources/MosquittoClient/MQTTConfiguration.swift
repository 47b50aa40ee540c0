import CMosquitto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How to reach the broker and what to do on every (re)connect.
///
/// The defaults suit Shennong's ingest: MQTT 3.1.1, persistent session (`cleanSession = false`)
/// with a fixed `clientID`, QoS 1 subscriptions, keep-alive 30 s and a reconnect back-off from
/// 0.2 s doubling to 10 s.
public struct MQTTConfiguration: Sendable, Hashable {
    /// TLS settings; passed to `mosquitto_tls_set`.
    public struct TLSOptions: Sendable, Hashable {
        /// PEM file with the CA certificate(s) that sign the broker's certificate.
        public var caFile: String
        /// PEM client certificate, for brokers that require one (needs `keyFile` too).
        public var certFile: String?
        /// PEM private key for `certFile`.
        public var keyFile: String?
        /// Skip the host-name check of the broker certificate. Only for testing.
        public var insecure: Bool
        /// The TLS version to use, `tlsv1.2` or `tlsv1.3` (`mosquitto_tls_opts_set`); `nil`
        /// keeps libmosquitto's default (TLS 1.2 or later).
        public var version: String?

        public init(
            caFile: String, certFile: String? = nil, keyFile: String? = nil, insecure: Bool = false, version: String? = nil
        ) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.insecure = insecure
            self.version = version
        }
    }

    /// The last-will message the broker publishes when the connection drops without DISCONNECT.
    public struct Will: Sendable, Hashable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: Int32
        public var retain: Bool

        public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = true) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
        }
    }

    /// A message published (QoS 1) after every successful CONNACK, typically retained `online`.
    public struct Birth: Sendable, Hashable {
        public var topic: String
        public var payload: [UInt8]
        public var retain: Bool

        public init(topic: String, payload: [UInt8], retain: Bool = true) {
            self.topic = topic
            self.payload = payload
            self.retain = retain
        }
    }

    /// A topic filter to subscribe to after every successful CONNACK.
    public struct Subscription: Sendable, Hashable {
        public var topic: String
        public var qos: Int32

        public init(topic: String, qos: Int32 = 1) {
            self.topic = topic
            self.qos = qos
        }
    }

    /// Exponential back-off between connection attempts: `minimum`, doubling up to `maximum`.
    public struct ReconnectDelay: Sendable, Hashable {
        public var minimum: Duration
        public var maximum: Duration

        public init(minimum: Duration = .milliseconds(200), maximum: Duration = .seconds(10)) {
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    /// Broker host name or address.
    public var host: String
    /// Broker TCP port (1883 plain, usually 8883 with TLS).
    public var port: Int
    /// Client identifier; must be fixed for a persistent session.
    public var clientID: String
    public var username: String?
    public var password: String?
    public var tls: TLSOptions?
    /// Keep-alive in seconds (libmosquitto requires at least 5).
    public var keepAlive: Int
    /// `false` keeps the broker-side session (subscriptions and unacknowledged messages) across
    /// disconnects, which is what makes ack-after-commit lose nothing.
    public var cleanSession: Bool
    public var will: Will?
    public var birth: Birth?
    public var reconnectDelay: ReconnectDelay
    /// Subscribed after every successful CONNACK.
    public var subscriptions: [Subscription]
    /// Outgoing QoS 1/2 messages in flight at once (`mosquitto_max_inflight_messages_set`);
    /// `nil` keeps libmosquitto's default of 20.
    public var maxInflight: Int?

    public init(
        host: String = "127.0.0.1",
        port: Int = 1883,
        clientID: String,
        username: String? = nil,
        password: String? = nil,
        tls: TLSOptions? = nil,
        keepAlive: Int = 30,
        cleanSession: Bool = false,
        will: Will? = nil,
        birth: Birth? = nil,
        reconnectDelay: ReconnectDelay = ReconnectDelay(),
        subscriptions: [Subscription] = [],
        maxInflight: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.tls = tls
        self.keepAlive = keepAlive
        self.cleanSession = cleanSession
        self.will = will
        self.birth = birth
        self.reconnectDelay = reconnectDelay
        self.subscriptions = subscriptions
        self.maxInflight = maxInflight
    }
}

extension MQTTConfiguration {
    /// Creates a libmosquitto handle with these options applied; the caller owns (destroys) it.
    func makeHandle(userData: UnsafeMutableRawPointer) throws -> OpaquePointer {
        MosquittoLibrary.initialize()
        guard let mosq = mosquitto_new(clientID, cleanSession, userData) else {
            // mosquitto_new sets errno: EINVAL (e.g. empty id with cleanSession false) or ENOMEM.
            let code = errno == ENOMEM ? MosqCode.noMemory : MosqCode.invalid
            throw MQTTError(mosquittoCode: code, operation: "create client '\(clientID)'")
        }
        do {
            try apply(to: mosq)
        } catch {
            mosquitto_destroy(mosq)
            throw error
        }
        return mosq
    }

    private func apply(to mosq: OpaquePointer) throws {
        guard (5...65535).contains(keepAlive) else {
            throw MQTTError(mosquittoCode: MosqCode.invalid, operation: "configure keep-alive \(keepAlive) s (5...65535)")
        }
        guard (1...65535).contains(port) else {
            throw MQTTError(mosquittoCode: MosqCode.invalid, operation: "configure port \(port)")
        }
        if username != nil || password != nil {
            try MQTTError.check(mosquitto_username_pw_set(mosq, username, password), "set username/password")
        }
        if let tls {
            try MQTTError.check(mosquitto_tls_set(mosq, tls.caFile, nil, tls.certFile, tls.keyFile, nil),
                                "configure TLS (ca \(tls.caFile))")
            // Always verify the broker's certificate (SSL_VERIFY_PEER); optionally pin the version.
            try MQTTError.check(mosquitto_tls_opts_set(mosq, 1, tls.version, nil),
                                "configure TLS options (version \(tls.version ?? "default"))")
            if tls.insecure {
                try MQTTError.check(mosquitto_tls_insecure_set(mosq, true), "configure TLS insecure mode")
            }
        }
        if let will {
            let rc = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(mosq, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos, will.retain)
            }
            try MQTTError.check(rc, "set will on '\(will.topic)'")
        }
        if let maxInflight {
            try MQTTError.check(mosquitto_max_inflight_messages_set(mosq, UInt32(max(0, maxInflight))),
                                "set max inflight \(maxInflight)")
        }
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
