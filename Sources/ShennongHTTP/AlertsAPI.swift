import Foundation
import Hummingbird
import ShennongAPI
import ShennongAlerts
import ShennongCore
import ShennongRules

/// The warnings API under `/api/v1` (bearer token; reads need viewer, actions operator):
///
/// - `GET /api/v1/alerts[?open=true&status=&level=&domain=&device=&rule=&limit=]`
/// - `GET /api/v1/alerts/{id}`: the alert and every transition (who, when, note)
/// - `POST /api/v1/alerts/{id}/ack|resolve|close` with `{"note": "...", "by": "name"}`
///   (`by` defaults to the token's name; close needs a note)
/// - `GET /api/v1/alerts/{id}/cap`: CAP 1.2 XML
/// - `GET /api/v1/rules`, `GET /api/v1/rules/{id}` (with each device's level and pending timers)
/// - `GET /api/v1/rules/replay?device=&from=&to=`: the level changes the rules would have
///   made over the stored history, writing nothing
public struct AlertsAPI: RouteGroup {
    let store: any AlertStore & DeviceRegistry & ReadingQueries & TokenStore
    let catalog: RuleCatalog
    let cap: CAPOptions
    let notify: @Sendable (AlertNotice) -> Void
    /// When a CAP message is sent, "now" of person transitions.
    let clock: WallClock
    /// Device profiles by name: a replay counts durations with each device's reporting interval,
    /// as the live rules do.
    let profiles: @Sendable () -> [String: DeviceProfile]
    /// Per rule, the late readings it skipped since the start (`nil`: the rules do not run here).
    let lateSkipped: (@Sendable () -> [String: Int])?
    /// How often the server checks silence (a replay checks it as often).
    let checkInterval: Int64
    /// Local time of the times people read (+08:00: 480).
    let offset: Int

    /// - Parameters:
    ///   - notify: called with each transition people make (ack, resolve, close).
    ///   - lateSkipped: per rule, the late readings it skipped (``RulesStage/lateSkipped()``).
    ///   - offsetMinutes: local time of the alerts' and rule states' times (default: CAP's).
    public init(
        store: any AlertStore & DeviceRegistry & ReadingQueries & TokenStore, catalog: RuleCatalog, cap: CAPOptions,
        clock: WallClock = .system, profiles: @escaping @Sendable () -> [String: DeviceProfile] = { [:] },
        lateSkipped: (@Sendable () -> [String: Int])? = nil, checkInterval: Int64 = 30_000, offsetMinutes: Int? = nil,
        notify: @escaping @Sendable (AlertNotice) -> Void
    ) {
        self.lateSkipped = lateSkipped
        self.checkInterval = checkInterval
        self.offset = offsetMinutes ?? cap.offsetMinutes
        self.clock = clock
        self.profiles = profiles
        self.store = store
        self.catalog = catalog
        self.cap = cap
        self.notify = notify
    }

    public func register(on router: Router<StaffContext>) {
        let api = router.group("api/v1").add(middleware: BearerAuthMiddleware(store: store))
        api.get("alerts") { request, context in try self.list(request, context) }
        api.get("alerts/{id}") { request, context in try self.show(request, context) }
        api.get("alerts/{id}/cap") { request, context in try self.capXML(request, context) }
        for action in ["ack", "resolve", "close"] {
            api.post("alerts/{id}/\(action)") { request, context in try await self.act(action, request, context) }
        }
        api.get("rules") { request, context in try self.rules(request, context) }
        api.get("rules/replay") { request, context in try self.replay(request, context) }
        api.get("rules/{id}") { request, context in try self.rule(request, context) }
    }

    private func list(_ request: Request, _ context: StaffContext) throws -> API.AlertList {
        try context.require(.viewer)
        let q = request.uri.queryParameters
        var query = AlertQuery(limit: min(Int(q["limit"] ?? "") ?? 1000, 100_000))
        if let open = q["open"], open == "true" || open == "1" { query.statuses = [.open, .acknowledged] }
        if let status = q["status"] {
            guard let s = AlertStatus(rawValue: String(status)) else {
                throw APIError(.badRequest, "status must be open, acknowledged, resolved or closed")
            }
            query.statuses = [s]
        }
        if let level = q["level"] {
            guard let l = AlertLevel(name: String(level)) else { throw APIError(.badRequest, "level must be blue, yellow, orange or red") }
            query.level = l
        }
        if let domain = q["domain"] {
            guard Domain(rawValue: String(domain)) != nil else { throw APIError(.badRequest, "unknown domain \(domain)") }
            query.domain = String(domain)
        }
        query.device = q["device"].map(String.init)
        query.rule = q["rule"].map(String.init)
        var alerts: [AlertRecord]
        if let visible = try context.gate.visibleDevices(store) {
            // A scoped token lists the alerts of its devices: filtered, then limited.
            let limit = query.limit
            query.limit = 100_000
            alerts = Array(try store.alerts(query).filter { visible.contains($0.device) }.prefix(limit))
        } else {
            alerts = try store.alerts(query)
        }
        return API.AlertList(alerts: alerts.map { API.Alert($0, rule: catalog.rule(id: $0.rule), offsetMinutes: offset) })
    }

