import ShennongCore
import Crypto
import Foundation
import Synchronization

/// Dashboard sessions and one-time login codes, held in memory (a restart logs everyone
/// out, which is the safe direction).
///
/// - A session id is 32 bytes from the system CSPRNG, sent as the cookie value; the table is
///   keyed by its SHA-256, so the ids themselves are not kept and a lookup compares hashes.
///   A session carries the token it was opened with (id, name, role), never the token secret.
/// - The CSRF token of a session is HMAC-SHA256(process key, session id), checked in
///   constant time (`HMAC.isValidAuthenticationCode`).
/// - A login code is 32 random bytes, valid for `codeLifetime` and removed on first use
///   (redeemed or expired); it is only issued to the holder of a valid staff token, for that
///   token's own identity and role.
public final class DashboardSessions: Sendable {
    /// What a logged-in request knows about its staff member.
    public struct Session: Sendable, Hashable {
        public var token: TokenInfo
        public var createdAt: Int64
        public var expiresAt: Int64
    }

    private struct Code {
        var token: TokenInfo
        var expiresAt: Int64
    }

    /// How long a session lasts after login (ms).
    public let sessionLifetime: Int64
    /// How long a login code stays valid (ms).
    public let codeLifetime: Int64
    /// Most sessions (and most codes) held at once; the oldest are dropped beyond it.
    public let capacity: Int
    private let key = SymmetricKey(size: .bits256)
    private let clock: WallClock
    /// Sessions and login codes by the SHA-256 of their ids.
    private let tables = Mutex(Tables())

    private struct Tables {
        var sessions: [Data: Session] = [:]
        var codes: [Data: Code] = [:]
    }

    public init(
        sessionLifetime: Int64 = 12 * 3_600_000, codeLifetime: Int64 = 60_000, capacity: Int = 10_000,
        clock: WallClock = .system
    ) {
        self.sessionLifetime = sessionLifetime
        self.codeLifetime = codeLifetime
        self.capacity = max(1, capacity)
        self.clock = clock
    }

    /// A new session for `token`; returns the session id for the cookie.
    public func open(for token: TokenInfo) -> String {
        let id = Self.randomHex()
        let now = clock.now()
        tables.withLock {
            Self.prune(&$0.sessions, now: now, capacity: capacity) { $0.expiresAt }
            $0.sessions[Self.digest(id)] = Session(token: token, createdAt: now, expiresAt: now + sessionLifetime)
        }
        return id
    }

    /// The live session of cookie value `id`, or `nil` (unknown, malformed or expired).
    public func session(_ id: String) -> Session? {
        guard Self.isWellFormed(id) else { return nil }
        let now = clock.now()
        return tables.withLock { tables in
            let digest = Self.digest(id)
            guard let session = tables.sessions[digest] else { return nil }
            guard session.expiresAt > now else {
                tables.sessions[digest] = nil
                return nil
            }
            return session
        }
    }

    /// Ends the session of `id` (logout); unknown ids are ignored.
    public func close(_ id: String) {
        guard Self.isWellFormed(id) else { return }
        _ = tables.withLock { $0.sessions.removeValue(forKey: Self.digest(id)) }
    }

    /// The CSRF token of session `id`: hex HMAC-SHA256 under this process's key.
    public func csrfToken(_ id: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(id.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `given` is the CSRF token of session `id` (constant-time comparison).
    public func checkCSRF(_ given: String, session id: String) -> Bool {
        guard let bytes = Self.bytes(hex: given), bytes.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Data(id.utf8), using: key)
    }

    /// A single-use login code for `token`, valid for `codeLifetime`.
    public func issueCode(for token: TokenInfo) -> String {
        let code = Self.randomHex()
        let now = clock.now()
        tables.withLock {
            Self.prune(&$0.codes, now: now, capacity: capacity) { $0.expiresAt }
            $0.codes[Self.digest(code)] = Code(token: token, expiresAt: now + codeLifetime)
        }
        return code
    }

    /// Redeems a login code: the token it was issued for, or `nil` if unknown, used or
    /// expired. The code is gone afterwards either way.
    public func redeem(code: String) -> TokenInfo? {
        guard Self.isWellFormed(code) else { return nil }
        let now = clock.now()
        return tables.withLock {
            guard let entry = $0.codes.removeValue(forKey: Self.digest(code)), entry.expiresAt > now else { return nil }
            return entry.token
        }
    }

    /// Sessions currently held (expired ones included until pruned); for tests and metrics.
    public var count: Int { tables.withLock { $0.sessions.count } }

    // MARK: helpers

    private static func prune<V>(_ table: inout [Data: V], now: Int64, capacity: Int, expiry: (V) -> Int64) {
        table = table.filter { expiry($0.value) > now }
        guard table.count >= capacity else { return }
        // Drop the entries closest to expiry (the oldest) until there is room for one more.
        let drop = table.count - capacity + 1
        for key in table.sorted(by: { expiry($0.value) < expiry($1.value) }).prefix(drop).map(\.key) { table[key] = nil }
    }

    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    private static func digest(_ text: String) -> Data { Data(SHA256.hash(data: Data(text.utf8))) }

    /// 64 lower-case hex digits.
    static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        for i in stride(from: 0, to: utf8.count, by: 2) {
            guard let byte = UInt8(String(decoding: utf8[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
