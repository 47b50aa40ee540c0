import Crypto
import PostgresNIO
import ShennongCore

extension PostgresStore {
    /// `tokens` gains a scope (JSON, `NULL` for everything) and a revocation time.
    static let tokenScopeSchema: [String] = [
        "ALTER TABLE tokens ADD COLUMN scope text",
        "ALTER TABLE tokens ADD COLUMN revoked_at bigint",
    ]

    /// Creates a staff token limited to `scope` and returns its secret, shown once: only its
    /// SHA-256 is stored.
    public func createToken(name: String, role: Role, scope: AccessScope) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = "snk_" + Self.hex(bytes)
        try write { s in
            try s.query(
                "INSERT INTO tokens (name, role, hash, created_at, scope) VALUES ($1, $2, $3, $4, $5)",
                bindings(name, role.rawValue, Self.tokenHash(secret), nowMillis(), scope.storedText))
        }
        return secret
    }

    /// The live token whose secret is `secret`, or `nil` (unknown or revoked; looked up by its
    /// hash).
    public func authenticate(token secret: String) throws -> TokenInfo? {
        guard secret.hasPrefix("snk_"), secret.utf8.count == 68 else { return nil }
        return try read { s in
            try s.query(
                "SELECT \(Self.tokenColumns) FROM tokens WHERE hash = $1 AND revoked_at IS NULL", bindings(Self.tokenHash(secret))
            ).compactMap(Self.decodeToken).first
        }
    }

    /// Every token (without secrets), revoked ones included, oldest first.
    public func tokens() throws -> [TokenInfo] {
        try read { s in try s.query("SELECT \(Self.tokenColumns) FROM tokens ORDER BY id").compactMap(Self.decodeToken) }
    }

    /// The token with `id`, revoked or not, or `nil`.
    public func token(id: Int64) throws -> TokenInfo? {
        try read { s in
            try s.query("SELECT \(Self.tokenColumns) FROM tokens WHERE id = $1", bindings(id)).compactMap(Self.decodeToken).first
        }
    }

    /// Revokes token `id` now; `false` if it already was.
    @discardableResult
    public func revokeToken(id: Int64) throws -> Bool {
        let now = nowMillis()
        return try write { s in
            let rows = try s.query(
                "SELECT revoked_at IS NULL FROM tokens WHERE id = $1 FOR UPDATE", bindings(id)
            ).map { try $0.decode(Bool.self) }
            guard let live = rows.first else { throw StoreError(.notFound, "no token \(id)") }
            guard live else { return false }
            try s.query("UPDATE tokens SET revoked_at = $1 WHERE id = $2", bindings(now, id))
            return true
        }
    }

    static let tokenColumns = "id, name, role, created_at, scope, revoked_at"

    /// The token of a row, or `nil` for a role or scope this release does not know (refused,
    /// never widened).
    static func decodeToken(_ row: PostgresRow) throws -> TokenInfo? {
        let (id, name, role, createdAt, scope, revokedAt) = try row.decode((Int64, String, String, Int64, String?, Int64?).self)
        guard let role = Role(rawValue: role), let scope = AccessScope.stored(scope) else { return nil }
        return TokenInfo(id: id, name: name, role: role, createdAt: createdAt, scope: scope, revokedAt: revokedAt)
    }

    static func tokenHash(_ secret: String) -> String {
        hex(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }
}
