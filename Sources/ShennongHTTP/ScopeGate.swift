import Hummingbird
import ShennongCore

/// A token's ``AccessScope`` applied to what a route reads or acts on, on every staff route, the
/// dashboard and the map.
///
/// - Listings keep what the scope admits (their counts are counted after that).
/// - A named object (a device, an alert, a command, a chart's series) outside the scope is
///   refused with 403. For a scoped token an object that does not exist is refused the same way
///   (the same status, the same body, one device lookup on both paths), so a scope cannot be
///   used to learn which ids exist elsewhere. An unscoped token keeps 404 for what is missing.
struct ScopeGate: Sendable {
    let scope: AccessScope

    init(_ scope: AccessScope) { self.scope = scope }

    /// Whether the scope restricts anything.
    var isScoped: Bool { !scope.isEverything }

    /// The one refusal of a named object outside the scope or missing (scoped tokens only).
    static func refusal(_ kind: String, _ id: String) -> APIError {
        APIError(.forbidden, "\(kind) outside this token's scope, or no such \(kind)")
    }

    /// The ids of the devices the scope admits; `nil` for an unscoped token (everything).
    func visibleDevices(_ registry: any DeviceRegistry) throws -> Set<String>? {
        guard isScoped else { return nil }
        return Set(try registry.devices().filter(scope.contains).map(\.id))
    }

    /// Whether device `id` is admitted, given ``visibleDevices(_:)``.
    static func admits(_ visible: Set<String>?, _ id: String) -> Bool { visible?.contains(id) ?? true }

    /// Checks the device an object names. Scoped: refuses (``refusal(_:_:)`` of `kind` `id`)
    /// when the device is missing or outside; the lookup runs whether or not `device` is `nil`
    /// (an object that was not found), so both answers take the same path. Unscoped: nothing to
    /// check (the caller answers 404 for what it did not find).
    func check(device: String?, kind: String, id: String, _ registry: any DeviceRegistry) throws {
        guard isScoped else { return }
        // The lookup happens for a missing object too (same path, same work).
        let found = try registry.device(id: device ?? "")
        guard device != nil, let found, scope.contains(found) else { throw Self.refusal(kind, id) }
    }

    /// The device `id` for a route that names it: scoped, the device in scope or the refusal;
    /// unscoped, the device or `nil`.
    func device(_ id: String, _ registry: any DeviceRegistry) throws -> Device? {
        let found = try registry.device(id: id)
        guard isScoped else { return found }
        guard let found, scope.contains(found) else { throw Self.refusal("device", id) }
        return found
    }

    /// Checks devices a route registers or updates. Scoped: each must be in the scope, and so
    /// must what is registered under its id now (a scoped token changes nothing outside and
    /// learns nothing of it); the first that is not is refused. Unscoped: nothing to check.
    func checkRegistering(_ devices: [Device], _ registry: any DeviceRegistry) throws {
        guard isScoped else { return }
        for device in devices where !scope.contains(device) {
            throw Self.refusal("device", device.id)
        }
        for device in devices {
            if let existing = try registry.device(id: device.id), !scope.contains(existing) {
                throw Self.refusal("device", device.id)
            }
        }
    }

    /// Refuses a scoped token where the route's data is not partitioned by device (the trace
    /// ledger): those routes need an unscoped token.
    func requireUnscoped(_ what: String) throws {
        guard isScoped else { return }
        throw APIError(.forbidden, "\(what) needs an unscoped token (this token is limited to \(scope.text))")
    }
}

extension StaffContext {
    /// The scope of the request's token (everything on public routes).
    var scope: AccessScope { identity?.scope ?? .everything }

    /// The request's token's scope as a gate.
    var gate: ScopeGate { ScopeGate(scope) }
}

/// Refuses scoped tokens on a group of routes whose data is not partitioned by device (the
/// trace ledger's staff routes): 403, the API's error body. Sits after ``BearerAuthMiddleware``.
struct UnscopedOnlyMiddleware: RouterMiddleware {
    typealias Context = StaffContext
    let what: String

    func handle(_ request: Request, context: StaffContext, next: (Request, StaffContext) async throws -> Response) async throws -> Response {
        try context.gate.requireUnscoped(what)
        return try await next(request, context)
    }
}
