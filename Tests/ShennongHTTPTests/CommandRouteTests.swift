import Foundation
import HTTPTypes
import ShennongAPI
import ShennongCommands
import ShennongCore
import Testing

@testable import ShennongHTTP

/// The device-command routes in process on a real store: issue (operator; 404 unknown device,
/// 400 undeclared command or bad arguments, nothing recorded), list and filter, show with
/// transitions, cancel (409 once it is not queued); 401 without a token, 403 for a viewer's writes.
struct CommandRouteTests {
    /// A pond controller profile with commands, and the generic one.
    static func profiles() throws -> [String: DeviceProfile] {
        let pond = try DeviceProfile.parse(
            yaml: """
                name: pond-aerator
                domain: water
                description: 增氧机控制器
                expected_interval: 60
                commands:
                  aerator_on:
                    description: 开启增氧机
                    state: { metric: aerator_on, value: 1 }
                  set_do_limits:
                    description: 设置溶氧上下限
                    args:
                      lower: { type: number, min: 0.5, max: 10 }
                """, sourceName: "pond-aerator.yaml")
        return [pond.name: pond, DeviceProfile.generic.name: DeviceProfile.generic]
    }

    @Test("commands: issue (operator), refusals with nothing recorded, list and filter, show, cancel; 401, 403, 409")
    func commandRoutes() async throws {
        let fixture = try RouteFixture()
        try fixture.store.addDevice(Device(id: "aerator-1", profile: "pond-aerator", domain: .water, createdAt: RouteFixture.t0))
        try await fixture.test { api in
            let issue = "/api/v1/devices/{id}/commands"
            let on = API.NewCommand(name: "aerator_on", expiresIn: 300)
            #expect(try await api.call(.post, issue, "/api/v1/devices/aerator-1/commands", json: on).status == .unauthorized)
            #expect(try await api.call(.post, issue, "/api/v1/devices/aerator-1/commands", token: fixture.viewer, json: on).status == .forbidden)
            let unknown = try await api.call(.post, issue, "/api/v1/devices/nope/commands", token: fixture.operator, json: on)
            #expect(unknown.status == .notFound && unknown.message.contains("nope"))
            let undeclared = try await api.call(
                .post, issue, "/api/v1/devices/pond-1/commands", token: fixture.operator, json: on)
            #expect(undeclared.status == .badRequest && undeclared.message.contains("aerator_on"))
            let badArg = try await api.call(
                .post, issue, "/api/v1/devices/aerator-1/commands", token: fixture.operator,
                json: API.NewCommand(name: "set_do_limits", args: ["lower": .number(50)]))
            #expect(badArg.status == .badRequest && badArg.message.contains("lower"))
            let badExpiry = try await api.call(
                .post, issue, "/api/v1/devices/aerator-1/commands", token: fixture.operator,
                json: API.NewCommand(name: "aerator_on", expiresIn: 0))
            #expect(badExpiry.status == .badRequest)
            #expect(try fixture.store.commands(.init()).isEmpty, "a refused command was recorded")

            let created = try await api.call(
                .post, issue, "/api/v1/devices/aerator-1/commands", token: fixture.operator,
                json: API.NewCommand(name: "set_do_limits", args: ["lower": .string("3.5")], expiresIn: 600, by: "陈伟"))
            #expect(created.status == .created)
            let command = try created.decode(API.Command.self)
            #expect(command.state == "queued" && command.stateZh == "排队中" && command.device == "aerator-1")
            #expect(command.args == ["lower": .number(3.5)] && command.issuedBy == "陈伟 (token duty-officer)" && !command.automatic)
            let second = try await api.call(.post, issue, "/api/v1/devices/aerator-1/commands", token: fixture.operator, json: on)
            let secondID = try second.decode(API.Command.self).id

            let list = try await api.call(.get, "/api/v1/commands", token: fixture.viewer)
            #expect(try list.decode(API.CommandList.self).commands.map(\.id) == [secondID, command.id])
            let filtered = try await api.call(.get, "/api/v1/commands", "/api/v1/commands?device=aerator-1&state=queued&limit=1", token: fixture.viewer)
            #expect(try filtered.decode(API.CommandList.self).commands.map(\.id) == [secondID])
            #expect(try await api.call(.get, "/api/v1/commands", "/api/v1/commands?state=done", token: fixture.viewer).status == .badRequest)
            #expect(try await api.call(.get, "/api/v1/commands").status == .unauthorized)

            let cancel = "/api/v1/commands/{id}/cancel"
            #expect(try await api.call(.post, cancel, "/api/v1/commands/\(command.id)/cancel", token: fixture.viewer).status == .forbidden)
            let cancelled = try await api.call(
                .post, cancel, "/api/v1/commands/\(command.id)/cancel", token: fixture.operator, json: API.CommandCancel(note: "不需要了"))
            #expect(cancelled.status == .ok)
            #expect(try cancelled.decode(API.Command.self).state == "cancelled")
            let again = try await api.call(.post, cancel, "/api/v1/commands/\(command.id)/cancel", token: fixture.operator)
            #expect(again.status == .conflict)
            #expect(try await api.call(.post, cancel, "/api/v1/commands/c0000/cancel", token: fixture.operator).status == .notFound)

            let show = "/api/v1/commands/{id}"
            let detail = try (try await api.call(.get, show, "/api/v1/commands/\(command.id)", token: fixture.viewer))
                .decode(API.CommandDetail.self)
            #expect(detail.command.state == "cancelled")
            #expect(detail.transitions.map(\.to) == ["queued", "cancelled"])
            #expect(detail.transitions.last?.by == "duty-officer" && detail.transitions.last?.note == "不需要了")
            #expect(try await api.call(.get, show, "/api/v1/commands/c0000", token: fixture.viewer).status == .notFound)
            #expect(try await api.call(.get, show, "/api/v1/commands/..%2Fx", token: fixture.viewer).status == .badRequest)
        }
        RouteTests().expectCovered("commands", fixture)
    }
}

