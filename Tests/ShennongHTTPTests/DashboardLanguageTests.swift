import Foundation
import HTTPTypes
import Logging
import Mustache
import ShennongAlerts
import ShennongCore
import ShennongRules
import ShennongStore
import ShennongTestSupport
import Testing

@testable import ShennongHTTP

/// The staff pages in Chinese first and in English by `Accept-Language`: one catalogue per
/// language (``StaffStrings``), every key the templates name present in both; and the
/// fire-danger indices at every level on the dashboard.
struct DashboardLanguageTests {
    static var templatesDirectory: URL { ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/staff") }

    /// Han characters (CJK unified ideographs and punctuation).
    static func hasHan(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) || (0x3000...0x303F).contains($0.value) || (0xFF00...0xFF60).contains($0.value) }
    }

    @Test("every {{t.key}} of the staff templates is a string of the catalogue in both languages")
    func templateKeys() throws {
        let regex = try NSRegularExpression(pattern: #"\{\{[#^/]?\s*t\.([A-Za-z]+)\s*\}\}"#)
        var used = Set<String>()
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.templatesDirectory.path).filter { $0.hasSuffix(".mustache") }
        #expect(files.count >= 6)
        for file in files {
            let text = try String(contentsOf: Self.templatesDirectory.appendingPathComponent(file), encoding: .utf8)
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                used.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
            // No bilingual leftovers: the words of a page come from the catalogue.
            if file != "style.mustache" {
                #expect(!Self.hasHan(text), "\(file) has Chinese text of its own")
            }
        }
        #expect(used.count > 60, "\(used.count) keys")
        for language in Language.allCases {
            let table = try #require(StaffStrings.tables[language])
            for key in used.sorted() {
                #expect(table[key]?.isEmpty == false, "t.\(key) is not a string of the \(language) catalogue")
            }
        }
    }

    @Test("English has no Chinese; Chinese words are Chinese; the two differ wherever a word is translated")
    func catalogues() throws {
        let zh = try #require(StaffStrings.tables[.zh]), en = try #require(StaffStrings.tables[.en])
        #expect(Set(zh.keys) == Set(en.keys))
        for (key, text) in en where key != "language" {
            #expect(!Self.hasHan(text), "en.\(key) = \(text)")
        }
        for (key, text) in zh where !["language", "htmlLang"].contains(key) {
            #expect(Self.hasHan(text), "zh.\(key) = \(text)")
        }
        #expect(zh["htmlLang"] == "zh-CN" && en["htmlLang"] == "en")
        // The words that carry a value, and those about enums.
        #expect(StaffStrings.zh.tooManyLogins(30) == "登录失败次数过多，请 30 秒后再试。")
        #expect(StaffStrings.en.tooManyLogins(30) == "Too many failed logins: try again in 30 s.")
        #expect(StaffStrings.zh.levelTitle(.red) == "红色（I级 特别严重）" && StaffStrings.en.levelTitle(.red) == "red (I, particularly severe)")
        #expect(StaffStrings.zh.domain(.water) == "水质" && StaffStrings.en.domain(.water) == "water")
        #expect(StaffStrings.zh.metric("dissolved_oxygen", "溶解氧") == "溶解氧 · dissolved_oxygen")
        #expect(StaffStrings.en.metric("dissolved_oxygen", "溶解氧") == "dissolved_oxygen")
        let two = DerivedIndex.fireDanger.grade(of: 40)
        #expect(StaffStrings.zh.indexGrade(.fireDanger, two) == "二级 较低火险")
        #expect(StaffStrings.en.indexGrade(.fireDanger, two) == "level 2, moderately low")
        #expect(StaffStrings.en.range(168) == "7 d" && StaffStrings.zh.range(24) == "24 小时")
    }

    @Test("Accept-Language: English when the browser prefers it (by weight), Chinese otherwise")
    func acceptLanguage() {
        #expect(Language.preferred(acceptLanguage: nil) == .zh)
        #expect(Language.preferred(acceptLanguage: "") == .zh)
        #expect(Language.preferred(acceptLanguage: "en-US,en;q=0.9") == .en)
        #expect(Language.preferred(acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .zh)
        #expect(Language.preferred(acceptLanguage: "en;q=0.5, zh-Hans;q=0.7") == .zh)
        #expect(Language.preferred(acceptLanguage: "fr-FR, en;q=0.3") == .en)
        #expect(Language.preferred(acceptLanguage: "fr-FR, de") == .zh)
        #expect(Language.preferred(acceptLanguage: "en;q=0") == .zh)
        #expect(Language(tag: "EN-gb") == .en && Language(tag: "zh") == .zh && Language(tag: "ja") == nil)
    }

    /// The dashboard page rendered from the repository's templates over a store with a weather
    /// station, two fire-danger statuses (level 2 without a signal, level 3 yellow) and an
    /// orange warning.
    static func render(_ strings: StaffStrings) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dash-lang-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(path: dir.appendingPathComponent("t.db").path, durable: false)
        defer { try? store.close() }
        let t0 = RouteFixture.t0
        try store.addDevice(Device(id: "aws-1", profile: "generic", domain: .weather, site: "连州林场", name: "林场气象站", createdAt: t0 - 86_400_000))
        try store.addDevice(Device(id: "aws-2", profile: "generic", domain: .weather, site: "连州林场", createdAt: t0 - 86_400_000))
        var batch = IngestBatch()
        batch.readings.append(Reading(device: "aws-1", metric: "air_temp", timestamp: t0, value: 28))
        try store.commit(batch)
        _ = try RouteFixture.raiseAlert(store, at: t0 + 60_000)
        let indices = [
            IndexStatus(rule: "fire-danger", device: "aws-1", index: .fireDanger, value: 40, at: t0, warning: nil),
            IndexStatus(rule: "fire-danger", device: "aws-2", index: .fireDanger, value: 61, at: t0 + 3_600_000, warning: .yellow),
        ]
        let view = try DashboardView.build(
            store: store, profiles: [:], now: t0 + 120_000, offsetMinutes: 480, canAct: true, indices: indices, strings: strings)
        let frame = PageFrame(
            t: strings, user: DashboardUser(name: "duty", role: "operator"), csrf: "", generated: LocalTime.format(t0 + 120_000))
        let templates = try DashboardPages.loadTemplates(directory: templatesDirectory.path)
        return try #require(templates.render(FramedPage(frame: frame, content: view), withTemplate: "dashboard"))
    }

    @Test("the dashboard in Chinese: level 2 shown as 40, 二级 较低火险, no signal; level 3 with its yellow signal; words from the catalogue")
    func dashboardChinese() throws {
        let page = try Self.render(.zh)
        #expect(page.contains("<html lang=\"zh-CN\">"))
        #expect(page.contains("火险等级") && page.contains("未关闭预警") && page.contains("站点与设备"))
        let two = try #require(page.components(separatedBy: "id=\"index-aws-1-fire-danger\"").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(two.contains("<b>40</b>") && two.contains("二级 较低火险") && two.contains("grade-blue"), "\(two)")
        #expect(two.contains("<span class=\"muted\">无</span>") && !two.contains("badge yellow"))
        #expect(two.contains("林场气象站") && two.contains("森林火险指数（LY/T 1172）"))
        let three = try #require(page.components(separatedBy: "id=\"index-aws-2-fire-danger\"").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(three.contains("<b>61</b>") && three.contains("三级 较高火险") && three.contains("<span class=\"badge yellow\">黄色</span>"))
        #expect(three.contains("2025-11-21T13:40:00+08:00"), "local time: \(three)")
        #expect(page.contains("橙色（II级 严重）") && page.contains(">确认</button>") && page.contains("placeholder=\"备注\""))
        #expect(!page.contains("Open warnings") && !page.contains("Acknowledge"))
    }

    @Test("the dashboard in English: the same rows in English words, no Chinese but the data")
    func dashboardEnglish() throws {
        let page = try Self.render(.en)
        #expect(page.contains("<html lang=\"en\">"))
        #expect(page.contains("Fire danger") && page.contains("Open warnings") && page.contains("Sites and devices"))
        let two = try #require(page.components(separatedBy: "id=\"index-aws-1-fire-danger\"").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(two.contains("<b>40</b>") && two.contains("level 2, moderately low") && two.contains(">none</span>"), "\(two)")
        let three = try #require(page.components(separatedBy: "id=\"index-aws-2-fire-danger\"").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(three.contains("level 3, moderately high") && three.contains("<span class=\"badge yellow\">yellow</span>"))
        #expect(page.contains("orange (II, severe)") && page.contains(">Acknowledge</button>"))
        // What is left in Chinese is data: the site, the station's name, the alert's title and message.
        var rest = page
        for data in ["连州林场", "林场气象站", "池塘缺氧 橙色预警 — pond-1", "溶解氧 2.5 mg/L < 3 mg/L", "溶解氧 2.5 mg/L &lt; 3 mg/L"] {
            rest = rest.replacingOccurrences(of: data, with: "")
        }
        #expect(!Self.hasHan(rest), "Chinese outside the data: \(rest.unicodeScalars.filter { (0x4E00...0x9FFF).contains($0.value) }.map(String.init).joined())")
    }

    @Test("the pages by Accept-Language over HTTP: login, dashboard and a refusal in Chinese, or in English; Vary: Accept-Language")
    func pagesByAcceptLanguage() async throws {
        let fixture = try RouteFixture()
        try await fixture.test { api in
            let zhLogin = try await api.call(.get, "/dashboard/login")
            #expect(zhLogin.text.contains("<html lang=\"zh-CN\">") && zhLogin.text.contains("访问令牌"))
            #expect(zhLogin.headers[.vary] == "Accept-Language")
            let enLogin = try await api.call(.get, "/dashboard/login", headers: [.acceptLanguage: "en-GB,en;q=0.9,zh;q=0.5"])
            #expect(enLogin.text.contains("<html lang=\"en\">") && enLogin.text.contains("API token") && !Self.hasHan(enLogin.text))
            let bad = try await api.call(.get, "/dashboard/login", "/dashboard/login?code=nope", headers: [.acceptLanguage: "en"])
            #expect(bad.status == .unauthorized && bad.text.contains("This login link is invalid, used or expired."))
            let badZh = try await api.call(.get, "/dashboard/login", "/dashboard/login?code=nope")
            #expect(badZh.text.contains("登录链接无效、已使用或已过期。") && !badZh.text.contains("invalid"))

            let issued = try await api.call(.post, "/api/v1/dashboard/login-code", token: fixture.operator)
            let path = try #require(Caller.Answer.path(issued))
            let redeemed = try await api.call(.get, "/dashboard/login", path)
            let cookie = try #require(redeemed.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let zh = try await api.call(.get, "/dashboard", headers: [.cookie: cookie])
            #expect(zh.text.contains("未关闭预警") && zh.text.contains("溶解氧 · dissolved_oxygen") && !zh.text.contains("Open warnings"))
            let en = try await api.call(.get, "/dashboard", headers: [.cookie: cookie, .acceptLanguage: "en"])
            #expect(en.text.contains("Open warnings") && en.text.contains("<span class=\"name\">dissolved_oxygen</span>"))
            #expect(!en.text.contains("未关闭预警"))
            let chart = try await api.call(
                .get, "/dashboard/chart", "/dashboard/chart?device=pond-1&metric=ph", headers: [.cookie: cookie, .acceptLanguage: "en"])
            #expect(chart.text.contains("Back to the overview") && chart.text.contains(" points · "))
            let missing = try await api.call(.get, "/dashboard/chart", "/dashboard/chart?device=nope&metric=ph", headers: [.cookie: cookie])
            #expect(missing.status == .notFound && missing.text.contains("未找到设备 nope。"))
        }
    }
}

extension Caller.Answer {
    /// The login path of a `login-code` answer.
    static func path(_ answer: Caller.Answer) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["path"] as? String
    }
}
