import Foundation
import Logging
import MosquittoClient
import ShennongCore
import ShennongHTTP
import ShennongIngest
import ShennongRules
import ShennongStore

extension ShennongServer {
    /// The warnings stage of `shennong serve`: rules after each ingest burst, notifiers,
    /// periodic checks and SIGHUP reloads, alert routes. `mqtt` reaches the same broker as
    /// ingest (for alert publishing).
    ///
    /// A rule file with errors stops the start (the errors name file and line): a server
    /// should not run with some warnings silently missing.
    static func makeRules(
        config: ServerConfig, store: Store, profiles: [String: DeviceProfile], mqtt: MQTTConfiguration,
        logger: Logger
    ) throws -> ModuleWiring {
        let settings = config.rules
        var wiring = ModuleWiring()
        guard settings.enabled else {
            logger.info("rules disabled (rules.enabled: false)")
            OpenAlertsGauge.update(store: store, logger: logger)
            let notify: @Sendable (AlertNotice) -> Void = { _ in OpenAlertsGauge.update(store: store, logger: logger) }
            wiring.alertNotify = notify
            wiring.routes = [AlertsAPI(store: store, catalog: RuleCatalog(rules: []), cap: settings.cap.options, notify: notify)]
            return wiring
        }
        var isDirectory: ObjCBool = false
        let (rules, errors): ([Rule], [RuleFileError])
        if FileManager.default.fileExists(atPath: settings.directory, isDirectory: &isDirectory), isDirectory.boolValue {
            (rules, errors) = RuleLoader.load(directory: settings.directory)
        } else {
            logger.warning(
                "rules directory not found; no warning rules in force until it exists and SIGHUP",
                metadata: ["directory": "\(settings.directory)"])
            (rules, errors) = ([], [])
        }
        guard errors.isEmpty else {
            throw ConfigError("rule files have errors:\n" + errors.map { "  \($0)" }.joined(separator: "\n"))
        }
        let catalog = RuleCatalog(rules: rules)
        OpenAlertsGauge.update(store: store, logger: logger)
        let notifier = AlertNotifier(
            config: settings, topicPrefix: TopicScheme(prefix: config.mqtt.topicPrefix).prefix,
            mqtt: settings.mqttPublish ? mqtt : nil, catalog: catalog, logger: logger)
        let stage = try RulesStage(
            store: store, rules: rules, options: EngineOptions(lateAfter: settings.lateAfter), profiles: profiles,
            notifier: notifier, logger: logger)
        let service = RulesService(stage: stage, store: store, catalog: catalog, notifier: notifier, config: settings, logger: logger)
        logger.info("rules loaded", metadata: ["rules": "\(rules.count)", "directory": "\(settings.directory)"])
        wiring.ingestObserver = stage
        wiring.services = [.init(service: service), .init(service: notifier)]
        let notify: @Sendable (AlertNotice) -> Void = { notice in
            OpenAlertsGauge.update(store: store, logger: logger)
            notifier.enqueue([notice])
        }
        wiring.alertNotify = notify
        wiring.routes = [AlertsAPI(store: store, catalog: catalog, cap: settings.cap.options, notify: notify)]
        return wiring
    }
}
