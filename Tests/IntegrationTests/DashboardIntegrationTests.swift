import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MosquittoClient
import ShennongCore
import ShennongProcess
import ShennongServer
import ShennongSimulator
import ShennongTestSupport
import Testing

/// The staff dashboard in a real headless Chromium (Debian's `chromium`) against a real
/// server fed by the simulator; and its forms (login, CSRF, roles) over plain HTTP.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DashboardIntegrationTests {
    static var presets: String { ShennongBinary.repositoryRoot.appendingPathComponent("Config/rules").path }

    /// A server with the preset rules, fed by `shennong simulate`: ten steady-model devices
    /// and the do-crash scenario (a red pond-oxygen warning on sim-pond-001).
    static func fedServer(broker: TestBroker) async throws -> ServerProcess {
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(presets)
                  late_after: 12h
                dashboard:
                  templates_dir: \(ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/staff").path)
                """)
        try await server.start()
        // The crash first: its readings end now, and the rules only evaluate a series forward
        // (readings older than one already evaluated are not evaluated again).
        let port = broker.port
        let crash = try await offloaded {
            try ShennongBinary.run(["simulate", "--scenario", "do-crash", "--rate", "400", "--port", "\(port)", "--seed", "7"])
        }
        #expect(crash.status == 0, "\(crash.output)")
        let red = await eventually(timeout: 30) {
            let list = (try? await server.get("/api/v1/alerts?device=sim-pond-001&rule=pond-do-low").json["alerts"]) as? [[String: Any]]
            return list?.first?["level"] as? String == "red"
        }
        #expect(red, "no red pond warning:\n\(server.log().suffix(2000))")
        let steady = try await offloaded {
            try ShennongBinary.run(["simulate", "--devices", "10", "--rate", "400", "--count", "30", "--port", "\(port)", "--seed", "3"])
        }
        #expect(steady.status == 0, "\(steady.output)")
        // A device whose name is markup, with a reading from a year ago (its value is stale), and
        // a reject whose payload is markup: the pages must show both as text.
        let add = try server.cli(["devices", "add", "old-probe", "--profile", "generic", "--domain", "water", "--name", Self.nameMarkup])
        #expect(add.status == 0, "\(add.output)")
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-dash", cleanSession: true))
        try publisher.connect()
        try publisher.publish(topic: "agri/old-probe/telemetry", payload: Array(#"{"ts": 1763700000000, "values": {"water_temp": 21.5}}"#.utf8))
        try publisher.publish(topic: "agri/xss-probe/telemetry", payload: Array(Self.markup.utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()
        // 30 messages over 10 devices: each device's latest values are in, and the old probe's.
        let model = SimulationModel(seed: 3)
        let series = 1 + SimulationModel.devices(count: 10).reduce(0) { $0 + model.values(for: $1, at: 0, interval: 1000).count }
        let arrived = await eventually(timeout: 20) {
            ((try? await server.get("/api/v1/readings/latest").json["latest"]) as? [Any])?.count == series
        }
        #expect(arrived)
        return server
    }

    static let markup = "<script>alert('x')</script>塘"
    static let nameMarkup = "<img src=x onerror=alert(1)>塘口"

    /// Where Debian's chromium is, or a failure that says how to get it.
    static func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/lib/chromium/chromium"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw TestBrokerError(
            "Debian's chromium is not installed: the dashboard test drives it headless. `make test` installs it "
                + "(TEST_APT_PACKAGES in the Makefile), or run `apt-get install -y chromium`.")
    }

    /// Runs headless chromium with `arguments` in its own process group; kills the whole
    /// group (renderers, GPU and zygote processes) when it is done or after `timeout`. The
    /// browser's language (and Accept-Language) is `language`: a Chinese browser by default.
    static func runChromium(
        _ arguments: [String], profile: String, output: String, language: String = "zh-CN", timeout: TimeInterval = 60
    ) async throws -> Int32 {
        try await offloaded { try runChromiumBlocking(arguments, profile: profile, output: output, language: language, timeout: timeout) }
    }

    static func runChromiumBlocking(
        _ arguments: [String], profile: String, output: String, language: String, timeout: TimeInterval
    ) throws -> Int32 {
        let process = try ChildProcess(
            executable: try chromium(),
            arguments: [
                "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--no-first-run",
                "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                "--lang=\(language)", "--accept-lang=\(language)",
            ] + arguments,
            outputPath: output, environment: ["HOME": profile], ownProcessGroup: true)
        let status = process.wait(timeout: timeout)
        kill(-process.pid, SIGKILL)
        _ = process.wait(timeout: 5)
        guard let status else { throw TestBrokerError("chromium did not finish in \(timeout) s: \(arguments)") }
        return status
    }

    /// The DOM chromium makes of `url` with the browser profile `profile`, its Accept-Language `language`.
    static func dump(_ url: String, profile: String, language: String = "zh-CN", in work: URL) async throws -> String {
        let path = work.appendingPathComponent("dom-\(UUID().uuidString).html").path
        let status = try await runChromium(["--dump-dom", url], profile: profile, output: path, language: language)
        let dom = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(status == 0, "chromium exited \(status):\n\(dom.suffix(2000))")
        return dom
    }

    @Test("headless Chromium: one-time login link, the dashboard shows the simulated devices, values and the red warning, in Chinese and (Accept-Language: en) in English; screenshots are kept")
    func chromiumDashboard() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try await Self.fedServer(broker: broker)
        let latest = try await server.get("/api/v1/readings/latest").json["latest"] as? [[String: Any]] ?? []
        let devices = Set(latest.compactMap { $0["device"] as? String })
        // The steady model's ten devices (its pond sim-pond-001 is the do-crash pond too) and the old probe.
        #expect(devices.count == 11 && devices.contains("sim-pond-001") && devices.contains("old-probe"), "\(devices)")

        let link = try server.cli(["dashboard", "login-link"])
        #expect(link.status == 0, "\(link.output)")
        let url = try #require(link.output.split(separator: "\n").last { $0.hasPrefix("http://") }.map(String.init))
        #expect(url.hasPrefix(server.baseURL + "/dashboard/login?code="))

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dash-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let profile = work.appendingPathComponent("profile").path
        let domPath = work.appendingPathComponent("dom.html").path
        let status = try await Self.runChromium(["--dump-dom", url], profile: profile, output: domPath)
        let dom = (try? String(contentsOfFile: domPath, encoding: .utf8)) ?? ""
        #expect(status == 0, "chromium exited \(status):\n\(dom.suffix(2000))")

        // Logged in (the code redirected to /dashboard), in Chinese: every simulated device is on the page.
        #expect(dom.contains("<html lang=\"zh-CN\">") && dom.contains("未关闭预警"), "\(dom.prefix(3000))")
        #expect(!dom.contains("Open warnings") && !dom.contains(">Acknowledge<"))
        for device in devices { #expect(dom.contains(device), "\(device) missing from the dashboard") }
        // Every latest value, at its metric's precision without trailing zeros, with its unit.
        for entry in latest {
            let metric = try #require(MetricCatalogue.metric(named: entry["metric"] as? String ?? ""))
            let value = try #require(entry["value"] as? Double)
            var text = String(format: "%.\(metric.precision)f", value)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            #expect(dom.contains("<span class=\"name\">\(metric.chineseName) · \(metric.name)</span><b>\(text)</b> \(metric.unit)"),
                    "\(entry["device"] ?? "") \(metric.name) = \(text) not shown")
        }
        #expect(dom.contains("溶解氧 · dissolved_oxygen"))
        // Markup from a device name and a rejected payload is text, never an element.
        #expect(!dom.contains("<script") && !dom.contains("<img"), "an injected element")
        #expect(dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;塘"))
        #expect(dom.contains("&lt;img src=x onerror=alert(1)&gt;塘口"))
        #expect(dom.contains("malformed_json") && dom.contains("agri/xss-probe/telemetry"))
        // Freshness: the year-old reading is marked stale; the simulator's just-published ones are not.
        let oldRow = try #require(dom.components(separatedBy: "id=\"device-old-probe\"").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(oldRow.contains("class=\"value stale\"") && oldRow.contains("<b>21.5</b> °C"))
        let soilRow = try #require(dom.components(separatedBy: "id=\"device-sim-soil-001\"").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(!soilRow.contains("stale") && soilRow.contains("fresh"))
        // The red warning with its actions (the admin token may act).
        #expect(dom.contains("<span class=\"badge red\">红色</span>"))
        #expect(dom.contains("pond-do-low"))
        #expect(dom.contains(">确认</button>") && dom.contains("红色（I级 特别严重）"))
        // The weather stations' fire danger, warning or not, with its level name.
        #expect(dom.contains("<section id=\"indices\">") && dom.contains("森林火险指数（LY/T 1172）"), "no fire-danger rows")
        #expect(dom.range(of: #"<span class="badge grade-[a-z]+">[一二三四五]级 [^<]+</span>"#, options: .regularExpression) != nil)
        // Times in Beijing time.
        #expect(dom.contains("+08:00") && dom.contains("均为本地时间"))
        // One value box per stored series.
        #expect(dom.components(separatedBy: "<a class=\"value").count - 1 == latest.count)
        // Used: the same link again is refused.
        let again = try await Self.runChromium(["--dump-dom", url], profile: work.appendingPathComponent("p2").path, output: domPath + "2")
        #expect(again == 0)
        let second = (try? String(contentsOfFile: domPath + "2", encoding: .utf8)) ?? ""
        #expect(second.contains("登录链接无效、已使用或已过期") && !second.contains("未关闭预警"))

        // The same session in a browser that prefers English: the same page in English words.
        let english = try await Self.dump(server.baseURL + "/dashboard", profile: profile, language: "en-US", in: work)
        #expect(english.contains("<html lang=\"en\">") && english.contains("Open warnings"), "\(english.prefix(3000))")
        #expect(english.contains("<span class=\"badge red\">red</span>") && english.contains(">Acknowledge</button>"))
        #expect(english.contains("<span class=\"name\">dissolved_oxygen</span>") && english.contains("Sites and devices"))
        #expect(english.contains("Forest-fire danger index (LY/T 1172)") && english.contains("times in local time"))
        #expect(!english.contains("未关闭预警") && !english.contains(">确认</button>") && !english.contains("森林火险指数"))
        for device in devices { #expect(english.contains(device), "\(device) missing from the English dashboard") }
        #expect(english.components(separatedBy: "<a class=\"value").count - 1 == latest.count)

        // The screenshot, with the session cookie of the first run.
        let artifacts = ShennongBinary.repositoryRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("dashboard.png").path
        try? FileManager.default.removeItem(atPath: png)
        let shot = try await Self.runChromium(
            ["--screenshot=\(png)", "--window-size=1280,1800", "--hide-scrollbars", server.baseURL + "/dashboard"], profile: profile,
            output: work.appendingPathComponent("shot.log").path)
        #expect(shot == 0)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        // IHDR: width and height as asked.
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280 && height == 1800, "\(width)×\(height)")
        #expect(bytes.count > 50_000, "a \(bytes.count)-byte screenshot is too small to be the dashboard")
        print("dashboard screenshot: \(png) (\(bytes.count) bytes)")
        let englishPNG = artifacts.appendingPathComponent("dashboard-en.png").path
        try? FileManager.default.removeItem(atPath: englishPNG)
        _ = try await Self.runChromium(
            ["--screenshot=\(englishPNG)", "--window-size=1280,1800", "--hide-scrollbars", server.baseURL + "/dashboard"],
            profile: profile, output: work.appendingPathComponent("shot-en.log").path, language: "en-US")
        #expect(FileManager.default.fileExists(atPath: englishPNG))

        // The chart page of the pond's oxygen, also through the browser session.
        let chartPNG = artifacts.appendingPathComponent("dashboard-chart.png").path
        try? FileManager.default.removeItem(atPath: chartPNG)
        let chartDOM = work.appendingPathComponent("chart.html").path
        _ = try await Self.runChromium(
            ["--dump-dom", server.baseURL + "/dashboard/chart?device=sim-pond-001&metric=dissolved_oxygen"], profile: profile,
            output: chartDOM)
        let chart = (try? String(contentsOfFile: chartDOM, encoding: .utf8)) ?? ""
        #expect(chart.contains("<polyline"), "\(chart.prefix(2000))")
        let stored = try await server.get("/api/v1/readings?device=sim-pond-001&metric=dissolved_oxygen&from=-24h&to=now")
            .json["readings"] as? [[String: Any]] ?? []
        let values = stored.compactMap { $0["value"] as? Double }
        #expect(values.count >= 90)
        #expect(chart.contains("\(values.count) 个点"))
        #expect(chart.contains("最大 \(String(format: "%.2f", values.max()!)) mg/L"))
        #expect(chart.contains("最小 \(String(format: "%.2f", values.min()!)) mg/L"))
        let englishChart = try await Self.dump(
            server.baseURL + "/dashboard/chart?device=sim-pond-001&metric=dissolved_oxygen", profile: profile, language: "en-US", in: work)
        #expect(englishChart.contains("<polyline") && englishChart.contains("\(values.count) points"))
        #expect(englishChart.contains("max \(String(format: "%.2f", values.max()!)) mg/L") && englishChart.contains("Back to the overview"))
        _ = try await Self.runChromium(
            ["--screenshot=\(chartPNG)", "--window-size=1280,700", "--hide-scrollbars",
             server.baseURL + "/dashboard/chart?device=sim-pond-001&metric=dissolved_oxygen"],
            profile: profile, output: work.appendingPathComponent("shot2.log").path)
        print("chart screenshot: \(chartPNG)")
        #expect(server.terminate() == 0)
    }

    @Test("forms over HTTP: token login sets a safe cookie; ack needs the CSRF token (403 without) and the operator role; logout ends the session")
    func formsAndCSRF() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try await Self.fedServer(broker: broker)
        let http = NoRedirectClient()
        defer { http.invalidate() }

        // Not logged in: the dashboard sends you to the login page.
        let anonymous = try await http.send("GET", server.baseURL + "/dashboard")
        #expect(anonymous.status == 303 && anonymous.header("Location") == "/dashboard/login")
        // A wrong token is refused.
        let wrong = try await http.send("POST", server.baseURL + "/dashboard/login", form: ["token": "snk_" + String(repeating: "0", count: 64)])
        #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil)

        // The admin token: a cookie with a random id, never the token; HttpOnly, SameSite=Strict, Path=/dashboard.
        let login = try await http.send("POST", server.baseURL + "/dashboard/login", form: ["token": server.token])
        #expect(login.status == 303 && login.header("Location") == "/dashboard")
        let setCookie = try #require(login.header("Set-Cookie"))
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/dashboard"))
        #expect(!setCookie.contains(server.token) && !setCookie.contains(String(server.token.dropFirst(4).prefix(16))))
        let firstCookie = String(setCookie.split(separator: ";")[0])
        // Login CSRF: a form posted from another site is refused, whatever token it carries.
        for header in [["Sec-Fetch-Site": "cross-site"], ["Origin": "https://evil.example"]] {
            let crossSite = try await http.send(
                "POST", server.baseURL + "/dashboard/login", form: ["token": server.token], headers: header)
            #expect(crossSite.status == 403 && crossSite.header("Set-Cookie") == nil, "\(header)")
        }
        // Logging in again from a browser with a session ends that session.
        let again = try await http.send("POST", server.baseURL + "/dashboard/login", cookie: firstCookie, form: ["token": server.token])
        let cookie = String(try #require(again.header("Set-Cookie")).split(separator: ";")[0])
        #expect(cookie != firstCookie)
        #expect(try await http.send("GET", server.baseURL + "/dashboard", cookie: firstCookie).status == 303)
        let page = try await http.send("GET", server.baseURL + "/dashboard", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        #expect(!page.body.contains("<script"))
        let csrf = try #require(Self.first(#"name="csrf" value="([0-9a-f]{64})""#, in: page.body))
        let id = try #require(Self.first(#"action="/dashboard/alerts/(\d+)/ack""#, in: page.body))
        let alertPath = "/dashboard/alerts/\(id)/ack"

        // Without the CSRF token, or with another one: 403 and nothing changes.
        let missing = try await http.send("POST", server.baseURL + alertPath, cookie: cookie, form: ["note": "x"])
        #expect(missing.status == 403)
        let forged = try await http.send(
            "POST", server.baseURL + alertPath, cookie: cookie, form: ["note": "x", "csrf": String(repeating: "a", count: 64)])
        #expect(forged.status == 403)
        #expect(try await server.get("/api/v1/alerts/\(id)").json["status"] as? String == "open")
        // Without a session: refused too.
        let noSession = try await http.send("POST", server.baseURL + alertPath, form: ["note": "x", "csrf": csrf])
        #expect(noSession.status == 401)

        // A viewer's session can look but not act.
        let viewerToken = try ShennongBinary.run(["tokens", "create", "--role", "viewer", "--name", "grid-officer", "--db", server.databasePath])
        let viewerSecret = try #require(viewerToken.output.split(separator: "\n").last { $0.hasPrefix("snk_") }.map(String.init))
        let viewerLogin = try await http.send("POST", server.baseURL + "/dashboard/login", form: ["token": viewerSecret])
        let viewerCookie = String(try #require(viewerLogin.header("Set-Cookie")).split(separator: ";")[0])
        let viewerPage = try await http.send("GET", server.baseURL + "/dashboard", cookie: viewerCookie)
        #expect(viewerPage.status == 200 && viewerPage.body.contains("pond-do-low") && !viewerPage.body.contains("/ack\""))
        let viewerCSRF = try #require(Self.first(#"name="csrf" value="([0-9a-f]{64})""#, in: viewerPage.body))
        #expect(viewerCSRF != csrf)
        let viewerAck = try await http.send("POST", server.baseURL + alertPath, cookie: viewerCookie, form: ["csrf": viewerCSRF])
        #expect(viewerAck.status == 403)
        // One session's CSRF token does not work with another session.
        let crossed = try await http.send("POST", server.baseURL + alertPath, cookie: cookie, form: ["csrf": viewerCSRF])
        #expect(crossed.status == 403)

        // With the token: acknowledged through the same store function as the API (who, note).
        let ack = try await http.send("POST", server.baseURL + alertPath, cookie: cookie, form: ["csrf": csrf, "note": "增氧机已开 aerator on"])
        #expect(ack.status == 303)
        let alert = try await server.get("/api/v1/alerts/\(id)").json
        #expect(alert["status"] as? String == "acknowledged")
        let transitions = alert["transitions"] as? [[String: Any]] ?? []
        #expect(transitions.last?["kind"] as? String == "acknowledged")
        #expect(transitions.last?["by"] as? String == "integration-test (dashboard)")
        #expect(transitions.last?["note"] as? String == "增氧机已开 aerator on")
        // Resolve from the dashboard as well.
        let resolve = try await http.send(
            "POST", server.baseURL + "/dashboard/alerts/\(id)/resolve", cookie: cookie, form: ["csrf": csrf, "note": "恢复"])
        #expect(resolve.status == 303)
        #expect(try await server.get("/api/v1/alerts/\(id)").json["status"] as? String == "resolved")

        // Logout needs the CSRF token too, then the cookie is dead.
        #expect(try await http.send("POST", server.baseURL + "/dashboard/logout", cookie: cookie).status == 403)
        let logout = try await http.send("POST", server.baseURL + "/dashboard/logout", cookie: cookie, form: ["csrf": csrf])
        #expect(logout.status == 303 && logout.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try await http.send("GET", server.baseURL + "/dashboard", cookie: cookie).status == 303)

        // Login codes: only for a token holder; single use.
        let noToken = try await http.send("POST", server.baseURL + "/api/v1/dashboard/login-code")
        #expect(noToken.status == 401)
        let issued = try await http.send("POST", server.baseURL + "/api/v1/dashboard/login-code", bearer: viewerSecret)
        let code = try #require(Self.first(#""code":"([0-9a-f]{64})""#, in: issued.body))
        let first = try await http.send("GET", server.baseURL + "/dashboard/login?code=\(code)")
        #expect(first.status == 303 && first.header("Set-Cookie") != nil)
        let reused = try await http.send("GET", server.baseURL + "/dashboard/login?code=\(code)")
        #expect(reused.status == 401 && reused.header("Set-Cookie") == nil)
        #expect(server.terminate() == 0)
    }

    static func first(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }
}

/// Plain HTTP without following redirects or keeping cookies (the test handles both).
final class NoRedirectClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `session` is set once in init and only read.
    private var session: URLSession!

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    override init() {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func invalidate() { session.invalidateAndCancel() }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func send(
        _ method: String, _ url: String, cookie: String? = nil, form: [String: String]? = nil, bearer: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if method == "POST" {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let body = (form ?? [:]).map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                .joined(separator: "&")
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)"] = "\(value)" }
        return Answer(status: http.statusCode, headers: headers, body: String(decoding: data, as: UTF8.self))
    }
}

struct DashboardConfigTests {
    @Test("Config/shennong.yaml's dashboard section parses; durations are checked; defaults without it")
    func config() throws {
        let path = ShennongBinary.repositoryRoot.appendingPathComponent("Config/shennong.yaml").path
        let shipped = try ServerConfig.load(path: path, requireFile: true)
        #expect(shipped.dashboard.enabled && shipped.dashboard.templatesDir == "dashboards/staff")
        #expect(shipped.dashboard.sessionLifetime == 12 * 3_600_000 && !shipped.dashboard.secureCookie)
        let custom = try ServerConfig.parse(yaml: "dashboard: { session_lifetime: 30m, secure_cookie: true }", source: "test")
        #expect(custom.dashboard.sessionLifetime == 1_800_000 && custom.dashboard.secureCookie)
        #expect(throws: (any Error).self) { try ServerConfig.parse(yaml: "dashboard: { session_lifetime: 10s }", source: "test") }
        #expect(try ServerConfig.parse(yaml: "http: { port: 1 }", source: "test").dashboard.sessionLifetime == 12 * 3_600_000)
    }
}
