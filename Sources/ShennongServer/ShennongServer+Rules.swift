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
    /// The warnings stage of `shennong serve`: rules after each ingest burst, notifiers,
    /// periodic checks and SIGHUP reloads, alert routes. `mqtt` reaches the same broker as
    /// ingest (for alert publishing).
    ///
    /// A rule file with errors stops the start (the errors name file and line): a server
    /// should not run with some warnings silently missing.
    static func makeRules(
        config: ServerConfig, store: any ServerStore, profiles: [String: DeviceProfile], mqtt: MQTTConfiguration,
        automation: RuleAutomation? = nil, logger: Logger
    ) throws -> ModuleWiring {
        let settings = config.rules
        var wiring = ModuleWiring()
        guard settings.enabled else {
            logger.info("rules disabled (rules.enabled: false)")
            OpenAlertsGauge.update(store: store, logger: logger)
            let notify: @Sendable (AlertNotice) -> Void = { _ in OpenAlertsGauge.update(store: store, logger: logger) }
            wiring.alertNotify = notify
            wiring.routes = [
                AlertsAPI(
                    store: store, catalog: RuleCatalog(rules: []), cap: settings.cap,
                    offsetMinutes: config.localOffsetMinutes, notify: notify)
            ]
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
        let module = try RulesModule(
            rules: rules, settings: settings.settings, lateAfter: settings.lateAfter, store: store, outbox: store,
            profiles: profiles,
            notifiers: settings.notifiers(
                topicPrefix: TopicScheme(prefix: config.mqtt.topicPrefix).prefix, mqtt: settings.mqttPublish ? mqtt : nil,
                logger: logger) + (automation.map { [$0] } ?? []),
            offsetMinutes: settings.cap.offsetMinutes, logger: logger)
        automation?.setRules(catalog: module.catalog)
        logger.info("rules loaded", metadata: ["rules": "\(rules.count)", "directory": "\(settings.directory)"])
        wiring.ingestObserver = module.stage
        wiring.services = module.services.map { .init(service: $0) }
        wiring.alertNotify = module.notify
        wiring.ruleName = { [catalog = module.catalog] id in catalog.rule(id: id)?.name }
        wiring.indexStatuses = { [stage = module.stage] in stage.indexStatuses() }
        wiring.routes = [
            AlertsAPI(
                store: store, catalog: module.catalog, cap: settings.cap, profiles: { profiles },
                lateSkipped: { [stage = module.stage] in stage.lateSkipped() }, checkInterval: settings.checkInterval,
                offsetMinutes: config.localOffsetMinutes, notify: module.notify)
        ]
        return wiring
    }
}

extension ServerConfig.Rules {
    /// The periodic work's settings.
    var settings: RulesSettings {
        RulesSettings(directory: directory, checkInterval: checkInterval, escalation: escalation)
    }

    /// Where alert transitions go: MQTT (with `mqtt`), every webhook, the contacts' gateways.
    func notifiers(topicPrefix: String, mqtt: MQTTConfiguration?, logger: Logger) -> [any Notifier] {
        var notifiers: [any Notifier] = []
        if let mqtt { notifiers.append(MQTTAlertNotifier(configuration: mqtt, topicPrefix: topicPrefix, logger: logger)) }
        notifiers += WebhookNotifier.all(webhooks: webhooks, escalation: escalation, logger: logger)
        return notifiers
    }
}

extension AlertNotifier {
    /// The notifier of a `rules:` section: MQTT on `{topicPrefix}/alerts/…` (with `mqtt`),
    /// the webhooks and the contacts' gateways, following `outbox`.
    convenience init(
        config: ServerConfig.Rules, outbox: any AlertOutbox, topicPrefix: String, mqtt: MQTTConfiguration?,
        catalog: RuleCatalog, logger: Logger
    ) throws {
        try self.init(
            outbox: outbox, notifiers: config.notifiers(topicPrefix: topicPrefix, mqtt: mqtt, logger: logger),
            catalog: catalog, offsetMinutes: config.cap.offsetMinutes, logger: logger)
    }
}
