import Crypto
import GRDB
import ShennongCore

extension Store {
    /// Creates a staff token and returns its secret, which is shown once and never stored:
    /// the database keeps only its SHA-256.
    public func createToken(name: String, role: Role) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = "snk_" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        try pool.write { db in
            try TokenRow(id: nil, name: name, role: role.rawValue, hash: Self.tokenHash(secret), createdAt: nowMillis())
                .insert(db)
        }
        return secret
    }

    /// The token whose secret is `secret`, or `nil`. Looks up by hash, so the secret itself
    /// is never compared or kept.
    public func authenticate(token secret: String) throws -> TokenInfo? {
        guard secret.hasPrefix("snk_"), secret.utf8.count == 68 else { return nil }
        return try pool.read { db in
            try TokenRow.filter(Column("hash") == Self.tokenHash(secret)).fetchOne(db)?.info
        }
    }

    /// Every token (without secrets), oldest first.
    public func tokens() throws -> [TokenInfo] {
        try pool.read { db in try TokenRow.order(Column("id")).fetchAll(db).compactMap(\.info) }
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
