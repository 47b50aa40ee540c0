import Crypto
import PostgresNIO
import ShennongCore

extension PostgresStore {
    /// Creates a staff token and returns its secret, shown once: only its SHA-256 is stored.
    public func createToken(name: String, role: Role) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = "snk_" + Self.hex(bytes)
        try write { s in
            try s.query(
                "INSERT INTO tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4)",
                bindings(name, role.rawValue, Self.tokenHash(secret), nowMillis()))
        }
        return secret
    }

    /// The token whose secret is `secret`, or `nil` (looked up by its hash).
    public func authenticate(token secret: String) throws -> TokenInfo? {
        guard secret.hasPrefix("snk_"), secret.utf8.count == 68 else { return nil }
        return try read { s in
            try s.query("SELECT id, name, role, created_at FROM tokens WHERE hash = $1", bindings(Self.tokenHash(secret)))
                .compactMap(Self.decodeToken).first
        }
    }

    /// Every token (without secrets), oldest first.
    public func tokens() throws -> [TokenInfo] {
        try read { s in try s.query("SELECT id, name, role, created_at FROM tokens ORDER BY id").compactMap(Self.decodeToken) }
    }

    /// The token of a row, or `nil` for a role this release does not know.
    static func decodeToken(_ row: PostgresRow) throws -> TokenInfo? {
        let (id, name, role, createdAt) = try row.decode((Int64, String, String, Int64).self)
        return Role(rawValue: role).map { TokenInfo(id: id, name: name, role: $0, createdAt: createdAt) }
    }

    static func tokenHash(_ secret: String) -> String {
        hex(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }
}
