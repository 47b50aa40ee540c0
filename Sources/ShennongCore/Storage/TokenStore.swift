import Foundation

/// A staff token as stored: only the SHA-256 of the secret is kept.
public struct TokenInfo: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var role: Role
    public var createdAt: Int64

    public init(id: Int64, name: String, role: Role, createdAt: Int64) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
    }
}

/// The door to staff tokens: the bearer middleware, the dashboard login and `tokens create`.
public protocol TokenStore: Sendable {
    /// Creates a token and returns its secret, shown once: the store keeps only its SHA-256.
    func createToken(name: String, role: Role) throws -> String
    /// The token whose secret is `secret`, or `nil`.
    func authenticate(token secret: String) throws -> TokenInfo?
    /// Every token (without secrets), oldest first.
    func tokens() throws -> [TokenInfo]
}
