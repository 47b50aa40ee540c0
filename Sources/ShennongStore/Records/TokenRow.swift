import GRDB
import ShennongCore

/// A row of `tokens`: name, role, scope, revocation and the SHA-256 of the secret (never the
/// secret).
struct TokenRow: Codable, SnakeCaseColumns, FetchableRecord, PersistableRecord {
    static let databaseTableName = "tokens"
    /// What a listing reads (the hash stays in the table).
    static var databaseSelection: [any SQLSelectable] {
        [Column("id"), Column("name"), Column("role"), Column("created_at"), Column("scope"), Column("revoked_at")]
    }

    var id: Int64?
    var name: String
    var role: String
    var hash: String?
    var createdAt: Int64
    /// ``AccessScope/storedText``: `NULL` for everything.
    var scope: String?
    var revokedAt: Int64?

    /// The token, or `nil` for a role or a scope this release does not know (refused, never
    /// widened).
    var info: TokenInfo? {
        guard let id, let role = Role(rawValue: role), let scope = AccessScope.stored(scope) else { return nil }
        return TokenInfo(id: id, name: name, role: role, createdAt: createdAt, scope: scope, revokedAt: revokedAt)
    }
}