extension CommandRouteTests {
    @Test("dashboard controls: buttons for the devices that declare commands with each command's state; sending needs a session, CSRF and the operator role")
    func dashboardControls() async throws {
        let fixture = try RouteFixture()
        try fixture.store.addDevice(
            Device(id: "aerator-1", profile: "pond-aerator", domain: .water, name: "1号塘增氧机", createdAt: RouteFixture.t0))
        try await fixture.test { api in
            let form = "application/x-www-form-urlencoded"
            #expect(try await api.call(.get, "/dashboard/controls").status == .seeOther)
            func login(_ token: String) async throws -> (HTTPFields, String) {
                let login = try await api.call(.post, "/dashboard/login", raw: "token=\(token)", contentType: form)
                let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
                return ([.cookie: cookie], fixture.sessions.csrfToken(String(cookie.dropFirst("shennong_session=".count))))
            }
            let (op, csrf) = try await login(fixture.operator)
            let page = try await api.call(.get, "/dashboard/controls", headers: op)
            #expect(page.status == .ok)
            #expect(page.text.contains("1号塘增氧机") && page.text.contains("开启增氧机") && page.text.contains("arg.lower"))
            #expect(!page.text.contains("pond-1"), "a device without commands has no controls")
            #expect(page.text.contains("未发送过"))

            let post = "/dashboard/devices/{id}/commands"
            let path = "/dashboard/devices/aerator-1/commands"
            #expect(try await api.call(.post, post, path, raw: "name=aerator_on", contentType: form).status == .unauthorized)
            #expect(try await api.call(.post, post, path, raw: "name=aerator_on&csrf=wrong", contentType: form, headers: op).status == .forbidden)
            let (viewer, viewerCSRF) = try await login(fixture.viewer)
            #expect(try await api.call(.post, post, path, raw: "name=aerator_on&csrf=\(viewerCSRF)", contentType: form, headers: viewer).status == .forbidden)
            let bad = try await api.call(.post, post, path, raw: "name=set_do_limits&arg.lower=99&csrf=\(csrf)", contentType: form, headers: op)
            #expect(bad.status == .badRequest && bad.text.contains("lower"))
            #expect(try await api.call(.post, post, "/dashboard/devices/nope/commands", raw: "name=aerator_on&csrf=\(csrf)", contentType: form, headers: op).status == .notFound)
            #expect(try fixture.store.commands(.init()).isEmpty)
            let sent = try await api.call(.post, post, path, raw: "name=aerator_on&expires=5&csrf=\(csrf)", contentType: form, headers: op)
            #expect(sent.status == .seeOther && sent.headers[.location] == "/dashboard/controls#device-aerator-1")
            let command = try #require(try fixture.store.commands(.init()).first)
            #expect(command.name == "aerator_on" && command.issuedBy == "duty-officer (dashboard)" && command.state == .queued)
            #expect(command.expiresAt - command.issuedAt == 300_000)
            let after = try await api.call(.get, "/dashboard/controls", headers: op)
            #expect(after.text.contains("排队中 queued") && after.text.contains(command.id))
        }
        let made = fixture.log.operations
        #expect(made.isSuperset(of: Set(RouteTests.manifest["controls"] ?? [])) && made.subtracting(["POST /dashboard/login"]) == Set(RouteTests.manifest["controls"] ?? []))
    }
}
