import Foundation
import ShennongCore
import Testing

/// Token scopes as values: the text form, what a scope admits, and how it is stored.
struct AccessScopeTests {
    static func device(
        _ id: String, _ domain: Domain = .water, site: String? = nil, area: String? = nil
    ) -> Device {
        Device(id: id, profile: "generic", domain: domain, site: site, areaCode: area, createdAt: 0)
    }

    static let pond = device("pond-1", .water, site: "东陂村", area: "441882")
    static let plot = device("plot-1", .soil, site: "东陂村", area: "441882")
    static let river = device("gauge-1", .flood, site: "连江桥", area: "441802")
    static let shantou = device("pond-9", .water, site: "澄海", area: "440515")
    static let bare = device("bare-1", .water)

    @Test("everything admits every device; the empty text is everything")
    func everything() throws {
        for d in [Self.pond, Self.plot, Self.river, Self.shantou, Self.bare] { #expect(AccessScope.everything.contains(d)) }
        #expect(try AccessScope.parse("") == .everything)
        #expect(try AccessScope.parse(" , ").isEverything)
        #expect(AccessScope.everything.description == "*")
    }

    @Test("one dimension: alternatives within it; a device lacking the field is outside")
    func oneDimension() throws {
        let water = try AccessScope.parse("domain=water")
        #expect(water.contains(Self.pond) && water.contains(Self.shantou) && !water.contains(Self.plot) && !water.contains(Self.river))
        let sites = try AccessScope.parse("site=东陂村,site=连江桥")
        #expect(sites.contains(Self.pond) && sites.contains(Self.plot) && sites.contains(Self.river))
        #expect(!sites.contains(Self.shantou) && !sites.contains(Self.bare))
        // Area codes are prefixes: 4418 is Qingyuan, 441882 Lianzhou, 44 Guangdong.
        let qingyuan = try AccessScope.parse("area=4418")
        #expect(qingyuan.contains(Self.pond) && qingyuan.contains(Self.river) && !qingyuan.contains(Self.shantou))
        #expect(!qingyuan.contains(Self.bare), "no area code: outside an area scope")
        #expect(try AccessScope.parse("area=441882").contains(Self.river) == false)
        #expect(try AccessScope.parse("area=44").contains(Self.shantou))
        let one = try AccessScope.parse("device=pond-1")
        #expect(one.contains(Self.pond) && !one.contains(Self.plot))
    }

    @Test("dimensions together must all hold")
    func dimensionsTogether() throws {
        let scope = try AccessScope.parse("domain=water,area=4418")
        #expect(scope.contains(Self.pond))
        #expect(!scope.contains(Self.plot), "soil in Qingyuan")
        #expect(!scope.contains(Self.shantou), "water in Shantou")
        let narrow = try AccessScope.parse("site=东陂村,device=plot-1")
        #expect(narrow.contains(Self.plot) && !narrow.contains(Self.pond))
    }

    @Test("the text form is canonical (sorted, no duplicates) and reads back equal")
    func textRoundTrip() throws {
        let scope = try AccessScope.parse("site=b, domain=soil,site=a,domain=water,area=4418,device=x-1,site=a")
        #expect(scope.text == "domain=soil,domain=water,site=a,site=b,area=4418,device=x-1")
        #expect(try AccessScope.parse(scope.text) == scope)
        #expect(scope.domains == [.soil, .water] && scope.sites == ["a", "b"])
    }

    @Test("bad texts are refused with a reason", arguments: [
        "domain", "domain=", "domain=aquaculture", "domain=health", "region=44", "area=4", "area=44a", "area=1234567890123",
        "device=bad id", "site=" + String(repeating: "x", count: 201),
    ])
    func refused(text: String) {
        #expect(throws: AccessScope.ParseError.self) { try AccessScope.parse(text) }
    }

    @Test("stored form: NULL for everything, JSON otherwise; an unreadable stored scope is nil (refused, never everything)")
    func stored() throws {
        #expect(AccessScope.everything.storedText == nil)
        #expect(AccessScope.stored(nil) == .everything && AccessScope.stored("") == .everything)
        let scope = try AccessScope.parse("domain=water,site=东陂村,area=4418")
        let text = try #require(scope.storedText)
        #expect(AccessScope.stored(text) == scope)
        #expect(AccessScope.stored(#"{"domains":["aquaculture"],"sites":[],"areas":[],"devices":[]}"#) == nil)
        #expect(AccessScope.stored("not json") == nil)
    }

    @Test("a token's liveness: revoked tokens are not live")
    func tokenInfo() {
        var token = TokenInfo(id: 1, name: "a", role: .viewer, createdAt: 0)
        #expect(!token.isRevoked && token.scope.isEverything)
        token.revokedAt = 5
        #expect(token.isRevoked)
    }
}
