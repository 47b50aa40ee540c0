import Foundation
import ShennongCore
import Testing

/// Token scopes and revocation on every engine.
@Suite("store contract: token scopes and revocation")
struct TokenContractTests {
    @Test("a token keeps its scope; revoking refuses its secret at once, lookup by id still shows it revoked", arguments: StoreEngine.all)
    func scopeAndRevoke(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let scope = try AccessScope.parse("domain=water,site=东陂村,area=4418,device=pond-1")
        let scoped = try store.createToken(name: "水产站", role: .operator, scope: scope)
        let open = try store.createToken(name: "ops", role: .admin)

        let info = try #require(try store.authenticate(token: scoped))
        #expect(info.scope == scope && info.role == .operator && info.revokedAt == nil)
        #expect(try store.authenticate(token: open)?.scope == .everything)
        #expect(try store.token(id: info.id) == info)
        #expect(try store.liveToken(id: info.id) == info)
        #expect(try store.token(id: 999_999) == nil)

        #expect(try store.revokeToken(id: info.id) == true)
        #expect(try store.authenticate(token: scoped) == nil, "a revoked secret authenticates no more")
        let revoked = try #require(try store.token(id: info.id))
        #expect(revoked.isRevoked && revoked.scope == scope)
        #expect(try store.liveToken(id: info.id) == nil)
        #expect(try store.revokeToken(id: info.id) == false, "revoking twice changes nothing")
        #expect(try store.token(id: info.id)?.revokedAt == revoked.revokedAt)
        let error = #expect(throws: StoreError.self) { try store.revokeToken(id: 999_999) }
        #expect(error?.code == .notFound)

        // The other token is untouched; the listing shows both, the revoked one as revoked.
        #expect(try store.authenticate(token: open)?.name == "ops")
        let listed = try store.tokens()
        #expect(listed.map(\.name) == ["水产站", "ops"])
        #expect(listed.map(\.isRevoked) == [true, false])
        #expect(listed.map(\.scope) == [scope, .everything])
    }
}
