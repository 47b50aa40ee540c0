import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import ShennongAPI
import ShennongAlerts
import ShennongCore
import ShennongRules
import ShennongSeal

/// The staff dashboard under `/dashboard`: server-rendered HTML (Mustache templates in
/// dashboards/staff), no script, no external asset. Pages are in Chinese (zh-CN) unless the
/// browser's `Accept-Language` prefers English (``StaffStrings``); times are local time
/// (`offsetMinutes`).
///
/// - `GET /dashboard/login`: the token form; with `?code=` a one-time login code is redeemed
///   (cookie set, 303 to `/dashboard`).
/// - `POST /dashboard/login` (`token=snk_…`): checks the staff token, opens a session. Too
///   many failed logins from one address (``LoginRateLimit``) get 429 with `Retry-After`.
/// - `GET /dashboard`: sites and devices with their latest values and freshness, open
///   warnings by level with acknowledge/resolve forms, the fire-danger indices of the weather
///   stations at every level (levels 1–2 as the index and its level name, without a warning),
///   recent rejects.
/// - `GET /dashboard/chart?device=&metric=&hours=24`: one series as an inline SVG line.
/// - `POST /dashboard/alerts/{id}/ack|resolve` (operator; form `csrf`, `note`), calling the
///   same alerts-store functions as the API.
/// - `POST /dashboard/logout` (form `csrf`).
/// - `POST /api/v1/dashboard/login-code` (bearer token, any role): a single-use code valid
///   60 s for the caller's own token, and the login URL path.
///
/// The cookie `shennong_session` (HttpOnly, SameSite=Strict, Path=/dashboard) holds a random
/// session id, never the token; every form carries the session's CSRF token (an HMAC of the
/// session id), checked in constant time; a POST without it gets 403.
public struct DashboardPages: RouteGroup {
    public static let cookieName = "shennong_session"

    let store: any AlertStore & StaffStore
    let sessions: DashboardSessions
    let templates: MustacheLibrary
    let profiles: @Sendable () -> [String: DeviceProfile]
    let notify: @Sendable (AlertNotice) -> Void
    let offsetMinutes: Int
    let secureCookie: Bool
    let logger: Logger
    /// "now" of the pages: ages, freshness, chart ranges, the login limit.
    let clock: WallClock
    /// Failed logins per client address.
    let loginThrottle: LoginThrottle
    /// The derived indices' latest values (fire danger at every level), from the rules.
    let indexStatuses: @Sendable () -> [IndexStatus]
    /// The seals of the monitoring data, for the overview's line (none: no line).
    public var seals: SealWatch?

    /// - Parameters:
    ///   - notify: called with each transition made from the dashboard (the same hook the
    ///     alerts API calls: notifiers, the open-alerts gauge).
    ///   - offsetMinutes: local time of the pages (+08:00: 480).
    ///   - loginLimit: failed logins allowed per client address.
    ///   - indexStatuses: the derived indices' latest values (``RulesStage/indexStatuses(device:)``).
    public init(
        store: any AlertStore & StaffStore, sessions: DashboardSessions, templates: MustacheLibrary,
        profiles: @escaping @Sendable () -> [String: DeviceProfile], notify: @escaping @Sendable (AlertNotice) -> Void,
        offsetMinutes: Int = 480, secureCookie: Bool = false, loginLimit: LoginRateLimit = LoginRateLimit(),
        indexStatuses: @escaping @Sendable () -> [IndexStatus] = { [] }, clock: WallClock = .system, logger: Logger
    ) {
        self.init(
            store: store, sessions: sessions, templates: templates, profiles: profiles, notify: notify,
            offsetMinutes: offsetMinutes, secureCookie: secureCookie, loginThrottle: LoginThrottle(limit: loginLimit),
            indexStatuses: indexStatuses, clock: clock, logger: logger)
    }

