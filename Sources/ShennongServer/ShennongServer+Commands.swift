import Foundation
import Logging
import MosquittoClient
import ShennongAlerts
import ShennongCommands
import ShennongCore
import ShennongHTTP
import ShennongIngest
import ShennongRules
import ShennongSimulator
import ShennongStore
import ServiceLifecycle

extension ShennongServer {
    /// Device commands in `shennong serve`: the ``CommandCenter`` (issue, cancel, the passes), its
    /// service (publisher on `{prefix}/{device}/command`, replies on a persistent session of its
    /// own, client ids `{client_id}-commands` and `{client_id}-command-replies`) and the API routes.
    /// The alert transitions it makes (an actuator that did not respond) go where
    /// ``CommandCenter/setNotify(_:)`` says (the rules' notifier, set once the rules exist); the
    /// rules' actions reach it through `automation` (a notifier of the rules).
    ///
    /// Commands need an engine that opens the ``CommandStore`` door (SQLite does; the PostgreSQL
    /// engine does not yet): with another, commands are off and the log says so.
    static func makeCommands(
        config: ServerConfig, store: any ServerStore, profiles: [String: DeviceProfile], host: String, port: Int, logger: Logger
    ) throws -> (wiring: ModuleWiring, center: CommandCenter?, automation: RuleAutomation?) {
        var wiring = ModuleWiring()
        guard config.commands.enabled else {
            logger.info("device commands disabled (commands.enabled: false)")
            return (wiring, nil, nil)
        }
        guard let commandStore = store as? any ControlStore else {
            logger.warning(
                "device commands are off: this storage engine has no command records yet",
                metadata: ["location": "\(store.location)"])
            return (wiring, nil, nil)
        }
        let center = CommandCenter(store: commandStore, profiles: profiles, options: config.commands.options, logger: logger)
        let prefix = TopicScheme(prefix: config.mqtt.topicPrefix).prefix
        let service = try CommandService(
            center: center,
            publish: mqttConfiguration(config.mqtt, host: host, port: port, clientID: config.mqtt.clientID + "-commands", subscriptions: []),
            replies: mqttConfiguration(
                config.mqtt, host: host, port: port, clientID: config.mqtt.clientID + "-command-replies", subscriptions: []),
            topicPrefix: prefix, logger: logger)
        wiring.services = [.init(service: service)]
        wiring.routes = [CommandsAPI(center: center, tokens: store)]
        return (wiring, center, RuleAutomation(center: center, offsetMinutes: config.rules.cap.offsetMinutes, logger: logger))
    }
}

extension ShennongServer {
    /// `simulator.aerator_ponds` (`serve --aerator-ponds`, `make demo`): the `aerator`
    /// scenario's two ponds, registered and played beside the steady simulator, one report per
    /// pond every 10 s.
    static func aeratorPonds(
        config: ServerConfig, store: any ServerStore, host: String, port: Int, ready: @escaping @Sendable () -> Bool, clock: WallClock,
        logger: Logger
    ) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var options = Simulator.Options(
            devices: 0, rate: 0.2, seed: config.simulator.seed, topicPrefix: config.mqtt.topicPrefix, scenario: .aerator)
        let ponds = try Simulator.registrations(for: options, at: clock.now()) { try store.device(id: $0) }
        if !ponds.isEmpty { try store.upsertDevices(ponds) }
        options.ready = ready
        let simulator = Simulator(
            options: options,
            mqtt: mqttConfiguration(config.mqtt, host: host, port: port, clientID: "shennong-simulator-ponds", subscriptions: []),
            clock: clock, logger: logger)
        return [.init(service: simulator, successTerminationBehavior: .ignore)]
    }
}
