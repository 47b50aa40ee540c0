import Crypto
import GRDB
import ShennongCore

extension Store {
    /// `tokens` gains a scope (JSON, `NULL` for everything) and a revocation time.
    static func registerTokenMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration("tokens-v2: scope, revoked_at") { db in
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN scope TEXT")
            try db.execute(sql: "ALTER TABLE tokens ADD COLUMN revoked_at INTEGER")
        }
    }

    /// Creates a staff token limited to `scope` and returns its secret, which is shown once and
    /// never stored: the database keeps only its SHA-256.
    public func createToken(name: String, role: Role, scope: AccessScope) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = "snk_" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        try pool.write { db in
            try TokenRow(
                id: nil, name: name, role: role.rawValue, hash: Self.tokenHash(secret), createdAt: nowMillis(),
                scope: scope.storedText, revokedAt: nil
            ).insert(db)
        }
        return secret
    }

    /// The live token whose secret is `secret`, or `nil` (unknown or revoked). Looks up by
    /// hash, so the secret itself is never compared or kept.
    public func authenticate(token secret: String) throws -> TokenInfo? {
        guard secret.hasPrefix("snk_"), secret.utf8.count == 68 else { return nil }
        return try pool.read { db in
            try TokenRow.filter(Column("hash") == Self.tokenHash(secret) && Column("revoked_at") == nil).fetchOne(db)?.info
        }
    }

    /// Every token (without secrets), revoked ones included, oldest first.
    public func tokens() throws -> [TokenInfo] {
        try pool.read { db in try TokenRow.order(Column("id")).fetchAll(db).compactMap(\.info) }
    }

    /// The token with `id`, revoked or not, or `nil`.
    public func token(id: Int64) throws -> TokenInfo? {
        try pool.read { db in try TokenRow.fetchOne(db, key: id)?.info }
    }

    /// Revokes token `id` now; `false` if it already was.
    @discardableResult
    public func revokeToken(id: Int64) throws -> Bool {
        let now = nowMillis()
        return try pool.write { db in
            guard try TokenRow.fetchOne(db, key: id) != nil else {
                throw StoreError(.notFound, "no token \(id)")
            }
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
            return db.changesCount > 0
        }
    }

    static func tokenHash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