    init(
        store: any AlertStore & StaffStore, sessions: DashboardSessions, templates: MustacheLibrary,
        profiles: @escaping @Sendable () -> [String: DeviceProfile], notify: @escaping @Sendable (AlertNotice) -> Void,
        offsetMinutes: Int, secureCookie: Bool, loginThrottle: LoginThrottle,
        indexStatuses: @escaping @Sendable () -> [IndexStatus] = { [] }, clock: WallClock, logger: Logger
    ) {
        self.indexStatuses = indexStatuses
        self.loginThrottle = loginThrottle
        self.clock = clock
        self.store = store
        self.sessions = sessions
        self.templates = templates
        self.profiles = profiles
        self.notify = notify
        self.offsetMinutes = offsetMinutes
        self.secureCookie = secureCookie
        self.logger = logger
    }

    /// Loads `*.mustache` from `directory` and checks the pages' templates are there.
    public static func loadTemplates(directory: String) throws -> MustacheLibrary {
        let (library, missing) = try MustacheLibrary.load(
            directory: directory, needed: ["dashboard", "login", "chart", "message", "style", "header"])
        if let missing {
            throw DashboardError(.templateMissing, "dashboard template \(missing).mustache is missing from \(directory) (dashboard.templates_dir)")
        }
        return library
    }

    public func register(on router: Router<StaffContext>) {
        router.get("dashboard") { request, _ in try self.home(request) }
        router.get("dashboard/login") { request, _ in try self.loginPage(request) }
        router.post("dashboard/login") { request, context in try await self.login(request, context) }
        router.post("dashboard/logout") { request, context in try await self.logout(request, context) }
        router.get("dashboard/chart") { request, _ in try self.chart(request) }
        for action in ["ack", "resolve"] {
            router.post("dashboard/alerts/{id}/\(action)") { request, context in
                try await self.act(action, request, context)
            }
        }
        let api = router.group("api/v1").add(middleware: BearerAuthMiddleware(store: store))
        api.post("dashboard/login-code") { _, context in try self.loginCode(context) }
    }

    // MARK: login

    private func loginPage(_ request: Request) throws -> Response {
        let t = Self.strings(request)
        if let code = request.uri.queryParameters["code"] {
            guard let token = sessions.redeem(code: String(code)) else {
                logger.notice("dashboard login code refused (unknown, used or expired)")
                return page("login", LoginPage(t: t, error: t.loginLinkInvalid), status: .unauthorized)
            }
            return try startSession(token, replacing: request)
        }
        if session(request) != nil { return Self.redirect("/dashboard") }
        return page("login", LoginPage(t: t), status: .ok)
    }

    private func login(_ request: Request, _ context: StaffContext) async throws -> Response {
        let t = Self.strings(request)
        // Login CSRF: another site must not log a browser in with the other site's token.
        if Self.isCrossSite(request) {
            logger.notice("dashboard login refused (cross-site form)")
            return forbidden(t.crossSiteLogin, t)
        }
        let client = LoginThrottle.clientKey(context.remoteAddress)
        if let retryAfter = loginThrottle.refusal(client, now: clock.now()) {
            logger.notice("dashboard login refused (too many failed logins)", metadata: ["client": "\(client)"])
            var response = page("login", LoginPage(t: t, error: t.tooManyLogins(retryAfter)), status: .tooManyRequests)
            response.headers[.retryAfter] = "\(retryAfter)"
            return response
        }
        let form = try await Self.form(request, context)
        let secret = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let token = try store.authenticate(token: secret) else {
            loginThrottle.failed(client, now: clock.now())
            logger.notice("dashboard login refused (unknown token)")
            return page("login", LoginPage(t: t, error: t.unknownToken), status: .unauthorized)
        }
        return try startSession(token, replacing: request)
    }