    private func alertID(_ context: StaffContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw APIError(.badRequest, "alert id must be a number, not \(text)") }
        return id
    }

    private func show(_ request: Request, _ context: StaffContext) throws -> API.AlertDetail {
        try context.require(.viewer)
        let id = try alertID(context)
        let found = try store.alert(id: id)
        try context.gate.check(device: found?.device, kind: "alert", id: "\(id)", store)
        guard let alert = found else { throw APIError(.notFound, "no alert \(id)") }
        let transitions = try store.alertTransitions(id: id)
        return API.AlertDetail(
            alert: API.Alert(alert, rule: catalog.rule(id: alert.rule), offsetMinutes: offset),
            transitions: transitions.map { API.Transition($0, offsetMinutes: offset) })
    }

    private func capXML(_ request: Request, _ context: StaffContext) throws -> Response {
        try context.require(.viewer)
        let id = try alertID(context)
        let found = try store.alert(id: id)
        try context.gate.check(device: found?.device, kind: "alert", id: "\(id)", store)
        guard let alert = found else { throw APIError(.notFound, "no alert \(id)") }
        let xml = CAPDocument.xml(
            alert: alert, transitions: try store.alertTransitions(id: id), device: try store.device(id: alert.device),
            rule: catalog.rule(id: alert.rule), options: cap, sent: clock.now())
        return Response(
            status: .ok, headers: [.contentType: "application/cap+xml; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    private func act(_ action: String, _ request: Request, _ context: StaffContext) async throws -> API.Alert {
        try context.require(.operator)
        let id = try alertID(context)
        if context.gate.isScoped {
            // Acting on an alert outside the scope (or missing) is refused before anything changes.
            try context.gate.check(device: try store.alert(id: id)?.device, kind: "alert", id: "\(id)", store)
        }
        // The body is optional: without one (or with one that is not an action) the token names who.
        let body = (try? await request.decode(as: API.AlertAction.self, context: context)) ?? API.AlertAction()
        let token = context.token?.name ?? "staff"
        let by = body.by.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : "\($0) (token \(token))" } ?? token
        let notice: AlertNotice
        do {
            switch action {
            case "ack": notice = try store.acknowledgeAlert(id: id, by: by, note: body.note)
            case "resolve": notice = try store.resolveAlert(id: id, by: by, note: body.note)
            default: notice = try store.closeAlert(id: id, by: by, note: body.note ?? "")
            }
        } catch let error as StoreError {
            switch error.code {
            case .notFound: throw APIError(.notFound, error.message)
            case .conflict: throw APIError(.conflict, error.message)
            default: throw APIError(.badRequest, error.message)
            }
        }
        notify(notice)
        return API.Alert(
            notice.alert, rule: catalog.rule(id: notice.alert.rule), transition: notice.transition, offsetMinutes: offset)
    }

    private func rules(_ request: Request, _ context: StaffContext) throws -> API.RuleList {
        try context.require(.viewer)
        // Counts over every device, and device ids outside the scope, are not a scoped token's.
        let visible = try context.gate.visibleDevices(store)
        let skipped = visible == nil ? lateSkipped?() : nil
        return API.RuleList(
            rules: catalog.rules.map { rule in
                var shown = API.Rule(rule)
                shown.lateSkipped = skipped.map { $0[rule.id] ?? 0 }
                if let visible { shown.devices = shown.devices.filter(visible.contains) }
                return shown
            })
    }

    private func rule(_ request: Request, _ context: StaffContext) throws -> API.RuleDetail {
        try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let rule = catalog.rule(id: id) else { throw APIError(.notFound, "no rule \(id)") }
        let visible = try context.gate.visibleDevices(store)
        let states = try store.ruleStates().filter { $0.rule == id && ScopeGate.admits(visible, $0.device) }
            .sorted { $0.device < $1.device }
        var shown = API.Rule(rule)
        shown.lateSkipped = visible == nil ? lateSkipped.map { $0()[rule.id] ?? 0 } : nil
        if let visible { shown.devices = shown.devices.filter(visible.contains) }
        return API.RuleDetail(rule: shown, states: states.map { API.RuleState($0, offsetMinutes: offset) })
    }

    private func replay(_ request: Request, _ context: StaffContext) throws -> API.LevelChangeList {
        try context.require(.viewer)
        let now = clock.now()
        let (device, from, to) = try historyWindow(
            request.uri.queryParameters, context, store, now: now, back: 7 * 86_400_000)
        let changes: [AlertLevelChange]
        do {
            let profiles = profiles()
            changes = try RuleReplay.run(
                rules: catalog.rules, store: store, device: device, from: from, to: to,
                expectedInterval: { device in profiles[device.profile].map { Int64($0.expectedInterval) * 1000 } },
                checkInterval: checkInterval, now: now)
        } catch let error as StoreError where error.code == .notFound {
            throw APIError(.notFound, error.message)
        }
        return API.LevelChangeList(changes: changes.map { API.LevelChange($0, offsetMinutes: offset) })
    }
}

extension API.Rule {
    init(_ r: Rule) {
        self.init(
            id: r.id, name: r.name, kind: r.condition.kind, metric: r.metric, category: r.category, source: r.source,
            enabled: r.enabled,
            levels: Dictionary(
                uniqueKeysWithValues: r.levels.map { level, spec in
                    (level.name, "\(spec.comparison.symbol) \(spec.attribute?.text ?? "\(spec.threshold)")" + (spec.window.map { " over \(DurationText.format($0))" } ?? ""))
                }),
            devices: r.overrides.keys.sorted(), file: (r.file as NSString).lastPathComponent, line: r.line)
    }
}
