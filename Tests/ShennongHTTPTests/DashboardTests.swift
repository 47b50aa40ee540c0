import Foundation
import ShennongCore
import ShennongStore
import Testing

@testable import ShennongHTTP

/// A settable clock for the session table (ms).
final class TestClock: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `now` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Int64 = 1_763_700_000_000
    var now: Int64 { lock.withLock { value } }
    func advance(_ ms: Int64) { lock.withLock { value += ms } }
}

/// The session table on a real store (a temporary SQLite file) with real tokens: what is
/// stored is the token's id, so the token is read back at each lookup.
struct DashboardSessionTests {
    let store: Store
    let operatorToken: TokenInfo
    let viewerToken: TokenInfo

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-\(UUID().uuidString)")
        store = try Store(path: directory.appendingPathComponent("s.db").path, durable: false)
        operatorToken = try #require(try store.authenticate(token: store.createToken(name: "duty-officer", role: .operator)))
        viewerToken = try #require(try store.authenticate(token: store.createToken(name: "grid-officer", role: .viewer)))
    }

    @Test("a session id is 64 random hex digits, finds its token, and ends at its lifetime or at logout")
    func sessions() throws {
        let clock = TestClock()
        let table = DashboardSessions(store: store, sessionLifetime: 3_600_000, clock: WallClock { clock.now })
        let a = try table.open(for: operatorToken), b = try table.open(for: operatorToken)
        #expect(a != b && DashboardSessions.isWellFormed(a) && DashboardSessions.isWellFormed(b))
        #expect(table.session(a)?.token == operatorToken)
        #expect(table.session("nope") == nil && table.session(String(repeating: "0", count: 64)) == nil)
        // Upper-case or longer forms of a valid id are not the id.
        #expect(table.session(a.uppercased()) == nil && table.session(a + "0") == nil)
        clock.advance(3_599_999)
        #expect(table.session(a) != nil)
        clock.advance(1)
        #expect(table.session(a) == nil, "expired at its lifetime")
        table.close(b)
        #expect(table.session(b) == nil)
    }

    @Test("a session opened on one node is found, closed and CSRF-checked on another sharing the database")
    func acrossNodes() throws {
        let one = DashboardSessions(store: store), two = DashboardSessions(store: store)
        let a = try one.open(for: viewerToken)
        #expect(two.session(a)?.token == viewerToken)
        #expect(two.checkCSRF(one.csrfToken(a), session: a))
        let code = try two.issueCode(for: operatorToken)
        #expect(one.redeem(code: code) == operatorToken)
        #expect(two.redeem(code: code) == nil, "single use across nodes")
        two.close(a)
        #expect(one.session(a) == nil)
    }

    @Test("the CSRF token is the session's HMAC: accepted for its own session only, refused when altered or short")
    func csrf() throws {
        let table = DashboardSessions(store: store)
        let a = try table.open(for: operatorToken), b = try table.open(for: viewerToken)
        let token = table.csrfToken(a)
        #expect(token.count == 64 && token != a)
        #expect(table.checkCSRF(token, session: a))
        #expect(!table.checkCSRF(token, session: b))
        #expect(!table.checkCSRF(table.csrfToken(b), session: a))
        var altered = Array(token)
        altered[10] = altered[10] == "0" ? "1" : "0"
        #expect(!table.checkCSRF(String(altered), session: a))
        #expect(!table.checkCSRF(String(token.prefix(62)), session: a))
        #expect(!table.checkCSRF("", session: a) && !table.checkCSRF("zz" + token.dropFirst(2), session: a))
    }

    @Test("a login code works once, within its lifetime, for the token it was issued to")
    func loginCodes() throws {
        let clock = TestClock()
        let table = DashboardSessions(store: store, codeLifetime: 60_000, clock: WallClock { clock.now })
        let code = try table.issueCode(for: viewerToken)
        #expect(table.redeem(code: code) == viewerToken)
        #expect(table.redeem(code: code) == nil, "single use")
        let late = try table.issueCode(for: viewerToken)
        clock.advance(60_000)
        #expect(table.redeem(code: late) == nil, "expired after 60 s")
        let fresh = try table.issueCode(for: operatorToken)
        clock.advance(59_999)
        #expect(table.redeem(code: "x" + fresh.dropFirst()) == nil)
        #expect(table.redeem(code: fresh) == operatorToken)
    }

    @Test("the table is bounded: beyond its capacity the oldest sessions are dropped")
    func capacity() throws {
        let clock = TestClock()
        let table = DashboardSessions(store: store, capacity: 3, clock: WallClock { clock.now })
        var ids: [String] = []
        for _ in 0..<5 {
            ids.append(try table.open(for: viewerToken))
            clock.advance(1000)
        }
        #expect(table.count == 3)
        #expect(table.session(ids[0]) == nil && table.session(ids[1]) == nil)
        #expect(ids[2...].allSatisfy { table.session($0) != nil })
    }
}

