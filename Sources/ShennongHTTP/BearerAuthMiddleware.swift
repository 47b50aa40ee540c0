import Hummingbird
import Logging
import ShennongCore
import ShennongStore

/// Checks `Authorization: Bearer <token>` against the store's token hashes and puts the
/// token into the context. Missing or unknown tokens get 401; the secret is never logged.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = StaffContext
    let store: any TokenStore

    func handle(
        _ request: Request, context: StaffContext,
        next: (Request, StaffContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "missing bearer token (Authorization: Bearer snk_...)")
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let token = try store.authenticate(token: secret) else {
            throw APIError(.unauthorized, "unknown or revoked token")
        }
        var context = context
        context.token = token
        return try await next(request, context)
    }
}

extension StaffContext {
    /// Throws 403 unless the request's token has at least `role`.
    func require(_ role: Role) throws {
        guard let token, token.role >= role else {
            throw APIError(.forbidden, "this action needs the \(role.rawValue) role")
        }
    }
}
