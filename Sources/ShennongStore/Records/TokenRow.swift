import GRDB
import ShennongCore

/// A row of `tokens`: name, role and the SHA-256 of the secret (never the secret).
struct TokenRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "tokens"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    /// What a listing reads (the hash stays in the table).
    static var databaseSelection: [any SQLSelectable] { [Column("id"), Column("name"), Column("role"), Column("created_at")] }

    var id: Int64?
    var name: String
    var role: String
    var hash: String?
    var createdAt: Int64

    /// The token, or `nil` for a role this release does not know.
    var info: TokenInfo? {
        guard let id, let role = Role(rawValue: role) else { return nil }
        return TokenInfo(id: id, name: name, role: role, createdAt: createdAt)
    }
}
