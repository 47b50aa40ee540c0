import Foundation
import HTTPTypes
import ShennongAPI
import ShennongAlerts
import ShennongCommands
import ShennongCore
import ShennongRules
import Testing

@testable import ShennongHTTP

/// Token scopes over every operation of openapi.yaml, in process on a real store.
///
/// Two scoped tokens see the same two devices by different routes: `site=东陂村` and
/// `domain=water,area=441882` both admit `pond-1` and `aerator-1`; neither admits `aws-9`
/// (weather, 西岸村, 441802) or `aerator-x` (water, 西岸村, 441802), which have readings, rejects,
/// warnings and commands of their own. For each token, ``table`` exercises each operation: a
/// listing holds nothing of the others (objects, counts, charts, exports, alerts), a named
/// object outside the scope is refused with 403, with the same body as one that does not exist,
/// and what is inside still works. ``tableCoversTheSpec`` fails when an operation of the spec
/// has no row here.
struct ScopeTableTests {
    /// What a row works with.
    struct Case: Sendable {
        let fixture: RouteFixture
        let api: Caller
        /// A scoped operator token.
        let token: String
        /// The scoped session's cookie and CSRF token.
        let session: HTTPFields
        let csrf: String
        let ids: IDs

        /// Fails if `answer` names anything outside the scope.
        func hidesOthers(_ answer: Caller.Answer, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for other in ScopeTableTests.others where answer.text.contains(other) {
                Issue.record("\(what) shows \(other) to a token scoped away from it", sourceLocation: sourceLocation)
            }
        }

        /// Expects 403 for `outside` and for `missing`, with the same body.
        func sameRefusal(
            _ outside: Caller.Answer, _ missing: Caller.Answer, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(outside.status == .forbidden, "\(what) outside the scope: \(outside.status)", sourceLocation: sourceLocation)
            #expect(missing.status == .forbidden, "\(what) missing: \(missing.status)", sourceLocation: sourceLocation)
            #expect(outside.body == missing.body, "\(what): outside and missing answer differently:\n\(outside.text)\n\(missing.text)", sourceLocation: sourceLocation)
        }
    }

    struct IDs: Sendable {
        var alertIn: Int64
        var alertOut: Int64
        /// An in-scope alert the dashboard rows act on.
        var dashboardAlertIn: Int64
        var commandIn: String
        var commandOut: String
    }

    typealias Row = @Sendable (Case) async throws -> Void

    /// What a scoped token must never see.
    static let others = ["aws-9", "aerator-x", "西岸村", "441802"]
    static let scopes = ["site=东陂村", "domain=water,area=441882"]
    static let form = "application/x-www-form-urlencoded"
    static let missingAlert: Int64 = 987_654

    /// The spec's operations that need no token: consumer pages, health, the contract.
    static let publicOperations: Set<String> = [
        "GET /healthz", "GET /metrics", "GET /openapi.yaml", "GET /t/{code}", "GET /01/{gtin}/10/{lot}/21/{serial}",
        "GET /.well-known/shennong-trace-key", "GET /api/v1/trace/{code}",
    ]

    /// The trace ledger's staff operations: a scoped token is refused (the ledger is not partitioned by device).
    static let traceOperations: [(String, String)] = [
        ("POST /api/v1/trace/producers", "/api/v1/trace/producers"), ("POST /api/v1/trace/plots", "/api/v1/trace/plots"),
        ("GET /api/v1/trace/batches", "/api/v1/trace/batches"), ("POST /api/v1/trace/batches", "/api/v1/trace/batches"),
        ("GET /api/v1/trace/batches/{id}", "/api/v1/trace/batches/b1"),
        ("POST /api/v1/trace/batches/{id}/certificate", "/api/v1/trace/batches/b1/certificate"),
        ("POST /api/v1/trace/batches/{id}/inspections", "/api/v1/trace/batches/b1/inspections"),
        ("POST /api/v1/trace/batches/{id}/events", "/api/v1/trace/batches/b1/events"),
        ("POST /api/v1/trace/batches/{id}/codes", "/api/v1/trace/batches/b1/codes"),
        ("POST /api/v1/trace/batches/{id}/recall", "/api/v1/trace/batches/b1/recall"),
        ("POST /api/v1/trace/batches/{id}/seal", "/api/v1/trace/batches/b1/seal"),
        ("GET /api/v1/trace/batches/{id}/epcis", "/api/v1/trace/batches/b1/epcis"),
        ("GET /api/v1/trace/verify", "/api/v1/trace/verify"), ("GET /api/v1/trace/codes/{code}", "/api/v1/trace/codes/x"),
    ]

