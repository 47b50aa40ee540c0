import Hummingbird
import HummingbirdAuth
import Logging
import ShennongCore

/// Authenticates `Authorization: Bearer <token>` against the store's token hashes
/// (hummingbird-auth's ``AuthenticatorMiddleware``): the token becomes the context's
/// `identity`. Staff routes sit behind it, so a missing or unknown token is a 401 with the
/// API's error body rather than a pass-through; the secret is never logged.
struct BearerAuthMiddleware: AuthenticatorMiddleware {
    typealias Context = StaffContext
    typealias Identity = TokenInfo
    let store: any TokenStore

    func authenticate(request: Request, context: StaffContext) async throws -> TokenInfo? {
        guard let bearer = request.headers.bearer else {
            throw APIError(.unauthorized, "missing bearer token (Authorization: Bearer snk_...)")
        }
        let secret = bearer.token.trimmingCharacters(in: .whitespaces)
        guard let token = try store.authenticate(token: secret) else {
            throw APIError(.unauthorized, "unknown or revoked token")
        }
        return token
    }
}

extension StaffContext {
    /// The authenticated staff token; `nil` on public routes.
    var token: TokenInfo? { identity }

    /// Throws 403 unless the request's token has at least `role`.
    func require(_ role: Role) throws {
        guard let token, token.role >= role else {
            throw APIError(.forbidden, "this action needs the \(role.rawValue) role")
        }
    }
}
