import Foundation
import Logging
import MosquittoClient
import Prometheus
import ServiceLifecycle
import ShennongCore
import ShennongForward
import ShennongHTTP
import ShennongIngest
import ShennongSimulator
import ShennongStore

/// Composition of `shennong serve`: the embedded broker (if configured), MQTT ingest, HTTP
/// and optionally the simulator, as services of one `ServiceGroup`.
///
/// SIGTERM or SIGINT shut down in reverse order: the simulator stops, HTTP stops accepting,
/// ingest commits and acknowledges the burst in hand, then the embedded broker stops.
public enum ShennongServer {
    public static func run(config: ServerConfig, registry: PrometheusCollectorRegistry?, logger: Logger) async throws {
        MosquittoLibrary.initialize()
        let profiles = try ProfileRegistry.load(directory: config.profilesDir)
        guard profiles[config.ingest.defaultProfile] != nil else {
            throw ConfigError("ingest.default_profile \(config.ingest.defaultProfile) is not a profile in \(config.profilesDir)")
        }
        // The one clock of the server, handed to whatever reads the time.
        let clock = WallClock.system
        let store = try openStore(config: config, clock: clock, logger: logger)
        logger.info("database open", metadata: ["location": "\(store.location)", "profiles": "\(profiles.count)"])

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var brokerHost = config.mqtt.host
        var brokerPort = config.mqtt.port
        if config.mqtt.isEmbedded {
            let broker = EmbeddedBroker(
                port: config.mqtt.embedded.port, dataDir: config.mqtt.embedded.dataDir,
                executable: config.mqtt.embedded.executable, logger: logger)
            try broker.start()
            services.append(.init(service: broker))
            brokerHost = "127.0.0.1"
            brokerPort = broker.port
        }
        let host = brokerHost
        let port = brokerPort
        let topics = TopicScheme(prefix: config.mqtt.topicPrefix)
        let mqtt = mqttConfiguration(config.mqtt, host: host, port: port, clientID: config.mqtt.clientID,
                                     subscriptions: topics.subscriptions)
        // Device commands first: the rules' actions send through them (ShennongServer+Commands.swift).
        let commands = try makeCommands(config: config, store: store, profiles: profiles, host: host, port: port, logger: logger)
        let rules = try makeRules(
            config: config, store: store, profiles: profiles,
            mqtt: mqttConfiguration(config.mqtt, host: host, port: port, clientID: alertsClientID(config: config, store: store),
                                    subscriptions: []),
            automation: commands.automation, logger: logger)
        // Leader-only services start once this node holds the lease (ShennongServer+Leadership.swift).
        let (leadership, leadershipServices) = makeLeadership(config: config, store: store, rules: rules, clock: clock, logger: logger)
        services += leadershipServices
        // One watch over the data seals for the trace pages and the dashboard (one background check).
        let seals = config.trace.enabled || config.dashboard.enabled ? try sealWatch(config: config, store: store) : nil
        let trace = try makeTrace(config: config, store: store, seals: seals, ruleName: rules.ruleName, logger: logger)
        if let center = commands.center, let notify = rules.alertNotify {
            center.setNotify { notices in notices.forEach(notify) }
        }
        let dashboard = try makeDashboard(
            config: config, store: store, seals: seals, profiles: profiles, notify: rules.alertNotify ?? { _ in },
            indexStatuses: rules.indexStatuses, logger: logger)
        // The dashboard's device controls, in the dashboard's session (DashboardControls.swift).
        let controls: [any RouteGroup] = commands.center.flatMap { center in
            dashboard.routes.lazy.compactMap { $0 as? DashboardPages }.first.map {
                [DashboardControls(pages: $0, center: center, automation: commands.automation)]
            }
        } ?? []
        // Forwarding upstream (ShennongServer+Forward.swift): made before ingest runs, beside it.
        let forwarder = makeForwarder(config: config, store: store, logger: logger)
        // The map: GeoJSON for GIS, and the dashboard's SVG map (ShennongServer+Map.swift).
        let map = try makeMap(config: config, store: store, profiles: profiles, dashboard: dashboard.routes, logger: logger)
        let pipeline = IngestPipeline(
            store: store, profiles: profiles, topics: topics, options: config.ingest.options,
            observer: rules.ingestObserver, clock: clock, logger: logger)
        let ingest = try MQTTIngestService(configuration: mqtt, pipeline: pipeline, logger: logger)
        services.append(leadership.gate(ingest))
        // Forwarding follows what the leader commits: one forwarder per database.
        if let forwarder { services.append(leadership.gate(forwarder)) }
        if let interval = config.storage.maintenanceInterval {
            services.append(
                leadership.gate(StoreMaintenanceService(store: store, interval: .milliseconds(interval), logger: logger)))
        }

        let portFile = config.http.portFile
        let app = ShennongHTTPServer.makeApplication(
            host: config.http.host, port: config.http.port, store: store, registry: registry,
            profiles: { profiles },
            health: {
                leadership.health(HealthReport(
                    mqttConnected: ingest.isConnected, storageError: pipeline.storageError,
                    details: ["broker": "\(host):\(port)"].merging(forwarder?.health() ?? [:]) { a, _ in a }))
            },
            routes: rules.routes + trace.routes + dashboard.routes + commands.wiring.routes + controls + map,
            rateLimit: config.http.rateLimit,
            // Through the ingest pipeline itself, in turn with the ingest thread's bursts (see
            // IngestPipeline.replayRejects): the rules see the replayed readings as a late burst.
            replayRejects: { request in
                try leadership.requireLeading()
                return try pipeline.replayRejects(request, from: store)
            },
            offsetMinutes: config.localOffsetMinutes,
            logger: logger,
            onRunning: { bound in
                logger.info("HTTP listening", metadata: ["address": "\(config.http.host):\(bound)"])
                if let portFile {
                    try? "\(bound)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
                }
            })
        services.append(.init(service: app))
        services += leadership.gate(rules.services) + trace.services + leadership.gate(commands.wiring.services)

        if config.simulator.enabled {
            var options = Simulator.Options(
                devices: config.simulator.devices, rate: config.simulator.rate, seed: config.simulator.seed,
                topicPrefix: config.mqtt.topicPrefix, scenario: config.simulator.scenario.flatMap(Scenario.init(rawValue:)))
            // Its devices with their profiles, sites, names and places (a gauge's stages).
            let simulated = try Simulator.registrations(for: options, at: clock.now()) { try store.device(id: $0) }
            if !simulated.isEmpty {
                try store.upsertDevices(simulated)
                logger.info("registered the simulated devices", metadata: ["devices": "\(simulated.count)"])
            }
            options.ready = { ingest.isSubscribed }
            let simulator = Simulator(
                options: options,
                mqtt: mqttConfiguration(config.mqtt, host: host, port: port, clientID: "shennong-simulator", subscriptions: []),
                clock: clock, logger: logger)
            services.append(.init(service: simulator, successTerminationBehavior: .ignore))
        }
        if config.simulator.aeratorPonds && config.simulator.scenario != Scenario.aerator.rawValue {
            services += try aeratorPonds(config: config, store: store, host: host, port: port, ready: { ingest.isSubscribed }, clock: clock, logger: logger)
        }

        var groupConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A bounded drain: past shutdown_timeout_seconds the services are cancelled (ingest
        // then stops after the burst in hand), and a cancellation that hangs ends the process.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(config.shutdownTimeoutSeconds)
        groupConfiguration.maximumCancellationDuration = .seconds(max(5, config.shutdownTimeoutSeconds / 2))
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        try? store.close()
    }

    /// The libmosquitto options for a client of this server's broker.
    public static func mqttConfiguration(
        _ mqtt: ServerConfig.MQTT, host: String, port: Int, clientID: String, subscriptions: [String]
    ) -> MQTTConfiguration {
        // The embedded broker listens on loopback without credentials or TLS.
        let external = !mqtt.isEmbedded
        return MQTTConfiguration(
            host: host, port: port, clientID: clientID, username: external ? mqtt.username : nil,
            password: external ? mqtt.password : nil,
            tls: external ? mqtt.tls : nil,
            keepAlive: mqtt.keepAlive, cleanSession: false,
            subscriptions: subscriptions.map { .init(topic: $0, qos: 1) },
            maxInflight: 1000)
    }
}
