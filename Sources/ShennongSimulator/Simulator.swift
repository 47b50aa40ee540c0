import Foundation
import Logging
import MosquittoClient
import ServiceLifecycle
import ShennongCore
import ShennongIngest

/// Publishes simulated telemetry for N devices at R messages per second (all devices
/// together), QoS 1, payload form 1, through libmosquitto.
public final class Simulator: Service, Sendable {
    /// What to publish and how fast.
    public struct Options: Sendable {
        /// Simulated devices (steady model; ignored by a scenario).
        public var devices: Int
        /// Messages per second, all devices together.
        public var rate: Double
        /// The seed of the ``SimulationModel`` or the scenario.
        public var seed: UInt64
        /// Stop after this many messages (nil: until shutdown).
        public var count: Int?
        /// Stop after this long (nil: until shutdown).
        public var duration: Duration?
        /// The MQTT topic prefix (`agri`).
        public var topicPrefix: String
        /// Play this scripted episode (its own devices and timestamps) instead of the steady model.
        public var scenario: Scenario?
        /// Publish nothing until this holds (checked every 50 ms, at most 30 s): inside `serve`,
        /// until the server's own ingest is subscribed, so that the first messages of a fresh
        /// broker are not published to nobody.
        public var ready: (@Sendable () -> Bool)? = nil

        /// Options for `devices` devices at `rate` messages per second.
        public init(
            devices: Int, rate: Double, seed: UInt64 = 1, count: Int? = nil, duration: Duration? = nil, topicPrefix: String = "agri",
            scenario: Scenario? = nil
        ) {
            self.scenario = scenario
            self.devices = devices
            self.rate = rate
            self.seed = seed
            self.count = count
            self.duration = duration
            self.topicPrefix = topicPrefix
        }

        /// The devices to register before publishing: the scenario's, else every simulated
        /// device of the steady model with its site, Chinese name and place (``DemoCounty``).
        /// `createdAt` is 0 (see ``Simulator/registrations(for:at:existing:)``).
        public var registrations: [Device] {
            scenario?.registrations ?? SimulationModel.devices(count: devices).map(\.registration)
        }
    }

    /// What `shennong serve` registers before its simulator publishes: the devices of
    /// `options`, stamped `createdAt`, except those `existing(id)` finds registered by
    /// somebody. One the ingest auto-registered earlier (the same profile and no site, name
    /// or coordinates: an older demo database) is returned too, so that it is completed.
    public static func registrations(
        for options: Options, at createdAt: Int64, existing: (String) throws -> Device?
    ) rethrows -> [Device] {
        try options.registrations.compactMap { device in
            if let old = try existing(device.id),
                old.profile != device.profile || old.site != nil || old.name != nil || old.latitude != nil
                    || old.longitude != nil
            {
                return nil
            }
            var device = device
            device.createdAt = createdAt
            return device
        }
    }

    let options: Options
    let mqtt: MQTTConfiguration
    let logger: Logger
    /// Stamps the readings (a scenario's last reading is now).
    let clock: WallClock

    /// A simulator publishing through a libmosquitto client configured by `mqtt`, stamping
    /// readings with `clock`'s time.
    public init(options: Options, mqtt: MQTTConfiguration, clock: WallClock = .system, logger: Logger) {
        self.clock = clock
        self.options = options
        self.mqtt = mqtt
        self.logger = logger
    }

    /// Publishes until the count or duration is reached, or shutdown. Returns messages published.
    @discardableResult
    public func publishAll() async throws -> Int {
        if let ready = options.ready {
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while !ready(), clock.now < deadline, !Task.isCancelled, !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        if let scenario = options.scenario { return try await play(scenario) }
        let devices = SimulationModel.devices(count: options.devices)
        guard !devices.isEmpty, options.rate > 0 else { return 0 }
        let model = SimulationModel(seed: options.seed)
        let topics = TopicScheme(prefix: options.topicPrefix)
        let publisher = try MQTTPublisher(configuration: mqtt, logger: logger)
        try await connectWithRetry(publisher)
        defer { publisher.disconnect() }
        let clock = ContinuousClock()
        let start = clock.now
        let period = Duration.seconds(1.0 / options.rate)
        // Each device reports once per round of all devices.
        let interval = Int64(Double(devices.count) / options.rate * 1000)
        var sent = 0
        logger.info(
            "simulating", metadata: ["devices": "\(devices.count)", "rate": "\(options.rate)/s", "seed": "\(options.seed)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let count = options.count, sent >= count { break }
            if let duration = options.duration, clock.now - start >= duration { break }
            let device = devices[sent % devices.count]
            let now = self.clock.now()
            let values = model.values(for: device, at: now, interval: interval)
            try publisher.publish(
                topic: topics.telemetry(device.id), payload: Self.payload(ts: now, values: values), qos: 1, retain: false)
            sent += 1
            let next = start + period * sent
            if next > clock.now { try? await Task.sleep(until: next, clock: clock) }
        }
        _ = publisher.waitUntilAcknowledged(timeout: .seconds(10))
        logger.info("simulator stopped", metadata: ["published": "\(sent)"])
        return sent
    }

    /// Publishes the scenario's script at `rate` messages per second; its last reading is
    /// stamped with the time the playing starts.
    private func play(_ scenario: Scenario) async throws -> Int {
        let now = self.clock.now()
        let script = scenario.messages(seed: options.seed, end: now)
        let topics = TopicScheme(prefix: options.topicPrefix)
        let publisher = try MQTTPublisher(configuration: mqtt, logger: logger)
        try await connectWithRetry(publisher)
        defer { publisher.disconnect() }
        logger.info("playing scenario", metadata: ["scenario": "\(scenario.rawValue)", "messages": "\(script.count)", "seed": "\(options.seed)"])
        let clock = ContinuousClock()
        let start = clock.now
        // The aerator scenario's history is played at once; its live part keeps the rate.
        let period = scenario == .aerator ? Duration.milliseconds(5) : Duration.seconds(1.0 / max(options.rate, 0.001))
        var sent = 0
        for message in script {
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            if let count = options.count, sent >= count { break }
            let topic = message.topic == .status ? topics.status(message.device) : topics.telemetry(message.device)
            try publisher.publish(topic: topic, payload: message.bytes, qos: 1, retain: message.retain)
            sent += 1
            let next = start + period * sent
            if next > clock.now { try? await Task.sleep(until: next, clock: clock) }
        }
        if scenario == .aerator {
            sent = try await runAerator(
                publisher: publisher, topics: topics, seed: options.seed, rate: options.rate, count: options.count,
                duration: options.duration, alreadySent: sent)
        }
        _ = publisher.waitUntilAcknowledged(timeout: .seconds(10))
        logger.info("scenario played", metadata: ["scenario": "\(scenario.rawValue)", "published": "\(sent)"])
        return sent
    }

    /// ``publishAll()`` as a service: ends when the count or duration is reached, or at shutdown.
    public func run() async throws {
        try await publishAll()
    }

    private func connectWithRetry(_ publisher: MQTTPublisher) async throws {
        var delay = Duration.milliseconds(200)
        while true {
            do {
                try publisher.connect()
                return
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { throw error }
                logger.warning("simulator cannot reach the broker yet; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Payload form 1: `{"ts": ms, "values": {...}}` with keys sorted.
    public static func payload(ts: Int64, values: [String: Double]) -> [UInt8] {
        var text = "{\"ts\":\(ts),\"values\":{"
        for (i, key) in values.keys.sorted().enumerated() {
            if i > 0 { text += "," }
            text += "\"\(key)\":\(values[key]!)"
        }
        text += "}}"
        return Array(text.utf8)
    }
}
