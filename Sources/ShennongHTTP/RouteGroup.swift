import ShennongCore
import Hummingbird

/// A set of routes a module adds to the application (alerts, trace pages, ...).
///
/// ``ShennongHTTPServer/makeApplication(host:port:store:registry:profiles:health:routes:logger:onRunning:)``
/// registers each group on the shared router after the core routes. Staff routes put
/// themselves behind ``BearerAuthMiddleware``; public routes do not.
public protocol RouteGroup: Sendable {
    func register(on router: Router<StaffContext>)
}
