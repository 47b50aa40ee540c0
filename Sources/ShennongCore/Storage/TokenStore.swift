import Foundation

/// A staff token as stored: only the SHA-256 of the secret is kept.
public struct TokenInfo: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var role: Role
    public var createdAt: Int64
    /// What the token may see and act on (``AccessScope/everything`` when unrestricted).
    public var scope: AccessScope
    /// When the token was revoked (ms), `nil` while it is live. A revoked token is refused at
    /// once, and so are the dashboard sessions opened with it.
    public var revokedAt: Int64?

    public init(
        id: Int64, name: String, role: Role, createdAt: Int64, scope: AccessScope = .everything, revokedAt: Int64? = nil
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.scope = scope
        self.revokedAt = revokedAt
    }

    /// Whether the token has been revoked.
    public var isRevoked: Bool { revokedAt != nil }
}

/// The door to staff tokens: the bearer middleware, the dashboard login and `tokens create`.
public protocol TokenStore: Sendable {
    /// Creates a token limited to `scope` and returns its secret, shown once: the store keeps
    /// only its SHA-256.
    func createToken(name: String, role: Role, scope: AccessScope) throws -> String
    /// The live token whose secret is `secret`, or `nil` (unknown or revoked).
    func authenticate(token secret: String) throws -> TokenInfo?
    /// Every token (without secrets), revoked ones included, oldest first.
    func tokens() throws -> [TokenInfo]
    /// The token with `id`, revoked or not, or `nil`. Callers refuse `nil` and revoked tokens
    /// (the dashboard checks a session's token this way on every request).
    func token(id: Int64) throws -> TokenInfo?
    /// Revokes token `id` now; `false` if it already was. Throws `not_found` for an unknown id.
    @discardableResult
    func revokeToken(id: Int64) throws -> Bool
}

extension TokenStore {
    /// Creates an unrestricted token (``AccessScope/everything``).
    public func createToken(name: String, role: Role) throws -> String {
        try createToken(name: name, role: role, scope: .everything)
    }

    /// The token with `id` if it exists and is not revoked.
    public func liveToken(id: Int64) throws -> TokenInfo? {
        guard let token = try token(id: id), !token.isRevoked else { return nil }
        return token
    }
}

extension AccessScope {
    /// The stored form of a scope: `nil` for everything, else its JSON (keys sorted).
    public var storedText: String? {
        guard !isEverything else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A scope read back from ``storedText``. A stored scope this release cannot read is
    /// `nil`: the caller refuses the token rather than widen it to everything.
    public static func stored(_ text: String?) -> AccessScope? {
        guard let text, !text.isEmpty else { return .everything }
        guard let decoded = try? JSONDecoder().decode(AccessScope.self, from: Data(text.utf8)) else { return nil }
        // Normalised again (sorted, no duplicates), whatever wrote it.
        return AccessScope(domains: decoded.domains, sites: decoded.sites, areas: decoded.areas, devices: decoded.devices)
    }
}
