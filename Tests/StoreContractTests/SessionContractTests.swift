import Foundation
import ShennongCore
import Testing

/// Dashboard sessions and login codes on every engine: the door keeps the token id and times
/// under the id's digest; expired grants are not returned, a taken grant is gone, capacity holds.
@Suite("store contract: dashboard sessions and login codes")
struct SessionContractTests {
    static func digest(_ n: UInt8) -> [UInt8] { Array(repeating: n, count: 32) }

    @Test("a grant is found by kind and digest until it expires; take removes it once; kinds are apart", arguments: StoreEngine.all)
    func grants(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let grant = DashboardGrant(tokenID: 3, createdAt: 1_000, expiresAt: 5_000)
        try store.insertDashboardGrant(grant, kind: .session, digest: Self.digest(1), capacity: 10)
        try store.insertDashboardGrant(
            DashboardGrant(tokenID: 4, createdAt: 1_000, expiresAt: 2_000), kind: .loginCode, digest: Self.digest(1), capacity: 10)
        #expect(try store.dashboardGrant(kind: .session, digest: Self.digest(1), now: 4_999) == grant)
        #expect(try store.dashboardGrant(kind: .session, digest: Self.digest(2), now: 1_000) == nil)
        #expect(try store.dashboardGrant(kind: .loginCode, digest: Self.digest(1), now: 1_500)?.tokenID == 4)
        #expect(try store.dashboardGrant(kind: .session, digest: Self.digest(1), now: 5_000) == nil, "expired at expiresAt")
        #expect(try store.dashboardGrantCount(kind: .session) == 0, "an expired grant found is removed")
        // Take: once, and only while live.
        #expect(try store.takeDashboardGrant(kind: .loginCode, digest: Self.digest(1), now: 1_999)?.tokenID == 4)
        #expect(try store.takeDashboardGrant(kind: .loginCode, digest: Self.digest(1), now: 1_999) == nil)
        try store.insertDashboardGrant(
            DashboardGrant(tokenID: 4, createdAt: 1_000, expiresAt: 2_000), kind: .loginCode, digest: Self.digest(9), capacity: 10)
        #expect(try store.takeDashboardGrant(kind: .loginCode, digest: Self.digest(9), now: 2_000) == nil, "expired")
        #expect(try store.dashboardGrantCount(kind: .loginCode) == 0, "taken even when expired")
    }

    @Test("beyond capacity the grants closest to expiry are dropped; expired ones go first", arguments: StoreEngine.all)
    func capacity(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        for i in 0..<5 {
            let t = Int64(i) * 1_000
            try store.insertDashboardGrant(
                DashboardGrant(tokenID: 1, createdAt: t, expiresAt: t + 10_000), kind: .session, digest: Self.digest(UInt8(i)),
                capacity: 3)
        }
        #expect(try store.dashboardGrantCount(kind: .session) == 3)
        #expect(try store.dashboardGrant(kind: .session, digest: Self.digest(1), now: 5_000) == nil)
        #expect(try store.dashboardGrant(kind: .session, digest: Self.digest(2), now: 5_000) != nil)
        // At t = 13 s the grants of 0…3 s have expired: a new one makes room without dropping a live one.
        try store.insertDashboardGrant(
            DashboardGrant(tokenID: 1, createdAt: 13_000, expiresAt: 23_000), kind: .session, digest: Self.digest(7), capacity: 3)
        #expect(try store.dashboardGrant(kind: .session, digest: Self.digest(4), now: 13_000) != nil)
        #expect(try store.dashboardGrantCount(kind: .session) == 2)
    }

    @Test("the token of a grant is read back through the token door by id", arguments: StoreEngine.all)
    func tokenByID(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let secret = try store.createToken(name: "值班员", role: .operator)
        let token = try #require(try store.authenticate(token: secret))
        #expect(try store.token(id: token.id) == token)
        #expect(try store.token(id: token.id + 100) == nil)
    }
}

/// Scan counters added by several nodes sum up.
@Suite("store contract: scan counters across nodes")
struct ScanSumContractTests {
    @Test("added scans sum up per code, first and last scan widen, networks are added", arguments: StoreEngine.all)
    func addScans(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        try store.addTraceScans([TraceScanRow(code: "K1", count: 3, firstAt: 20, lastAt: 30, networks: ["10.0.0.0/24"])])
        // Another node's flush, and two rows of one code in one flush.
        try store.addTraceScans([
            TraceScanRow(code: "K1", count: 2, firstAt: 10, lastAt: 25, networks: ["192.168.1.0/24"]),
            TraceScanRow(code: "K1", count: 1, firstAt: 40, lastAt: 40, networks: []),
            TraceScanRow(code: "K2", count: 1, firstAt: 5, lastAt: 5, networks: ["10.0.0.0/24"]),
        ])
        let k1 = try #require(try store.traceScan(code: "K1"))
        #expect(k1.count == 6 && k1.firstAt == 10 && k1.lastAt == 40)
        #expect(Set(k1.networks) == ["10.0.0.0/24", "192.168.1.0/24"])
        #expect(try store.traceScan(code: "K2")?.count == 1)
    }
}
