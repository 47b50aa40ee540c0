import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import ShennongCommands
import ShennongCore
import ShennongRules

/// The dashboard's device controls (自动控制), beside the overview and in its session:
///
/// - `GET /dashboard/controls`: every device whose profile declares commands, with its presence,
///   its state metrics, a manual-override hold in force, and one button per command (a field per
///   argument) showing the state of that command's newest record; the device's recent commands.
/// - `POST /dashboard/devices/{id}/commands` (operator session; form `csrf`, `name`, `arg.NAME`,
///   `expires` in minutes): issues the command through the ``CommandCenter`` as the API does
///   (the same refusals), recorded as `{token} (dashboard)`; 303 back to the controls.
public struct DashboardControls: RouteGroup {
    let pages: DashboardPages
    let center: CommandCenter
    let automation: RuleAutomation?

    public init(pages: DashboardPages, center: CommandCenter, automation: RuleAutomation?) {
        self.pages = pages
        self.center = center
        self.automation = automation
    }

    public func register(on router: Router<StaffContext>) {
        router.get("dashboard/controls") { request, _ in try self.controls(request) }
        router.post("dashboard/devices/{id}/commands") { request, context in try await self.send(request, context) }
    }

    struct Page {
        struct Argument {
            var name: String
            var hint: String
        }
        struct Button {
            var device: String
            var name: String
            var description: String
            var args: [Argument]
            var hasArgs: Bool
            var last: String?
            var lastState: String?
            var lastAt: String?
        }
        struct Row {
            var id: String
            var name: String
            var state: String
            var stateZh: String
            var by: String
            var at: String
            var detail: String?
            var automatic: Bool
        }
        struct DeviceControls {
            var id: String
            var name: String
            var site: String
            var presence: String
            var offline: Bool
            var states: String
            var hold: String?
            var buttons: [Button]
            var commands: [Row]
        }
        var devices: [DeviceControls]
        var hasDevices: Bool
        var canAct: Bool
    }

    private func controls(_ request: Request) throws -> Response {
        guard let signedIn = pages.signedIn(request) else { return DashboardPages.redirect("/dashboard/login") }
        let (session, now, offset) = (signedIn.session, signedIn.now, pages.offsetMinutes)
        var devices: [Page.DeviceControls] = []
        for record in try center.store.deviceRecords(site: nil, domain: nil) where session.token.scope.contains(record.device) {
            let specs = center.specs(device: record.device)
            guard !specs.isEmpty else { continue }
            let history = try center.store.commands(CommandQuery(device: record.device.id, limit: 20))
            let stateMetrics = Set(specs.compactMap { $0.state?.metric })
            let latest = try center.store.latest(device: record.device.id).filter { stateMetrics.contains($0.metric) }
            var hold: String?
            if let automation, let held = try automation.holdUntil(device: record.device.id, now: now) {
                hold = "手动控制中：\(held.command.name)（\(held.command.issuedBy)），自动控制暂停至 \(LocalTime.format(held.until, offsetMinutes: offset)) manual override hold"
            }
            devices.append(
                Page.DeviceControls(
                    id: record.device.id, name: record.device.name ?? record.device.id, site: record.device.site ?? "",
                    presence: record.presence ?? "unknown 未知", offline: record.presence == "offline",
                    states: latest.map { "\($0.metric) = \(JSONValue.format($0.value))" }.joined(separator: " · "),
                    hold: hold,
                    buttons: specs.map { spec in
                        let last = history.first { $0.name == spec.name }
                        return Page.Button(
                            device: record.device.id, name: spec.name, description: spec.description,
                            args: spec.args.map { a in
                                Page.Argument(
                                    name: a.name,
                                    hint: [a.type.rawValue, a.minimum.map { "≥ \(JSONValue.format($0))" }, a.maximum.map { "≤ \(JSONValue.format($0))" }, a.unit]
                                        .compactMap { $0 }.joined(separator: " "))
                            }, hasArgs: !spec.args.isEmpty, last: last?.id, lastState: last.map { "\($0.state.chineseName) \($0.state.rawValue)" },
                            lastAt: last.map { LocalTime.format($0.updatedAt, offsetMinutes: offset) })
                    },
                    commands: history.prefix(8).map { c in
                        Page.Row(
                            id: c.id, name: c.name, state: c.state.rawValue, stateZh: c.state.chineseName,
                            by: c.origin.rule.map { "规则 \($0)" + (c.origin.trigger.map { " (\($0))" } ?? "") } ?? c.issuedBy,
                            at: LocalTime.format(c.issuedAt, offsetMinutes: offset), detail: c.detail, automatic: c.origin.isAutomatic)
                    }))
        }
        let model = Page(devices: devices, hasDevices: !devices.isEmpty, canAct: session.token.role >= .operator)
        return pages.page("controls", model, for: signedIn)
    }

    private func message(_ title: String, _ text: String, _ status: HTTPResponse.Status) -> Response {
        DashboardPages.html(pages.templates.render(MessagePage(title: title, message: text), withTemplate: "message") ?? "", status: status)
    }

    private func send(_ request: Request, _ context: StaffContext) async throws -> Response {
        guard let (sessionID, session) = pages.session(request) else {
            return message("Not logged in", "请先登录。Log in first.", .unauthorized)
        }
        let form = try await DashboardPages.form(request, context)
        guard pages.sessions.checkCSRF(form["csrf"] ?? "", session: sessionID) else {
            return message("Forbidden 禁止", "CSRF 令牌缺失或错误，请刷新页面重试。Missing or wrong CSRF token.", .forbidden)
        }
        guard session.token.role >= .operator else {
            return message("Forbidden 禁止", "发送命令需要 operator 权限。Sending commands needs the operator role.", .forbidden)
        }
        let device = try context.parameters.require("id")
        if !session.token.scope.isEverything {
            // Outside the session's scope or missing: one answer for both.
            do {
                _ = try ScopeGate(session.token.scope).device(device, center.store)
            } catch is APIError {
                let t = DashboardPages.strings(request)
                return message(t.forbidden, t.scopeRefused, .forbidden)
            }
        }
        let name = form["name"] ?? ""
        var args: [String: CommandValue] = [:]
        for (key, value) in form where key.hasPrefix("arg.") && !value.trimmingCharacters(in: .whitespaces).isEmpty {
            args[String(key.dropFirst(4))] = .string(value.trimmingCharacters(in: .whitespaces))
        }
        let expires = form["expires"].flatMap { Int64($0) }.map { $0 * 60_000 }
        do {
            let command = try center.issue(
                CommandRequest(device: device, name: name, args: args, expiresIn: expires, by: "\(session.token.name) (dashboard)"))
            pages.logger.info("dashboard command", metadata: ["command": "\(command.id)", "device": "\(device)", "name": "\(name)"])
        } catch let refusal as CommandRefusal {
            let status: HTTPResponse.Status = refusal.code == .unknownDevice ? .notFound : .badRequest
            return message("Not sent 未发送", refusal.message, status)
        }
        return DashboardPages.redirect("/dashboard/controls#device-\(device)")
    }
}
