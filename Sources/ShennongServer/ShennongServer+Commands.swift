import Foundation
import Logging
import MosquittoClient
import ShennongAlerts
import ShennongCore
import ShennongHTTP
import ShennongIngest
import ShennongRules
import ShennongStore

extension ShennongServer {
    /// Device commands in `shennong serve`: the ``CommandCenter`` (issue, cancel, the passes), its
    /// service (publisher on `{prefix}/{device}/command`, replies on a persistent session of its
    /// own, client ids `{client_id}-commands` and `{client_id}-command-replies`) and the API routes.
    /// The alert transitions it makes (an actuator that did not respond) go where
    /// ``CommandCenter/setNotify(_:)`` says (the rules' notifier, set once the rules exist); the
    /// rules' actions reach it through `automation` (a notifier of the rules).
    static func makeCommands(
        config: ServerConfig, store: Store, profiles: [String: DeviceProfile], host: String, port: Int, logger: Logger
    ) throws -> (wiring: ModuleWiring, center: CommandCenter?, automation: RuleAutomation?) {
        var wiring = ModuleWiring()
        guard config.commands.enabled else {
            logger.info("device commands disabled (commands.enabled: false)")
            return (wiring, nil, nil)
        }
        let center = CommandCenter(store: store, profiles: profiles, options: config.commands.options, logger: logger)
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
