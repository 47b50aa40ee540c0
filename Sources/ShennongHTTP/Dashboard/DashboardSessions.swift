import Crypto
import Foundation
import ShennongCore

/// Dashboard sessions and one-time login codes, kept in the database (``DashboardSessionStore``)
/// so that every node behind a load balancer knows them and a restart logs nobody out.
///
/// - A session id is 32 bytes from the system CSPRNG, sent as the cookie value; the store is
///   keyed by its SHA-256, so the ids themselves are not kept and a lookup compares hashes.
///   A stored session holds the id of the token it was opened with and its times, never the
///   token itself: each lookup reads the token from ``TokenStore``, so a token that is gone
///   ends its sessions at once.
/// - The CSRF token of a session is HMAC-SHA256 keyed by the session id (a secret only the
///   browser holds), checked in constant time (`HMAC.isValidAuthenticationCode`); every node
///   computes the same one without sharing a key.
/// - A login code is 32 random bytes, valid for `codeLifetime` and removed on first use
///   (redeemed or expired, on whichever node); it is only issued to the holder of a valid staff
///   token, for that token's own identity and role.
///
/// A database error reads as "no session" (the safe direction); opening one throws it.
public final class DashboardSessions: Sendable {
    /// What a logged-in request knows about its staff member.
    public struct Session: Sendable, Hashable {
        public var token: TokenInfo
        public var createdAt: Int64
        public var expiresAt: Int64
    }

    /// How long a session lasts after login (ms).
    public let sessionLifetime: Int64
    /// How long a login code stays valid (ms).
    public let codeLifetime: Int64
    /// Most sessions (and most codes) held at once; the oldest are dropped beyond it.
    public let capacity: Int
    private let store: any DashboardSessionStore & TokenStore
    private let clock: WallClock

    public init(
        store: any DashboardSessionStore & TokenStore, sessionLifetime: Int64 = 12 * 3_600_000, codeLifetime: Int64 = 60_000,
        capacity: Int = 10_000, clock: WallClock = .system
    ) {
        self.store = store
        self.sessionLifetime = sessionLifetime
        self.codeLifetime = codeLifetime
        self.capacity = max(1, capacity)
        self.clock = clock
    }

    /// A new session for `token`; returns the session id for the cookie.
    public func open(for token: TokenInfo) throws -> String {
        try grant(.session, to: token, for: sessionLifetime)
    }

    /// A new random secret granting `kind` to `token` for `lifetime` ms: only its digest is
    /// stored.
    private func grant(_ kind: DashboardGrantKind, to token: TokenInfo, for lifetime: Int64) throws -> String {
        let secret = Self.randomHex()
        let now = clock.now()
        try store.insertDashboardGrant(
            DashboardGrant(tokenID: token.id, createdAt: now, expiresAt: now + lifetime), kind: kind,
            digest: Self.digest(secret), capacity: capacity)
        return secret
    }

    /// The live session of cookie value `id`, or `nil` (unknown, malformed, expired, or its
    /// token gone).
    /// A session whose token was revoked or removed ends here and now (its grant is deleted),
    /// not at its expiry; a failed read refuses the request and keeps the grant.
    public func session(_ id: String) -> Session? {
        guard Self.isWellFormed(id),
            let grant = try? store.dashboardGrant(kind: .session, digest: Self.digest(id), now: clock.now())
        else { return nil }
        let live: TokenInfo?
        do { live = try store.liveToken(id: grant.tokenID) } catch { return nil }
        guard let token = live else {
            _ = try? store.takeDashboardGrant(kind: .session, digest: Self.digest(id), now: clock.now())
            return nil
        }
        return Session(token: token, createdAt: grant.createdAt, expiresAt: grant.expiresAt)
    }

    /// Ends the session of `id` (logout); unknown ids are ignored.
    public func close(_ id: String) {
        guard Self.isWellFormed(id) else { return }
        _ = try? store.takeDashboardGrant(kind: .session, digest: Self.digest(id), now: clock.now())
    }

    /// The CSRF token of session `id`: hex HMAC-SHA256 keyed by the id.
    public func csrfToken(_ id: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Self.csrfLabel, using: SymmetricKey(data: Data(id.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `given` is the CSRF token of session `id` (constant-time comparison).
    public func checkCSRF(_ given: String, session id: String) -> Bool {
        guard let bytes = Self.bytes(hex: given), bytes.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Self.csrfLabel, using: SymmetricKey(data: Data(id.utf8)))
    }

    private static let csrfLabel = Data("shennong dashboard csrf v1".utf8)

    /// A single-use login code for `token`, valid for `codeLifetime`.
    public func issueCode(for token: TokenInfo) throws -> String {
        try grant(.loginCode, to: token, for: codeLifetime)
    }

    /// Redeems a login code: the token it was issued for, or `nil` if unknown, used, expired
    /// or its token gone. The code is gone afterwards either way.
    public func redeem(code: String) -> TokenInfo? {
        guard Self.isWellFormed(code),
            let grant = try? store.takeDashboardGrant(kind: .loginCode, digest: Self.digest(code), now: clock.now())
        else { return nil }
        return try? store.liveToken(id: grant.tokenID)
    }

    /// Sessions currently held (expired ones included until removed); for tests and metrics.
    public var count: Int { (try? store.dashboardGrantCount(kind: .session)) ?? 0 }

    // MARK: helpers

    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    private static func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

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