struct DashboardRenderingTests {
    @Test("the SVG chart: one polyline per run, broken at a long gap; min/max and time labels; text escaped")
    func chart() {
        let minute: Int64 = 60_000
        let start: Int64 = 1_763_700_000_000
        var points = (0..<30).map { SVGChart.Point(t: start + Int64($0) * minute, v: 5 + Double($0) / 10) }
        // Two hours of silence, then more reports.
        points += (0..<10).map { SVGChart.Point(t: start + 150 * minute + Int64($0) * minute, v: 3) }
        let chart = SVGChart(points: points, from: start - 60 * minute, to: start + 200 * minute, unit: "<mg/L>", precision: 2)
        #expect(chart.runs().map(\.count) == [30, 10])
        let svg = chart.render()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains("最大 7.90 &lt;mg/L&gt;") && svg.contains("最小 3.00 &lt;mg/L&gt;"))
        var english = chart
        english.strings = .en
        #expect(english.render().contains("max 7.90 &lt;mg/L&gt;") && english.label == "40 points" && chart.label == "40 个点")
        #expect(!svg.contains("<mg/L>"))
        // The axis runs from 11:40 to 16:00 (+08:00), 13:50 in the middle.
        #expect(svg.contains(">11-21 11:40<") && svg.contains(">11-21 13:50<") && svg.contains(">11-21 16:00<"))
        // Every plotted point inside the plot area.
        let polyline = svg.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
        let coordinates = polyline.split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
        #expect(coordinates.count == 30)
        #expect(coordinates.allSatisfy { $0[0] >= 112 && $0[0] <= 1104 && $0[1] >= 14 && $0[1] <= 306 })
        let empty = SVGChart(points: [], from: start, to: start + minute, unit: "", precision: 1).render()
        #expect(empty.contains("无数据") && !empty.contains("<polyline"))
        #expect(SVGChart(points: [], from: start, to: start + minute, unit: "", precision: 1, strings: .en).render().contains("no data"))
    }

    @Test("form bodies: percent and plus decoding, first value wins, missing values empty")
    func forms() {
        let form = DashboardPages.parseForm("csrf=ab%20c&note=%E5%A2%9E%E6%B0%A7+on&note=second&flag&x=%3Cb%3E")
        #expect(form["csrf"] == "ab c")
        #expect(form["note"] == "增氧 on")
        #expect(form["flag"] == "")
        #expect(form["x"] == "<b>")
    }

    @Test("ages and numbers as the dashboard writes them, in Chinese and in English")
    func text() {
        #expect(DashboardView.ageText(42_000) == "42 秒")
        #expect(DashboardView.ageText(5 * 60_000 + 10_000) == "5 分钟")
        #expect(DashboardView.ageText(3 * 3_600_000 + 10 * 60_000) == "3 小时 10 分钟")
        #expect(DashboardView.ageText(2 * 86_400_000 + 4 * 3_600_000) == "2 天 4 小时")
        #expect(DashboardView.ageText(0) == "0 秒" && DashboardView.ageText(3_600_000) == "1 小时")
        #expect(DashboardView.ageText(42_000, .en) == "42 s")
        #expect(DashboardView.ageText(5 * 60_000 + 10_000, .en) == "5 min")
        #expect(DashboardView.ageText(3 * 3_600_000 + 10 * 60_000, .en) == "3 h 10 min")
        #expect(DashboardView.ageText(2 * 86_400_000 + 4 * 3_600_000, .en) == "2 d 4 h")
        #expect(DashboardView.format(1.5, precision: 2) == "1.5")
        #expect(DashboardView.format(2, precision: 2) == "2")
        #expect(DashboardView.format(101.776, precision: 2) == "101.78")
        #expect(DashboardView.format(-0.001, precision: 1) == "0")
    }
}
