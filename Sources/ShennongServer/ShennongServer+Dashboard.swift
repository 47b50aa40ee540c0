import Logging
import ShennongAlerts
import ShennongCore
import ShennongHTTP
import ShennongRules
import ShennongSeal
import ShennongStore

extension ShennongServer {
    /// The staff dashboard in `shennong serve`: its pages under `/dashboard` and the
    /// login-code route. Sessions and login codes live in the database (every node knows them).
    static func makeDashboard(
        config: ServerConfig, store: any ServerStore, seals: SealWatch?, profiles: [String: DeviceProfile],
        notify: @escaping @Sendable (AlertNotice) -> Void, indexStatuses: (@Sendable () -> [IndexStatus])? = nil,
        logger: Logger
    ) throws -> ModuleWiring {
        var wiring = ModuleWiring()
        guard config.dashboard.enabled else { return wiring }
        let templates = try DashboardPages.loadTemplates(directory: config.dashboard.templatesDir)
        var pages = DashboardPages(
            store: store, sessions: DashboardSessions(store: store, sessionLifetime: config.dashboard.sessionLifetime),
            templates: templates, profiles: { profiles }, notify: notify,
            offsetMinutes: config.localOffsetMinutes, secureCookie: config.dashboard.secureCookie,
            indexStatuses: indexStatuses ?? { [] }, logger: logger)
        pages.seals = seals
        wiring.routes = [pages]
        return wiring
    }
}
