/// What a stored dashboard session or login code holds: the token it acts for (by id: the
/// token itself is read from ``TokenStore`` at each use, so a revoked or changed token takes
/// effect at once) and its times. The id itself is never stored, only its SHA-256.
public struct DashboardGrant: Sendable, Hashable, Codable {
    public var tokenID: Int64
    public var createdAt: Int64
    public var expiresAt: Int64

    public init(tokenID: Int64, createdAt: Int64, expiresAt: Int64) {
        self.tokenID = tokenID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Dashboard sessions or single-use login codes.
public enum DashboardGrantKind: String, Sendable, Hashable, Codable, CaseIterable {
    case session
    case loginCode = "login_code"
}

/// The door to dashboard sessions and login codes, kept in the database so that every node
/// behind a load balancer knows them (and a restart logs nobody out). Keys are the SHA-256
/// (32 bytes) of the session id or code.
public protocol DashboardSessionStore: Sendable {
    /// Stores a grant under `digest`; at most `capacity` of `kind` are kept: expired ones are
    /// removed first, then those closest to expiry.
    func insertDashboardGrant(_ grant: DashboardGrant, kind: DashboardGrantKind, digest: [UInt8], capacity: Int) throws
    /// The live grant of `digest`, or `nil` (unknown or expired at `now`; an expired one is removed).
    func dashboardGrant(kind: DashboardGrantKind, digest: [UInt8], now: Int64) throws -> DashboardGrant?
    /// Removes the grant of `digest` and returns it if it was live at `now` (a login code's
    /// single use: of two nodes redeeming one code, one gets it).
    func takeDashboardGrant(kind: DashboardGrantKind, digest: [UInt8], now: Int64) throws -> DashboardGrant?
    /// Grants of `kind` held (expired ones included until removed).
    func dashboardGrantCount(kind: DashboardGrantKind) throws -> Int
}
