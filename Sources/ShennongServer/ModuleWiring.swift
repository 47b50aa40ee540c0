import ServiceLifecycle
import ShennongHTTP

/// What a module (warnings, traceability) adds to `shennong serve`: services for the
/// ServiceGroup, HTTP route groups, and a stage after each committed ingest burst.
public struct ModuleWiring: Sendable {
    public var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    public var routes: [any RouteGroup] = []
    public var ingestObserver: (any IngestObserver)?

    public init() {}
}