    /// Whether the browser says the form came from another site (`Sec-Fetch-Site`, or an
    /// `Origin` whose host is not this request's `Host`). Clients that send neither pass.
    static func isCrossSite(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] {
            return site != "same-origin" && site != "none"
        }
        if let origin = request.headers[.origin], origin != "null", let host = request.head.authority {
            let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            return originHost != host
        }
        return false
    }

    private func startSession(_ token: TokenInfo, replacing request: Request) throws -> Response {
        // A new login ends the session the browser had (no two live sessions per browser).
        if let (old, _) = session(request) { sessions.close(old) }
        let id = try sessions.open(for: token)
        logger.info("dashboard login", metadata: ["token": "\(token.name)", "role": "\(token.role.rawValue)"])
        var response = Self.redirect("/dashboard")
        response.headers[.setCookie] = cookie(id, maxAge: Int(sessions.sessionLifetime / 1000))
        return response
    }

    private func logout(_ request: Request, _ context: StaffContext) async throws -> Response {
        let form = try await Self.form(request, context)
        if let (id, _) = session(request) {
            guard sessions.checkCSRF(form["csrf"] ?? "", session: id) else {
                let t = Self.strings(request)
                return forbidden(t.csrfRefused, t)
            }
            sessions.close(id)
        }
        var response = Self.redirect("/dashboard/login")
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    private func loginCode(_ context: StaffContext) throws -> API.LoginCode {
        try context.require(.viewer)
        guard let token = context.token else { throw APIError(.unauthorized, "missing bearer token") }
        let code = try sessions.issueCode(for: token)
        return API.LoginCode(code: code, path: "/dashboard/login?code=\(code)", expiresIn: Int(sessions.codeLifetime / 1000))
    }

    func cookie(_ value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=/dashboard; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "")
    }

    /// The session of the request's cookie, with its id. The token behind it is read from the
    /// store on every request: a revoked or deleted token ends the session at once, and the
    /// session carries the token's current role and scope.
    func session(_ request: Request) -> (String, DashboardSessions.Session)? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                guard pair.hasPrefix(Self.cookieName + "=") else { continue }
                let id = String(pair.dropFirst(Self.cookieName.count + 1))
                if var session = sessions.session(id) {
                    // A store error refuses too (fail closed).
                    guard let live = try? store.liveToken(id: session.token.id) else {
                        sessions.close(id)
                        logger.notice("dashboard session ended: its token is revoked", metadata: ["token": "\(session.token.name)"])
                        return nil
                    }
                    session.token = live
                    return (id, session)
                }
            }
        }
        return nil
    }

    // MARK: pages

    /// A request of a logged-in session, with what every page of it shows around its content
    /// (its ``PageFrame``).
    struct SignedIn {
        var id: String
        var session: DashboardSessions.Session
        var now: Int64
        var frame: PageFrame
        /// The page's words.
        var t: StaffStrings { frame.t }
    }

    /// The logged-in session of `request`, or `nil` (the pages then redirect to the login).
    func signedIn(_ request: Request) -> SignedIn? {
        guard let (id, session) = session(request) else { return nil }
        let now = clock.now()
        return SignedIn(
            id: id, session: session, now: now,
            frame: PageFrame(
                t: Self.strings(request), user: DashboardUser(name: session.token.name, role: session.token.role.rawValue),
                csrf: sessions.csrfToken(id), generated: LocalTime.format(now, offsetMinutes: offsetMinutes)))
    }

    private func home(_ request: Request) throws -> Response {
        guard let signedIn = signedIn(request) else { return Self.redirect("/dashboard/login") }
        let token = signedIn.session.token
        var model = try DashboardView.build(
            store: store, profiles: profiles(), now: signedIn.now, offsetMinutes: offsetMinutes,
            canAct: token.role >= .operator, indices: indexStatuses(), strings: signedIn.t, scope: token.scope)
        if let seals {
            let note = SealNotes.staff(seals.current(), language: model.t.language, offsetMinutes: offsetMinutes)
            model.dataSeal = note.text
            model.dataSealFailed = note.failed
        }
        return page("dashboard", model, for: signedIn)
    }

    private func chart(_ request: Request) throws -> Response {
        guard let signedIn = signedIn(request) else { return Self.redirect("/dashboard/login") }
        let (session, t) = (signedIn.session, signedIn.t)
        let q = request.uri.queryParameters
        guard let device = q["device"].map(String.init), Device.isValidID(device),
            let metric = q["metric"].map(String.init), !metric.isEmpty, metric.count <= 64
        else { return message(t.badRequest, t.deviceAndMetricRequired, t, status: .badRequest) }
        let hours = Int(q["hours"] ?? "24").flatMap { [24, 168, 720].contains($0) ? $0 : nil } ?? 24
        let found = try store.deviceRecords(id: device).first
        if !session.token.scope.isEverything, !(found.map { session.token.scope.contains($0.device) } ?? false) {
            // Outside the scope or missing: one answer for both.
            return forbidden(t.scopeRefused, t)
        }
        guard found != nil else {
            return message(t.notFound, t.noSuchDevice(device), t, status: .notFound)
        }
        let now = signedIn.now
        let from = now - Int64(hours) * 3_600_000
        let info = MetricCatalogue.metric(named: metric)
        var points: [SVGChart.Point]
        var source: String
        if hours == 24 {
            let raw = try store.readings(device: device, metric: metric, from: from, to: now + 1, limit: 20_000)
            if raw.count < 20_000 {
                points = raw.map { SVGChart.Point(t: $0.timestamp, v: $0.value) }
                source = t.sourceRaw(raw.count)
            } else {
                points = try store.aggregates(device: device, metric: metric, from: from, to: now + 1, every: 300_000)
                    .map { SVGChart.Point(t: $0.start, v: $0.mean) }
                source = t.sourceFiveMinutes
            }
        } else {
            points = try store.aggregates(device: device, metric: metric, from: from, to: now + 1, every: 3_600_000)
                .map { SVGChart.Point(t: $0.start, v: $0.mean) }
            source = t.sourceHourly
        }
        points.sort { $0.t < $1.t }
        let svg = SVGChart(
            points: points, from: from, to: now, unit: info?.unit ?? "", precision: info?.precision ?? 2,
            offsetMinutes: offsetMinutes, strings: t
        ).render()
        let values = points.map(\.v)
        var model = ChartPage(
            device: device, metric: metric, label: t.metric(metric, info?.chineseName), unit: info?.unit ?? "", svg: svg,
            source: source, points: t.points(points.count),
            base: "/dashboard/chart?device=\(DashboardView.query(device))&metric=\(DashboardView.query(metric))",
            ranges: [24, 168, 720].map { h in
                ChartPage.Range(hours: h, label: t.range(h), current: h == hours)
            })
        if let lo = values.min(), let hi = values.max(), let last = points.last {
            let p = info?.precision ?? 2
            model.stats = ChartPage.Stats(
                min: SVGChart.number(lo, p), max: SVGChart.number(hi, p), last: SVGChart.number(last.v, p),
                lastAt: LocalTime.format(last.t, offsetMinutes: offsetMinutes))
        }
        return page("chart", model, for: signedIn)
    }

    // MARK: actions

    private func act(_ action: String, _ request: Request, _ context: StaffContext) async throws -> Response {
        let t = Self.strings(request)
        guard let (sessionID, session) = session(request) else {
            return message(t.notLoggedIn, t.logInFirst, t, status: .unauthorized)
        }
        let form = try await Self.form(request, context)
        guard sessions.checkCSRF(form["csrf"] ?? "", session: sessionID) else {
            logger.notice("dashboard action refused: CSRF token missing or wrong", metadata: ["token": "\(session.token.name)"])
            return forbidden(t.csrfRefused, t)
        }
        guard session.token.role >= .operator else {
            return forbidden(t.operatorRoleNeeded, t)
        }
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else {
            return message(t.badRequest, t.badAlertID, t, status: .badRequest)
        }
        if !session.token.scope.isEverything {
            let gate = ScopeGate(session.token.scope)
            do {
                try gate.check(device: try store.alert(id: id)?.device, kind: "alert", id: "\(id)", store)
            } catch is APIError {
                return forbidden(t.scopeRefused, t)
            }
        }
        let note = form["note"].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : String($0.prefix(1000)) }
        let by = "\(session.token.name) (dashboard)"
        let notice: AlertNotice
        do {
            notice = action == "ack"
                ? try store.acknowledgeAlert(id: id, by: by, note: note) : try store.resolveAlert(id: id, by: by, note: note)
        } catch let error as StoreError {
            let status: HTTPResponse.Status = error.code == .notFound ? .notFound : error.code == .conflict ? .conflict : .badRequest
            return message(t.notDone, error.message, t, status: status)
        }
        notify(notice)
        logger.info("dashboard \(action)", metadata: ["alert": "\(id)", "by": "\(by)"])
        return Self.redirect("/dashboard#alerts")
    }

    private func forbidden(_ text: String, _ t: StaffStrings) -> Response { message(t.forbidden, text, t, status: .forbidden) }

    private func message(_ title: String, _ text: String, _ t: StaffStrings, status: HTTPResponse.Status) -> Response {
        page("message", MessagePage(t: t, title: title, message: text), status: status)
    }

    // MARK: helpers

    /// The words of the page for `request`: Chinese unless its `Accept-Language` prefers English.
    static func strings(_ request: Request) -> StaffStrings {
        StaffStrings.of(Language.preferred(acceptLanguage: request.headers[.acceptLanguage]))
    }

    /// `template` rendered with `model` (a struct whose properties the template names).
    private func page(_ template: String, _ model: Any, status: HTTPResponse.Status) -> Response {
        Self.html(templates.render(model, withTemplate: template) ?? "", status: status)
    }

    /// The page `template` of a signed-in session: `content` in the session's frame
    /// (``FramedPage``).
    func page(_ template: String, _ content: some Any, for signedIn: SignedIn) -> Response {
        page(template, FramedPage(frame: signedIn.frame, content: content), status: .ok)
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .vary: "Accept-Language",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// An `application/x-www-form-urlencoded` body (at most 64 KiB) as a dictionary (the first
    /// value of a repeated key wins).
    static func form(_ request: Request, _ context: StaffContext) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        return parseForm(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func parseForm(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

}

/// What every page of a signed-in session shows around its content: the page's words (`t`),
/// who is logged in, the session's CSRF token (the logout form and every action form), when
/// the page was made.
struct PageFrame {
    var t: StaffStrings
    var user: DashboardUser
    var csrf: String
    var generated: String
}

/// A page of a signed-in session as its template reads it: the frame's `t`, `user`, `csrf` and
/// `generated`, then the content's own fields, read by name as Mustache reads any value.
struct FramedPage<Content>: MustacheParent {
    var frame: PageFrame
    var content: Content

    func child(named name: String) -> Any? {
        switch name {
        case "t": frame.t
        case "user": frame.user
        case "csrf": frame.csrf
        case "generated": frame.generated
        default: Mirror(reflecting: content).children.first { $0.label == name }.flatMap { Self.unwrapped($0.value) }
        }
    }

    /// `value`, or what it holds when it is an optional (`nil` for none).
    private static func unwrapped(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first?.value
    }
}

/// The login page: the token form, and why the last try failed.
struct LoginPage {
    var t: StaffStrings
    var error: String?
}

/// A short page with a title and a sentence (refusals, errors).
struct MessagePage {
    var t: StaffStrings = .zh
    var title: String
    var message: String
}

/// One series as a chart, with its range links and figures.
struct ChartPage {
    struct Range {
        var hours: Int
        var label: String
        var current: Bool
    }

    struct Stats {
        var min: String
        var max: String
        var last: String
        var lastAt: String
    }

    var device: String
    var metric: String
    /// The metric as the page's language names it.
    var label: String
    var unit: String
    /// Inline SVG (the template writes it unescaped; SVGChart escapes its text).
    var svg: String
    var source: String
    /// `96 个点` / `96 points`.
    var points: String
    var base: String
    var ranges: [Range]
    var stats: Stats?
}

/// A dashboard set-up problem.
public struct DashboardError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A template the pages need is not in `dashboard.templates_dir`.
        case templateMissing = "template_missing"
    }
    public var code: Code
    public var message: String
    public var description: String { "\(code.rawValue): \(message)" }
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
