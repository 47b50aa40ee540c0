import Foundation
import ShennongCore

/// `shennong tokens create|list|revoke`: on the database file (or PostgreSQL URL) directly, so
/// they work while the server runs; a revocation takes effect on the server's next request
/// (every request and every dashboard page reads the token's state from the store).
extension AdminCommands {
    /// Opens the database, creates a token limited to `scope` and returns its secret.
    public static func createToken(_ database: AdminDatabase, name: String, role: Role, scope: AccessScope) throws -> String {
        let store = try open(database.path, ServerConfig.Storage())
        defer { try? store.close() }
        return try store.createToken(name: name, role: role, scope: scope)
    }

    /// Every token, oldest first: id, name, role, scope (`*` for everything), when created, and
    /// whether and when revoked (local time).
    public static func tokens(_ database: AdminDatabase) throws -> AdminTable {
        let offsetMinutes = database.offsetMinutes
        let store = try open(database.path, ServerConfig.Storage())
        defer { try? store.close() }
        let rows = try store.tokens().map { token in
            row([
                ("id", .int(token.id)), ("name", .string(token.name)), ("role", .string(token.role.rawValue)),
                ("scope", .string(token.scope.description)),
                ("created_at", .string(LocalTime.format(token.createdAt, offsetMinutes: offsetMinutes))),
                ("revoked", .bool(token.isRevoked)),
                ("revoked_at", token.revokedAt.map { JSONValue.string(LocalTime.format($0, offsetMinutes: offsetMinutes)) }),
            ])
        }
        return AdminTable(rows, columns: ["id", "name", "role", "scope", "created_at", "revoked", "revoked_at"])
    }

    /// Revokes token `id`; `false` if it already was revoked. Throws `not_found` for an unknown id.
    public static func revokeToken(_ database: AdminDatabase, id: Int64) throws -> Bool {
        let store = try open(database.path, ServerConfig.Storage())
        defer { try? store.close() }
        return try store.revokeToken(id: id)
    }
}