    /// One row per operation of the spec.
    static var table: [String: Row] {
        var rows: [String: Row] = [:]
        // Public: no token, nothing scoped (the consumer's trace pages are public by design).
        rows["GET /healthz"] = { (c: Case) async throws in #expect(try await c.api.call(.get, "/healthz").status == .ok) }
        rows["GET /metrics"] = { (c: Case) async throws in #expect(try await c.api.call(.get, "/metrics").status == .ok) }
        rows["GET /openapi.yaml"] = { (c: Case) async throws in #expect(try await c.api.call(.get, "/openapi.yaml").status == .ok) }
        rows["GET /t/{code}"] = { (c: Case) async throws in #expect(try await c.api.call(.get, "/t/{code}", "/t/NOPE").status == .notFound) }
        rows["GET /01/{gtin}/10/{lot}/21/{serial}"] = { (c: Case) async throws in
            #expect(try await c.api.call(.get, "/01/{gtin}/10/{lot}/21/{serial}", "/01/06901234567892/10/L1/21/NOPE").status == .notFound)
        }
        rows["GET /.well-known/shennong-trace-key"] = { (c: Case) async throws in
            #expect(try await c.api.call(.get, "/.well-known/shennong-trace-key").status == .ok)
        }
        rows["GET /api/v1/trace/{code}"] = { (c: Case) async throws in
            #expect(try await c.api.call(.get, "/api/v1/trace/{code}", "/api/v1/trace/NOPE").status == .notFound)
        }
        for (operation, path) in traceOperations {
            let method: HTTPRequest.Method = operation.hasPrefix("POST") ? .post : .get
            let template = String(operation.split(separator: " ")[1])
            rows[operation] = { c in
                let answer = try await c.api.call(method, template, path, token: c.token, raw: method == .post ? "{}" : nil)
                #expect(answer.status == .forbidden, "\(operation): \(answer.status)")
                #expect(answer.message.contains("unscoped"), "\(answer.message)")
            }
        }

        // Devices.
        rows["GET /api/v1/devices"] = { c in
            let all = try await c.api.call(.get, "/api/v1/devices", token: c.token)
            #expect(try all.decode(API.DeviceList.self).devices.map(\.id).sorted() == ["aerator-1", "pond-1"])
            c.hidesOthers(all, "the device list")
            let other = try await c.api.call(.get, "/api/v1/devices", "/api/v1/devices?site=%E8%A5%BF%E5%B2%B8%E6%9D%91", token: c.token)
            #expect(try other.decode(API.DeviceList.self).devices.isEmpty)
        }
        rows["GET /api/v1/devices/{id}"] = { c in
            #expect(try await c.api.call(.get, "/api/v1/devices/{id}", "/api/v1/devices/pond-1", token: c.token).status == .ok)
            c.sameRefusal(
                try await c.api.call(.get, "/api/v1/devices/{id}", "/api/v1/devices/aws-9", token: c.token),
                try await c.api.call(.get, "/api/v1/devices/{id}", "/api/v1/devices/nope-0", token: c.token), "a device")
            // Unscoped, what is missing is still 404.
            #expect(try await c.api.call(.get, "/api/v1/devices/{id}", "/api/v1/devices/nope-0", token: c.fixture.admin).status == .notFound)
        }
        rows["POST /api/v1/devices"] = { c in
            let outside = API.NewDevice(id: "new-out", profile: "generic", domain: "water", site: "西岸村", areaCode: "441802")
            let taken = API.NewDevice(id: "aws-9", profile: "generic", domain: "water", site: "东陂村", areaCode: "441882")
            let missing = API.NewDevice(id: "new-out-2", profile: "generic", domain: "weather", site: "西岸村", areaCode: "441802")
            let a = try await c.api.call(.post, "/api/v1/devices", token: c.token, json: outside)
            let b = try await c.api.call(.post, "/api/v1/devices", token: c.token, json: missing)
            c.sameRefusal(a, b, "a new device outside")
            #expect(try await c.api.call(.post, "/api/v1/devices", token: c.token, json: taken).status == .forbidden)
            #expect(try c.fixture.store.device(id: "aws-9")?.domain == .weather, "a device outside the scope was changed")
            #expect(try c.fixture.store.device(id: "new-out") == nil)
        }
        rows["POST /api/v1/devices/import"] = { c in
            let csv = "id,profile,domain,site,area_code\naws-9,generic,water,东陂村,441882\n"
            let refused = try await c.api.call(.post, "/api/v1/devices/import", token: c.token, raw: csv, contentType: "text/csv")
            #expect(refused.status == .forbidden)
            #expect(try c.fixture.store.device(id: "aws-9")?.site == "西岸村", "an import moved a device outside the scope")
            let outside = "id,profile,domain,site,area_code\nimp-out,generic,weather,西岸村,441802\n"
            #expect(try await c.api.call(.post, "/api/v1/devices/import", token: c.token, raw: outside, contentType: "text/csv").status == .forbidden)
            #expect(try c.fixture.store.device(id: "imp-out") == nil)
        }

        // Readings and rejects.
        rows["GET /api/v1/readings/latest"] = { c in
            let all = try await c.api.call(.get, "/api/v1/readings/latest", token: c.token)
            let devices = Set(try all.decode(API.LatestList.self).latest.map(\.device))
            #expect(devices == ["pond-1"])
            c.hidesOthers(all, "latest values")
            c.sameRefusal(
                try await c.api.call(.get, "/api/v1/readings/latest", "/api/v1/readings/latest?device=aws-9", token: c.token),
                try await c.api.call(.get, "/api/v1/readings/latest", "/api/v1/readings/latest?device=nope-0", token: c.token),
                "latest of a device")
        }
        rows["GET /api/v1/readings"] = { c in
            let inside = try await c.api.call(.get, "/api/v1/readings", "/api/v1/readings?device=pond-1&from=0", token: c.token)
            #expect(try !inside.decode(API.ReadingList.self).readings.isEmpty)
            for every in ["", "&every=1h"] {
                c.sameRefusal(
                    try await c.api.call(.get, "/api/v1/readings", "/api/v1/readings?device=aws-9&from=0\(every)", token: c.token),
                    try await c.api.call(.get, "/api/v1/readings", "/api/v1/readings?device=nope-0&from=0\(every)", token: c.token),
                    "readings of a device\(every)")
            }
        }
        rows["GET /api/v1/rejects"] = { c in
            let list = try await c.api.call(.get, "/api/v1/rejects", token: c.token)
            #expect(try list.decode(API.RejectList.self).rejects.map(\.device) == ["pond-1"])
            c.hidesOthers(list, "the rejects")
        }
        rows["POST /api/v1/rejects/replay"] = { c in
            let path = "/api/v1/rejects/replay"
            #expect(try await c.api.call(.post, path, token: c.token, json: API.RejectReplayRequest(dryRun: true)).status == .forbidden)
            c.sameRefusal(
                try await c.api.call(.post, path, token: c.token, json: API.RejectReplayRequest(device: "aws-9", dryRun: true)),
                try await c.api.call(.post, path, token: c.token, json: API.RejectReplayRequest(device: "nope-0", dryRun: true)),
                "a replay of a device")
            let inside = try await c.api.call(.post, path, token: c.token, json: API.RejectReplayRequest(device: "pond-1", dryRun: true))
            #expect(inside.status == .ok)
        }

        // Alerts, CAP, actions.
        rows["GET /api/v1/alerts"] = { c in
            let list = try await c.api.call(.get, "/api/v1/alerts", token: c.token)
            let alerts = try list.decode(API.AlertList.self).alerts
            #expect(Set(alerts.map(\.device)).isSubset(of: ["pond-1", "aerator-1"]) && alerts.count == 2)
            c.hidesOthers(list, "the alert list")
            let open = try await c.api.call(.get, "/api/v1/alerts", "/api/v1/alerts?open=true&device=aws-9", token: c.token)
            #expect(try open.decode(API.AlertList.self).alerts.isEmpty)
        }
        for (operation, suffix) in [("GET /api/v1/alerts/{id}", ""), ("GET /api/v1/alerts/{id}/cap", "/cap")] {
            let template = "/api/v1/alerts/{id}" + suffix
            rows[operation] = { c in
                let inside = try await c.api.call(.get, template, "/api/v1/alerts/\(c.ids.alertIn)\(suffix)", token: c.token)
                #expect(inside.status == .ok)
                c.sameRefusal(
                    try await c.api.call(.get, template, "/api/v1/alerts/\(c.ids.alertOut)\(suffix)", token: c.token),
                    try await c.api.call(.get, template, "/api/v1/alerts/\(Self.missingAlert)\(suffix)", token: c.token), operation)
                #expect(try await c.api.call(.get, template, "/api/v1/alerts/\(Self.missingAlert)\(suffix)", token: c.fixture.admin).status == .notFound)
            }
        }
        for action in ["ack", "resolve", "close"] {
            let template = "/api/v1/alerts/{id}/\(action)"
            rows["POST \(template)"] = { c in
                let body = API.AlertAction(note: "越权 out of scope")
                c.sameRefusal(
                    try await c.api.call(.post, template, "/api/v1/alerts/\(c.ids.alertOut)/\(action)", token: c.token, json: body),
                    try await c.api.call(.post, template, "/api/v1/alerts/\(Self.missingAlert)/\(action)", token: c.token, json: body),
                    "\(action) of an alert")
                #expect(try c.fixture.store.alert(id: c.ids.alertOut)?.status == .open, "\(action) changed an alert outside the scope")
            }
        }
        rows["GET /api/v1/rules"] = { c in
            let list = try await c.api.call(.get, "/api/v1/rules", token: c.token)
            #expect(list.status == .ok)
            #expect(try list.decode(API.RuleList.self).rules.allSatisfy { $0.lateSkipped == nil })
            c.hidesOthers(list, "the rules")
        }
        rows["GET /api/v1/rules/{id}"] = { c in
            let rule = try await c.api.call(.get, "/api/v1/rules/{id}", "/api/v1/rules/pond-do-low", token: c.token)
            #expect(try rule.decode(API.RuleDetail.self).states.map(\.device) == ["aerator-1", "pond-1"])
            c.hidesOthers(rule, "a rule's device states")
        }
        rows["GET /api/v1/rules/replay"] = { c in
            let template = "/api/v1/rules/replay"
            #expect(try await c.api.call(.get, template, "\(template)?device=pond-1&from=0", token: c.token).status == .ok)
            c.sameRefusal(
                try await c.api.call(.get, template, "\(template)?device=aws-9&from=0", token: c.token),
                try await c.api.call(.get, template, "\(template)?device=nope-0&from=0", token: c.token), "a replay")
        }

        // Commands.
        rows["POST /api/v1/devices/{id}/commands"] = { c in
            let template = "/api/v1/devices/{id}/commands"
            let on = API.NewCommand(name: "aerator_on", expiresIn: 300)
            c.sameRefusal(
                try await c.api.call(.post, template, "/api/v1/devices/aerator-x/commands", token: c.token, json: on),
                try await c.api.call(.post, template, "/api/v1/devices/nope-0/commands", token: c.token, json: on), "a command")
            #expect(try c.fixture.store.commands(CommandQuery(device: "aerator-x")).count == 1, "a command went outside the scope")
            #expect(try await c.api.call(.post, template, "/api/v1/devices/aerator-1/commands", token: c.token, json: on).status == .created)
        }
        rows["GET /api/v1/commands"] = { c in
            let list = try await c.api.call(.get, "/api/v1/commands", token: c.token)
            let commands = try list.decode(API.CommandList.self).commands
            #expect(!commands.isEmpty && commands.allSatisfy { $0.device == "aerator-1" })
            c.hidesOthers(list, "the command list")
        }
        rows["GET /api/v1/commands/{id}"] = { c in
            #expect(try await c.api.call(.get, "/api/v1/commands/{id}", "/api/v1/commands/\(c.ids.commandIn)", token: c.token).status == .ok)
            c.sameRefusal(
                try await c.api.call(.get, "/api/v1/commands/{id}", "/api/v1/commands/\(c.ids.commandOut)", token: c.token),
                try await c.api.call(.get, "/api/v1/commands/{id}", "/api/v1/commands/c0000", token: c.token), "a command")
        }
        rows["POST /api/v1/commands/{id}/cancel"] = { c in
            let template = "/api/v1/commands/{id}/cancel"
            c.sameRefusal(
                try await c.api.call(.post, template, "/api/v1/commands/\(c.ids.commandOut)/cancel", token: c.token),
                try await c.api.call(.post, template, "/api/v1/commands/c0000/cancel", token: c.token), "a cancel")
            #expect(try c.fixture.store.command(id: c.ids.commandOut)?.state == .queued)
        }

        // The map.
        rows["GET /api/v1/map.geojson"] = { c in
            let map = try await c.api.call(.get, "/api/v1/map.geojson", token: c.token)
            #expect(try map.decode(API.MapFeatureCollection.self).features.map(\.id).sorted() == ["aerator-1", "pond-1"])
            c.hidesOthers(map, "the GeoJSON map")
        }
        rows["GET /dashboard/map"] = { c in
            let page = try await c.api.call(.get, "/dashboard/map", headers: c.session)
            #expect(page.status == .ok && page.text.contains("data-device=\"pond-1\"") && page.text.contains("data-device=\"aerator-1\""))
            c.hidesOthers(page, "the dashboard map")
        }

        // The dashboard, in a session opened with the scoped token.
        rows["POST /api/v1/dashboard/login-code"] = { c in
            let issued = try await c.api.call(.post, "/api/v1/dashboard/login-code", token: c.token)
            let code = try issued.decode(API.LoginCode.self)
            let redeemed = try await c.api.call(.get, "/dashboard/login", code.path)
            let cookie = try #require(redeemed.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let home = try await c.api.call(.get, "/dashboard", headers: [.cookie: cookie])
            #expect(home.status == .ok && home.text.contains("pond-1"))
            c.hidesOthers(home, "the dashboard of a session from a login code")
        }
        rows["GET /dashboard/login"] = { (c: Case) async throws in #expect(try await c.api.call(.get, "/dashboard/login").status == .ok) }
        rows["POST /dashboard/login"] = { c in
            let login = try await c.api.call(.post, "/dashboard/login", raw: "token=\(c.token)", contentType: Self.form)
            #expect(login.status == .seeOther)
        }
        rows["GET /dashboard"] = { c in
            let home = try await c.api.call(.get, "/dashboard", headers: c.session)
            #expect(home.status == .ok && home.text.contains("pond-1") && home.text.contains("aerator-1"))
            c.hidesOthers(home, "the dashboard")
            // The counts are the scope's: two open warnings, two devices.
            #expect(home.text.contains(StaffStrings.zh.openCount(2)), "the open-warning count is not the scope's")
            #expect(home.text.contains("<b>2</b>"))
        }
        rows["GET /dashboard/chart"] = { c in
            let template = "/dashboard/chart"
            #expect(try await c.api.call(.get, template, "\(template)?device=pond-1&metric=ph", headers: c.session).status == .ok)
            c.sameRefusal(
                try await c.api.call(.get, template, "\(template)?device=aws-9&metric=air_temp", headers: c.session),
                try await c.api.call(.get, template, "\(template)?device=nope-0&metric=air_temp", headers: c.session), "a chart")
        }
        for action in ["ack", "resolve"] {
            let template = "/dashboard/alerts/{id}/\(action)"
            rows["POST \(template)"] = { c in
                c.sameRefusal(
                    try await c.api.call(
                        .post, template, "/dashboard/alerts/\(c.ids.alertOut)/\(action)", raw: "csrf=\(c.csrf)", contentType: Self.form,
                        headers: c.session),
                    try await c.api.call(
                        .post, template, "/dashboard/alerts/\(Self.missingAlert)/\(action)", raw: "csrf=\(c.csrf)",
                        contentType: Self.form, headers: c.session), "a dashboard \(action)")
                #expect(try c.fixture.store.alert(id: c.ids.alertOut)?.status == .open)
                let inside = try await c.api.call(
                    .post, template, "/dashboard/alerts/\(c.ids.dashboardAlertIn)/\(action)", raw: "csrf=\(c.csrf)",
                    contentType: Self.form, headers: c.session)
                #expect(inside.status == .seeOther || inside.status == .conflict, "\(inside.status)")
            }
        }
        rows["GET /dashboard/controls"] = { c in
            let page = try await c.api.call(.get, "/dashboard/controls", headers: c.session)
            #expect(page.status == .ok && page.text.contains("aerator-1"))
            c.hidesOthers(page, "the controls")
        }
        rows["POST /dashboard/devices/{id}/commands"] = { c in
            let template = "/dashboard/devices/{id}/commands"
            c.sameRefusal(
                try await c.api.call(
                    .post, template, "/dashboard/devices/aerator-x/commands", raw: "name=aerator_on&csrf=\(c.csrf)",
                    contentType: Self.form, headers: c.session),
                try await c.api.call(
                    .post, template, "/dashboard/devices/nope-0/commands", raw: "name=aerator_on&csrf=\(c.csrf)",
                    contentType: Self.form, headers: c.session), "a dashboard command")
            #expect(try c.fixture.store.commands(CommandQuery(device: "aerator-x")).count == 1)
        }
        // Last: logging out ends the scoped session (the table runs it after every other row).
        rows["POST /dashboard/logout"] = { c in
            let out = try await c.api.call(.post, "/dashboard/logout", raw: "csrf=\(c.csrf)", contentType: Self.form, headers: c.session)
            #expect(out.status == .seeOther)
            #expect(try await c.api.call(.get, "/dashboard", headers: c.session).status == .seeOther)
        }
        return rows
    }

    @Test("the table has a row for every operation of openapi.yaml, and no other")
    func tableCoversTheSpec() throws {
        let spec = try Contract.operations()
        let rows = Set(Self.table.keys)
        #expect(spec.subtracting(rows).isEmpty, "operations without a scope row: \(spec.subtracting(rows).sorted())")
        #expect(rows.subtracting(spec).isEmpty, "rows for no operation: \(rows.subtracting(spec).sorted())")
    }

    /// The fixture's pond-1 (in scope) and the others: aerator-1 (in), aws-9 and aerator-x (out),
    /// each with readings, a reject, a warning or a command.
    static func populate(_ fixture: RouteFixture) throws -> IDs {
        let t0 = RouteFixture.t0
        try fixture.store.upsertDevices([
            Device(
                id: "aerator-1", profile: "pond-aerator", domain: .water, site: "东陂村", latitude: 24.781, longitude: 112.382,
                areaCode: "441882", createdAt: t0),
            Device(
                id: "aws-9", profile: "generic", domain: .weather, site: "西岸村", latitude: 24.70, longitude: 112.30, areaCode: "441802",
                createdAt: t0),
            Device(
                id: "aerator-x", profile: "pond-aerator", domain: .water, site: "西岸村", latitude: 24.71, longitude: 112.31,
                areaCode: "441802", createdAt: t0),
        ])
        var batch = IngestBatch()
        for i in 0..<6 {
            batch.readings.append(Reading(device: "aws-9", metric: "air_temp", timestamp: t0 + Int64(i) * 600_000, value: 30 + Double(i)))
        }
        batch.markSeen("aws-9", at: t0 + 3_000_000)
        batch.rejects.append(
            RejectRecord(
                receivedAt: t0 + 1, topic: "agri/aws-9/telemetry", device: "aws-9", payload: Array("{bad".utf8), code: .malformedJSON,
                reason: "not JSON"))
        try fixture.store.commit(batch)
        func raise(_ device: String, _ domain: String) throws -> Int64 {
            let at = t0 + 3_000_000
            let state = RuleStateRecord(
                rule: "pond-do-low", device: device, level: .red, watermark: at, state: #"{"levels":[],"w":[]}"#, updatedAt: at)
            let change = AlertLevelChange(
                rule: "pond-do-low", device: device, domain: domain, metric: "dissolved_oxygen", from: nil, to: .red, value: 1.5,
                threshold: 2, at: at, late: false, title: "缺氧 \(device)", message: "溶解氧 1.5 mg/L")
            guard let id = try fixture.store.applyRuleEvaluation(states: [state], changes: [change], now: at).first?.alert.id else {
                throw Contract.Failure(description: "no alert on \(device)")
            }
            return id
        }
        let alertOut = try raise("aws-9", "weather")
        let dashboardAlertIn = try raise("aerator-1", "water")
        let commandOut = try fixture.commands.issue(CommandRequest(device: "aerator-x", name: "aerator_on", by: "test")).id
        let commandIn = try fixture.commands.issue(CommandRequest(device: "aerator-1", name: "aerator_on", by: "test")).id
        return IDs(
            alertIn: fixture.alertID, alertOut: alertOut, dashboardAlertIn: dashboardAlertIn, commandIn: commandIn,
            commandOut: commandOut)
    }

    @Test("a scoped token and its dashboard session see nothing of another domain or site on any operation", arguments: scopes)
    func scopedTokenOnEveryOperation(scope text: String) async throws {
        let fixture = try RouteFixture()
        let ids = try Self.populate(fixture)
        let token = try fixture.store.createToken(name: "scoped", role: .operator, scope: try AccessScope.parse(text))
        // The unscoped view has the others (so the checks below can fail).
        #expect(try fixture.store.deviceRecords().count == 4)
        let table = Self.table
        try await fixture.test { api in
            let login = try await api.call(.post, "/dashboard/login", raw: "token=\(token)", contentType: Self.form)
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let session = String(cookie.dropFirst("shennong_session=".count))
            let c = Case(
                fixture: fixture, api: api, token: token, session: [.cookie: cookie], csrf: fixture.sessions.csrfToken(session), ids: ids)
            for operation in table.keys.sorted() where operation != "POST /dashboard/logout" {
                try await table[operation]!(c)
            }
            try await table["POST /dashboard/logout"]!(c)
        }
        // Every row exercised its operation.
        let spec = try Contract.operations()
        #expect(spec.subtracting(fixture.log.operations).isEmpty, "rows that never called their operation: \(spec.subtracting(fixture.log.operations).sorted())")
    }

    @Test("a revoked token is refused on every staff operation at once, and the dashboard sessions opened with it end")
    func revokedTokenAndSessions() async throws {
        let fixture = try RouteFixture()
        _ = try Self.populate(fixture)
        let token = try fixture.store.createToken(name: "soon-revoked", role: .admin, scope: try AccessScope.parse("site=东陂村"))
        let id = try #require(try fixture.store.authenticate(token: token)?.id)
        let spec = try Contract.operations()
        try await fixture.test { api in
            // Two sessions: a form login and a login code.
            let login = try await api.call(.post, "/dashboard/login", raw: "token=\(token)", contentType: Self.form)
            let first = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let code = try (try await api.call(.post, "/api/v1/dashboard/login-code", token: token)).decode(API.LoginCode.self)
            let redeemed = try await api.call(.get, "/dashboard/login", code.path)
            let second = try #require(redeemed.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            for cookie in [first, second] {
                #expect(try await api.call(.get, "/dashboard", headers: [.cookie: cookie]).status == .ok)
            }
            #expect(try await api.call(.get, "/api/v1/devices", token: token).status == .ok)

            #expect(try fixture.store.revokeToken(id: id))

            // Every staff API operation: 401 at once.
            for operation in spec.sorted() where !Self.publicOperations.contains(operation) {
                let parts = operation.split(separator: " ")
                let template = String(parts[1])
                guard template.hasPrefix("/api/v1/") else { continue }
                let path = template.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(of: "{code}", with: "x")
                let answer = try await api.call(parts[0] == "POST" ? .post : .get, template, path, token: token)
                #expect(answer.status == .unauthorized, "\(operation) with a revoked token: \(answer.status)")
            }
            // Both sessions end: pages go to the login, actions are refused.
            for cookie in [first, second] {
                let headers: HTTPFields = [.cookie: cookie]
                let csrf = fixture.sessions.csrfToken(String(cookie.dropFirst("shennong_session=".count)))
                for page in ["/dashboard", "/dashboard/controls", "/dashboard/map"] {
                    let answer = try await api.call(.get, page, headers: headers)
                    #expect(answer.status == .seeOther && answer.headers[.location] == "/dashboard/login", "\(page): \(answer.status)")
                }
                let chart = try await api.call(.get, "/dashboard/chart", "/dashboard/chart?device=pond-1&metric=ph", headers: headers)
                #expect(chart.status == .seeOther)
                let ack = try await api.call(
                    .post, "/dashboard/alerts/{id}/ack", "/dashboard/alerts/\(fixture.alertID)/ack", raw: "csrf=\(csrf)",
                    contentType: Self.form, headers: headers)
                #expect(ack.status == .unauthorized)
                let command = try await api.call(
                    .post, "/dashboard/devices/{id}/commands", "/dashboard/devices/aerator-1/commands", raw: "name=aerator_on&csrf=\(csrf)",
                    contentType: Self.form, headers: headers)
                #expect(command.status == .unauthorized)
            }
            #expect(try fixture.store.alert(id: fixture.alertID)?.status == .open)
            // A new login with the revoked token fails too.
            #expect(try await api.call(.post, "/dashboard/login", raw: "token=\(token)", contentType: Self.form).status == .unauthorized)
        }
        #expect(fixture.sessions.count == 0, "the revoked token's sessions are still held")
    }
}
