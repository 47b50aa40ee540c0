import ServiceLifecycle
import ShennongAlerts
import ShennongCore
import ShennongHTTP
import ShennongRules
import ShennongStore

/// What a module (warnings, traceability) adds to `shennong serve`: services for the
/// ServiceGroup, HTTP route groups, and a stage after each committed ingest burst.
public struct ModuleWiring: Sendable {
    public var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    public var routes: [any RouteGroup] = []
    public var ingestObserver: (any IngestObserver)?
    /// What to do with an alert transition people make (ack, resolve) outside the alerts
    /// API, e.g. from the dashboard: notify and recount the open-alerts gauge.
    public var alertNotify: (@Sendable (AlertNotice) -> Void)?
    /// The name of a rule in force, by id (the rules module's catalog, reloads included),
    /// for pages that show warnings to consumers.
    public var ruleName: (@Sendable (String) -> String?)?
    /// The derived indices' latest values (fire danger at every level) the rules keep, for
    /// the staff dashboard.
    public var indexStatuses: (@Sendable () -> [IndexStatus])?

    public init() {}
}
