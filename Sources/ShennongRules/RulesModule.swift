import Logging
import ServiceLifecycle
import ShennongAlerts
import ShennongCore

/// The warnings of a running server, assembled: the rules stage ingest drives after each
/// burst, the notifier and the periodic service (both for the ServiceGroup), and what to do
/// with a transition people make.
public struct RulesModule: Sendable {
    public let catalog: RuleCatalog
    public let stage: RulesStage
    public let notifier: AlertNotifier
    public let service: RulesService
    /// For each transition people make (ack, resolve, close): recount the open-alerts gauge
    /// and wake the notifier (the transition is committed: the notifier reads it from the outbox).
    public let notify: @Sendable (AlertNotice) -> Void

    /// Loads the rule states and devices from `store` and wires the parts together; sets the
    /// open-alerts gauge.
    /// - Parameters:
    ///   - lateAfter: readings older than this (ms) raise alerts marked late (recorded, not pushed).
    ///   - outbox: the committed transitions and the notifiers' cursors (usually `store`).
    ///   - notifiers: where transitions go (MQTT, webhooks, contacts' gateways).
    ///   - offsetMinutes: the local time offset of the alert JSON's times.
    public init(
        rules: [Rule], settings: RulesSettings, lateAfter: Int64, store: any RulesStore, outbox: any AlertOutbox,
        profiles: [String: DeviceProfile], notifiers: [any Notifier], offsetMinutes: Int, logger: Logger
    ) throws {
        catalog = RuleCatalog(rules: rules)
        OpenAlertsGauge.update(store: store, logger: logger)
        let notifier = try AlertNotifier(
            outbox: outbox, notifiers: notifiers, catalog: catalog, offsetMinutes: offsetMinutes, logger: logger)
        self.notifier = notifier
        stage = try RulesStage(
            store: store, rules: rules, options: EngineOptions(lateAfter: lateAfter), profiles: profiles,
            notifier: notifier, logger: logger)
        service = RulesService(
            stage: stage, store: store, catalog: catalog, notifier: notifier, settings: settings, logger: logger)
        notify = { notice in
            OpenAlertsGauge.update(store: store, logger: logger)
            notifier.enqueue([notice])
        }
    }

    /// The services to run: the periodic checks and the notifier.
    public var services: [any Service] { [service, notifier] }
}
