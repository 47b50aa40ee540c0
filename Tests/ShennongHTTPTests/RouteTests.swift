import Foundation
import HTTPTypes
import Hummingbird
import ShennongAPI
import ShennongCore
import ShennongRules
import ShennongTestSupport
import Testing

@testable import ShennongHTTP

/// Every route of openapi.yaml in process (HummingbirdTesting), on a real store: status codes,
/// refusals (no token 401, a role too low 403), bodies decoded with the ShennongAPI types,
/// and every answer checked against the spec (status, content type, JSON schema).
///
/// ``manifest`` says which test exercises which operation; each test checks it made exactly
/// those, and ``everyOperationHasARouteTest`` that together they are the spec's.
struct RouteTests {
    static let manifest: [String: [String]] = [
        "public": [
            "GET /healthz", "GET /metrics", "GET /openapi.yaml",
        ],
        "devices": [
            "GET /api/v1/devices", "POST /api/v1/devices", "POST /api/v1/devices/import", "GET /api/v1/devices/{id}",
        ],
        "readings": [
            "GET /api/v1/readings/latest", "GET /api/v1/readings", "GET /api/v1/rejects", "POST /api/v1/rejects/replay",
        ],
        "alerts": [
            "GET /api/v1/alerts", "GET /api/v1/alerts/{id}", "GET /api/v1/alerts/{id}/cap", "POST /api/v1/alerts/{id}/ack",
            "POST /api/v1/alerts/{id}/resolve", "POST /api/v1/alerts/{id}/close",
        ],
        "rules": [
            "GET /api/v1/rules", "GET /api/v1/rules/replay", "GET /api/v1/rules/{id}",
        ],
        "trace": [
            "POST /api/v1/trace/producers", "POST /api/v1/trace/plots", "GET /api/v1/trace/batches",
            "POST /api/v1/trace/batches", "GET /api/v1/trace/batches/{id}", "POST /api/v1/trace/batches/{id}/certificate",
            "POST /api/v1/trace/batches/{id}/inspections", "POST /api/v1/trace/batches/{id}/events",
            "POST /api/v1/trace/batches/{id}/codes", "POST /api/v1/trace/batches/{id}/recall",
            "POST /api/v1/trace/batches/{id}/seal", "GET /api/v1/trace/batches/{id}/epcis", "GET /api/v1/trace/verify",
            "GET /api/v1/trace/codes/{code}", "GET /api/v1/trace/{code}", "GET /t/{code}",
            "GET /01/{gtin}/10/{lot}/21/{serial}", "GET /.well-known/shennong-trace-key",
        ],
        "dashboard": [
            "POST /api/v1/dashboard/login-code", "GET /dashboard", "GET /dashboard/login", "POST /dashboard/login",
            "POST /dashboard/logout", "GET /dashboard/chart", "POST /dashboard/alerts/{id}/ack",
            "POST /dashboard/alerts/{id}/resolve",
        ],
        // CommandRouteTests.swift
        "commands": [
            "POST /api/v1/devices/{id}/commands", "GET /api/v1/commands", "GET /api/v1/commands/{id}",
            "POST /api/v1/commands/{id}/cancel",
        ],
        // CommandRouteTests.swift (with a dashboard login)
        "controls": ["GET /dashboard/controls", "POST /dashboard/devices/{id}/commands"],
        // MapRouteTests.swift (with a dashboard login)
        "map": ["GET /api/v1/map.geojson", "GET /dashboard/map"],
    ]

    @Test("every operation of openapi.yaml has a route test here, and every one tested is in the spec")
    func everyOperationHasARouteTest() throws {
        let listed = manifestOperations()
        #expect(listed.count == Self.manifest.values.map(\.count).reduce(0, +), "an operation is listed twice")
        let spec = try Contract.operations()
        #expect(spec.subtracting(listed).isEmpty, "in the spec, not tested: \(spec.subtracting(listed).sorted())")
        #expect(listed.subtracting(spec).isEmpty, "tested, not in the spec: \(listed.subtracting(spec).sorted())")
    }

    func manifestOperations() -> Set<String> { Set(Self.manifest.values.joined()) }

    /// Checks that the test `area` made exactly its operations of the manifest.
    func expectCovered(_ area: String, _ fixture: RouteFixture, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(fixture.log.operations == Set(Self.manifest[area] ?? []), sourceLocation: sourceLocation)
    }

    @Test("/healthz answers the four checks and the details; /metrics is text; /openapi.yaml is the repository's file")
    func publicRoutes() async throws {
        let fixture = try RouteFixture()
        try await fixture.test { api in
            let health = try await api.call(.get, "/healthz")
            #expect(health.status == .ok)
            let body = try health.decode(API.Health.self)
            #expect(body.status == "ok" && body.database == "ok" && body.mqtt == "connected" && body.storage == "ok")
            #expect(body.details == ["broker": "127.0.0.1:1883"])
            #expect(health.headers[.cacheControl] == "no-store")

            let metrics = try await api.call(.get, "/metrics")
            #expect(metrics.status == .ok && metrics.headers[.contentType]?.hasPrefix("text/plain") == true)

            let spec = try await api.call(.get, "/openapi.yaml")
            #expect(spec.status == .ok && spec.headers[.contentType]?.hasPrefix("application/yaml") == true)
            let file = try Data(contentsOf: URL(fileURLWithPath: Contract.specPath))
            let same = spec.body == Array(file)
            #expect(same, "the served spec (\(spec.body.count) bytes) is not openapi.yaml (\(file.count) bytes): rebuild after editing it")
        }
        expectCovered("public", fixture)
    }

    @Test("devices: list, filter, show, add (operator; 400, 409, 413), import a CSV; 401 without a token, 403 for a viewer's write")
    func devices() async throws {
        let fixture = try RouteFixture()
        try await fixture.test { api in
            #expect(try await api.call(.get, "/api/v1/devices").status == .unauthorized)
            let unknown = try await api.call(.get, "/api/v1/devices", token: "snk_nope")
            #expect(unknown.status == .unauthorized && unknown.message == "unknown or revoked token")
            let list = try await api.call(.get, "/api/v1/devices", token: fixture.viewer)
            #expect(list.status == .ok)
            let devices = try list.decode(API.DeviceList.self).devices
            #expect(devices.map(\.id) == ["pond-1"])
            let pond = try #require(devices.first)
            #expect(pond.areaCode == "441882" && pond.attributes == ["depth_m": 2] && pond.metrics?.sorted() == ["dissolved_oxygen", "ph"])
            #expect(pond.createdAt == LocalTime.precise(RouteFixture.t0 - 86_400_000) && pond.lastSeen != nil)
            let soil = try await api.call(.get, "/api/v1/devices", "/api/v1/devices?domain=soil", token: fixture.viewer)
            #expect(try soil.decode(API.DeviceList.self).devices.isEmpty)
            #expect(try await api.call(.get, "/api/v1/devices", "/api/v1/devices?domain=sky", token: fixture.viewer).status == .badRequest)

            let shown = try await api.call(.get, "/api/v1/devices/{id}", "/api/v1/devices/pond-1", token: fixture.viewer)
            #expect(try shown.decode(API.Device.self) == pond)
            #expect(try await api.call(.get, "/api/v1/devices/{id}", "/api/v1/devices/nope", token: fixture.viewer).status == .notFound)

            let new = API.NewDevice(id: "gauge-9", profile: "generic", domain: "flood", site: "连州", areaCode: "441882", attributes: ["warning_stage": 3.5])
            #expect(try await api.call(.post, "/api/v1/devices", token: fixture.viewer, json: new).status == .forbidden)
            let added = try await api.call(.post, "/api/v1/devices", token: fixture.operator, json: new)
            #expect(added.status == .created)
            let device = try added.decode(API.Device.self)
            #expect(device.id == "gauge-9" && device.domain == "flood" && device.site == "连州" && device.attributes == ["warning_stage": 3.5])
            #expect(try await api.call(.post, "/api/v1/devices", token: fixture.operator, json: new).status == .conflict)
            let badID = try await api.call(.post, "/api/v1/devices", token: fixture.operator, json: API.NewDevice(id: "a b", profile: "generic"))
            #expect(badID.status == .badRequest && badID.message.contains("[A-Za-z0-9_.-]"))
            let badProfile = try await api.call(.post, "/api/v1/devices", token: fixture.operator, json: API.NewDevice(id: "x", profile: "nope"))
            #expect(badProfile.status == .badRequest && badProfile.message.hasPrefix("unknown profile nope"))
            let missing = try await api.call(.post, "/api/v1/devices", token: fixture.operator, raw: #"{"id": "x"}"#)
            #expect(missing.status == .badRequest && missing.message == "body: profile is required")
            let wrongType = try await api.call(.post, "/api/v1/devices", token: fixture.operator, raw: #"{"id": "x", "profile": "generic", "latitude": "north"}"#)
            #expect(wrongType.status == .badRequest && wrongType.message.hasPrefix("body latitude:"))
            let notJSON = try await api.call(.post, "/api/v1/devices", token: fixture.operator, raw: #"{"id":"#)
            #expect(notJSON.status == .badRequest && notJSON.message.hasPrefix("body must be JSON"))
            let big = try await api.call(.post, "/api/v1/devices", token: fixture.operator, raw: String(repeating: "A", count: 2 << 20))
            #expect(big.status == .contentTooLarge && big.message.contains("larger than"))

            let csv = "id,profile,domain,site,warning_stage\ngauge-9,generic,flood,连州,4\ngauge-10,generic,flood,连州,3\n"
            #expect(try await api.call(.post, "/api/v1/devices/import", token: fixture.viewer, raw: csv, contentType: "text/csv").status == .forbidden)
            let imported = try await api.call(.post, "/api/v1/devices/import", token: fixture.operator, raw: csv, contentType: "text/csv")
            #expect(imported.status == .ok)
            #expect(try imported.decode(API.DeviceImport.self) == API.DeviceImport(imported: 2, created: 1, updated: 1))
            let bad = try await api.call(.post, "/api/v1/devices/import", token: fixture.operator, raw: "id,profile\n,generic\n", contentType: "text/csv")
            #expect(bad.status == .badRequest && bad.message.contains("nothing imported"))
        }
        expectCovered("devices", fixture)
    }

    @Test("readings: latest, raw and aggregated with ts + time, rejects; bad parameters are 400 (a span too long to count included)")
    func readings() async throws {
        let fixture = try RouteFixture()
        let t0 = RouteFixture.t0
        try await fixture.test { api in
            let latest = try await api.call(.get, "/api/v1/readings/latest", "/api/v1/readings/latest?domain=water", token: fixture.viewer)
            let values = try latest.decode(API.LatestList.self).latest
            #expect(values.map(\.metric).sorted() == ["dissolved_oxygen", "ph"])
            let oxygen = try #require(values.first { $0.metric == "dissolved_oxygen" })
            #expect(oxygen.ts == t0 + 3_000_000 && oxygen.time == LocalTime.precise(t0 + 3_000_000) && oxygen.unit == "mg/L")
            #expect(oxygen.site == "东陂村" && oxygen.domain == "water" && oxygen.value == 0.5)
            #expect(try await api.call(.get, "/api/v1/readings/latest").status == .unauthorized)
            #expect(try await api.call(.get, "/api/v1/readings/latest", "/api/v1/readings/latest?domain=x", token: fixture.viewer).status == .badRequest)

            let raw = try await api.call(
                .get, "/api/v1/readings", "/api/v1/readings?device=pond-1&metric=dissolved_oxygen&from=\(t0)&to=\(t0 + 3_600_000)",
                token: fixture.viewer)
            let readings = try raw.decode(API.ReadingList.self)
            #expect(readings.device == "pond-1" && readings.readings.map(\.value) == [5.5, 4.5, 3.5, 2.5, 1.5, 0.5])
            #expect(readings.readings.first?.time == LocalTime.precise(t0))
            let hourly = try await api.call(
                .get, "/api/v1/readings", "/api/v1/readings?device=pond-1&metric=ph&from=\(t0)&to=\(t0 + 3_600_000)&every=1h",
                token: fixture.viewer)
            let aggregates = try hourly.decode(API.AggregateList.self)
            #expect(aggregates.every == "1h" && aggregates.aggregates.map(\.count).reduce(0, +) == 6 && aggregates.aggregates.allSatisfy { $0.mean == 7.2 })

            for query in ["", "device=pond-1&from=yesterday", "device=pond-1&metric=colour", "device=pond-1&every=1ms",
                          "device=pond-1&every=999999999999999d", "device=pond-1&from=-99999999999999d",
                          "device=pond-1&from=\(t0)&to=\(t0)"] {
                let answer = try await api.call(.get, "/api/v1/readings", "/api/v1/readings?\(query)", token: fixture.viewer)
                #expect(answer.status == .badRequest, "\(query): \(answer.status)")
            }

            let rejects = try await api.call(.get, "/api/v1/rejects", "/api/v1/rejects?since=0", token: fixture.viewer)
            let reject = try #require(try rejects.decode(API.RejectList.self).rejects.first)
            #expect(reject.code == "malformed_json" && reject.payload == "{not json" && reject.payloadBytes == 9)
            #expect(try await api.call(.get, "/api/v1/rejects", "/api/v1/rejects?since=soon", token: fixture.viewer).status == .badRequest)
            #expect(try await api.call(.get, "/api/v1/rejects", token: "snk_x").status == .unauthorized)

            // Replay: the malformed payload still fails (one row, not two); a dry run writes nothing.
            for dryRun in [true, false, false] {
                let replay = try await api.call(
                    .post, "/api/v1/rejects/replay", token: fixture.operator, json: API.RejectReplayRequest(since: "0", dryRun: dryRun))
                #expect(replay.status == .ok)
                let counts = try replay.decode(API.RejectReplay.self)
                #expect(counts == API.RejectReplay(examined: 1, stored: 0, stillRejected: 1, replayedRejects: 0, dryRun: dryRun))
                #expect(try fixture.store.rejects().map(\.code) == [.malformedJSON])
            }
            let filtered = try await api.call(
                .post, "/api/v1/rejects/replay", token: fixture.operator, json: API.RejectReplayRequest(reason: "out_of_range"))
            #expect(try filtered.decode(API.RejectReplay.self).examined == 0)
            #expect(try await api.call(.post, "/api/v1/rejects/replay", token: fixture.viewer, json: API.RejectReplayRequest()).status == .forbidden)
            #expect(
                try await api.call(.post, "/api/v1/rejects/replay", token: fixture.operator, json: API.RejectReplayRequest(since: "soon"))
                    .status == .badRequest)
        }
        expectCovered("readings", fixture)
    }

    @Test("alerts: list and filters, one with its transitions, CAP; ack, resolve, close (operator; 403, 404, 409, close needs a note)")
    func alerts() async throws {
        let fixture = try RouteFixture()
        let id = fixture.alertID
        try await fixture.test { api in
            let list = try await api.call(.get, "/api/v1/alerts", "/api/v1/alerts?open=true&level=orange&domain=water", token: fixture.viewer)
            let alert = try #require(try list.decode(API.AlertList.self).alerts.first)
            #expect(alert.id == id && alert.level == "orange" && alert.levelZh == "橙色" && alert.grade == "II" && alert.status == "open")
            #expect(alert.raisedTs == RouteFixture.t0 + 3_000_000 && alert.raisedAt == LocalTime.format(alert.raisedTs))
            #expect(alert.ruleName != nil && alert.instruction != nil && alert.event == nil)
            for query in ["status=later", "level=pink", "domain=sky"] {
                #expect(try await api.call(.get, "/api/v1/alerts", "/api/v1/alerts?\(query)", token: fixture.viewer).status == .badRequest)
            }
            #expect(try await api.call(.get, "/api/v1/alerts").status == .unauthorized)

            let shown = try await api.call(.get, "/api/v1/alerts/{id}", "/api/v1/alerts/\(id)", token: fixture.viewer)
            let detail = try shown.decode(API.AlertDetail.self)
            #expect(detail.alert.id == id && detail.transitions.map(\.kind) == ["raised"] && detail.transitions.first?.toLevel == "orange")
            #expect(try await api.call(.get, "/api/v1/alerts/{id}", "/api/v1/alerts/999", token: fixture.viewer).status == .notFound)
            #expect(try await api.call(.get, "/api/v1/alerts/{id}", "/api/v1/alerts/abc", token: fixture.viewer).status == .badRequest)

            let cap = try await api.call(.get, "/api/v1/alerts/{id}/cap", "/api/v1/alerts/\(id)/cap", token: fixture.viewer)
            #expect(cap.status == .ok && cap.headers[.contentType]?.hasPrefix("application/cap+xml") == true && cap.text.contains("<severity>"))
            #expect(try await api.call(.get, "/api/v1/alerts/{id}/cap", "/api/v1/alerts/999/cap", token: fixture.viewer).status == .notFound)

            let action = API.AlertAction(note: "已通知", by: "陈伟")
            #expect(try await api.call(.post, "/api/v1/alerts/{id}/ack", "/api/v1/alerts/\(id)/ack", token: fixture.viewer, json: action).status == .forbidden)
            let acked = try await api.call(.post, "/api/v1/alerts/{id}/ack", "/api/v1/alerts/\(id)/ack", token: fixture.operator, json: action)
            let after = try acked.decode(API.Alert.self)
            #expect(after.status == "acknowledged" && after.event == "acknowledged" && after.by == "陈伟 (token duty-officer)")
            #expect(after.note == "已通知" && after.previousLevel == "orange" && after.acknowledgedBy == "陈伟 (token duty-officer)")
            #expect(try await api.call(.post, "/api/v1/alerts/{id}/ack", "/api/v1/alerts/999/ack", token: fixture.operator).status == .notFound)
            let early = try await api.call(.post, "/api/v1/alerts/{id}/close", "/api/v1/alerts/\(id)/close", token: fixture.operator, json: API.AlertAction(note: "x"))
            #expect(early.status == .conflict, "only a resolved alert closes: \(early.message)")
            // No body: the token's name says who.
            let resolved = try await api.call(.post, "/api/v1/alerts/{id}/resolve", "/api/v1/alerts/\(id)/resolve", token: fixture.operator)
            #expect(try resolved.decode(API.Alert.self).resolvedBy == "duty-officer")
            #expect(try await api.call(.post, "/api/v1/alerts/{id}/ack", "/api/v1/alerts/\(id)/ack", token: fixture.operator).status == .conflict)
            let noNote = try await api.call(.post, "/api/v1/alerts/{id}/close", "/api/v1/alerts/\(id)/close", token: fixture.operator)
            #expect(noNote.status == .badRequest, "closing needs a note: \(noNote.message)")
            let closed = try await api.call(
                .post, "/api/v1/alerts/{id}/close", "/api/v1/alerts/\(id)/close", token: fixture.admin, json: API.AlertAction(note: "增氧后恢复"))
            let final = try closed.decode(API.Alert.self)
            #expect(final.status == "closed" && final.closedBy == "admin" && final.event == "closed")
        }
        expectCovered("alerts", fixture)
    }

    @Test("rules: the presets, one with each device's level and pending timers, a replay over stored readings")
    func rules() async throws {
        let fixture = try RouteFixture()
        let t0 = RouteFixture.t0
        try await fixture.test { api in
            let list = try await api.call(.get, "/api/v1/rules", token: fixture.viewer)
            let rules = try list.decode(API.RuleList.self).rules
            let low = try #require(rules.first { $0.id == "pond-do-low" })
            #expect(low.kind == "threshold" && low.metric == "dissolved_oxygen" && low.levels["red"] == "< 2.0" && low.file == "pond.yaml")
            #expect(try await api.call(.get, "/api/v1/rules").status == .unauthorized)

            let shown = try await api.call(.get, "/api/v1/rules/{id}", "/api/v1/rules/pond-do-low", token: fixture.viewer)
            let detail = try shown.decode(API.RuleDetail.self)
            let state = try #require(detail.states.first)
            #expect(detail.rule == low && state.device == "pond-1" && state.level == "orange")
            #expect(state.pending == ["yellow": t0 + 3_000_000 - 60_000])
            #expect(try await api.call(.get, "/api/v1/rules/{id}", "/api/v1/rules/nope", token: fixture.viewer).status == .notFound)

            let replay = try await api.call(
                .get, "/api/v1/rules/replay", "/api/v1/rules/replay?device=pond-1&from=\(t0)&to=\(t0 + 3_600_000)", token: fixture.viewer)
            let changes = try replay.decode(API.LevelChangeList.self).changes.filter { $0.rule == "pond-do-low" }
            #expect(changes.map { "\($0.from):\($0.to)" } == ["none:orange", "orange:red"], "\(replay.text)")
            #expect(changes.first.map { $0.at == LocalTime.format($0.ts) } == true)
            #expect(try await api.call(.get, "/api/v1/rules/replay", token: fixture.viewer).status == .badRequest)
            #expect(try await api.call(.get, "/api/v1/rules/replay", "/api/v1/rules/replay?device=nope", token: fixture.viewer).status == .notFound)
            #expect(try await api.call(.get, "/api/v1/rules/replay", "/api/v1/rules/replay?device=pond-1&from=later", token: fixture.viewer).status == .badRequest)
        }
        expectCovered("rules", fixture)
    }

    @Test("trace: producer, plot, batch, inspection, events (422 in a withdrawal period), certificate, codes, verify, seal, recall (then 409); public page, JSON, Digital Link, key; 429 over the public limit")
    func trace() async throws {
        let fixture = try RouteFixture()
        let day: Int64 = 86_400_000
        let planted: Int64 = 1_756_656_000_000
        try await fixture.test(rateLimit: PublicRateLimit(burst: 30, perMinute: 1)) { api in
            let producer = API.Producer(
                id: "P1", name: "连州蔬菜合作社", creditCode: "91350100M000100Y43", contact: "陈伟", phone: "13812341234", areaCode: "441882")
            #expect(try await api.call(.post, "/api/v1/trace/producers", token: fixture.viewer, json: producer).status == .forbidden)
            let recorded = try await api.call(.post, "/api/v1/trace/producers", token: fixture.operator, json: producer)
            #expect(recorded.status == .created)
            let record = try recorded.decode(API.TraceRecord.self)
            #expect(record.kind == "producer" && record.subject == "P1" && record.chain == "registry" && record.seq == 0)
            #expect(try await api.call(.post, "/api/v1/trace/producers", token: fixture.operator, json: producer).status == .conflict)
            var forged = producer
            forged.id = "P2"
            forged.creditCode = "91350100M000100Y44"
            #expect(try await api.call(.post, "/api/v1/trace/producers", token: fixture.operator, json: forged).status == .badRequest)

            let plot = API.Plot(
                id: "PL1", producer: "P1", name: "东陂鱼塘", location: "连州市东陂镇", area: 12.5, areaUnit: "亩", areaCode: "441882",
                devices: ["pond-1"])
            #expect(try await api.call(.post, "/api/v1/trace/plots", token: fixture.operator, json: plot).status == .created)
            var orphan = plot
            orphan.id = "PL2"
            orphan.producer = "nobody"
            #expect(try await api.call(.post, "/api/v1/trace/plots", token: fixture.operator, json: orphan).status == .notFound)

            let batch = API.Batch(id: "LOT-1", plot: "PL1", product: "鲩鱼", quantity: 500, unit: "kg", plantingDate: planted, gtin: "06901234567892")
            #expect(try await api.call(.post, "/api/v1/trace/batches", token: fixture.operator, json: batch).status == .created)
            var far = batch
            far.id = "LOT-9"
            far.plantingDate = Int64.max
            let farAnswer = try await api.call(.post, "/api/v1/trace/batches", token: fixture.operator, json: far)
            #expect(farAnswer.status == .badRequest && farAnswer.message.hasPrefix("body planting_date:"))
            let ids = try await api.call(.get, "/api/v1/trace/batches", token: fixture.viewer)
            #expect(try ids.decode(API.BatchList.self).batches == ["LOT-1"])

            let inspection = API.Inspection(sample: "S1", item: "孔雀石绿", result: "未检出", passed: true, lab: "连州检测站", date: planted + 60 * day)
            #expect(try await api.call(.post, "/api/v1/trace/batches/{id}/inspections", "/api/v1/trace/batches/LOT-1/inspections", token: fixture.operator, json: inspection).status == .created)
            let drug = API.TraceEvent(
                stage: .production, action: "input", party: "陈伟", time: planted + 50 * day, place: "东陂鱼塘",
                inputs: [API.ProductionInput(kind: .veterinary, name: "恩诺沙星", amount: "50 g", withdrawalDays: 30)])
            #expect(try await api.call(.post, "/api/v1/trace/batches/{id}/events", "/api/v1/trace/batches/LOT-1/events", token: fixture.operator, json: drug).status == .created)
            let early = API.TraceEvent(stage: .production, action: "harvest", party: "陈伟", time: planted + 60 * day, place: "东陂鱼塘")
            let refused = try await api.call(.post, "/api/v1/trace/batches/{id}/events", "/api/v1/trace/batches/LOT-1/events", token: fixture.operator, json: early)
            #expect(refused.status == .unprocessableContent, "\(refused.message)")
            // A stage the trace module does not know cannot be typed: send the JSON itself.
            let badStage = String(decoding: try APICoding.encode(early), as: UTF8.self).replacingOccurrences(of: "\"production\"", with: "\"orbit\"")
            let stage = try await api.call(.post, "/api/v1/trace/batches/{id}/events", "/api/v1/trace/batches/LOT-1/events", token: fixture.operator, raw: badStage, contentType: "application/json")
            #expect(stage.status == .badRequest && stage.message.hasPrefix("body stage: unknown stage orbit"))
            let harvest = API.TraceEvent(stage: .production, action: "harvest", party: "陈伟", time: planted + 90 * day, place: "东陂鱼塘", note: "起捕")
            #expect(try await api.call(.post, "/api/v1/trace/batches/{id}/events", "/api/v1/trace/batches/LOT-1/events", token: fixture.operator, json: harvest).status == .created)

            let certificate = try await api.call(
                .post, "/api/v1/trace/batches/{id}/certificate", "/api/v1/trace/batches/LOT-1/certificate", token: fixture.operator,
                json: API.CertificateRequest(basis: ["self-tested"], issueDate: planted + 90 * day))
            #expect(certificate.status == .created)
            #expect(try certificate.decode(API.Certificate.self).basis == [.selfTested])
            let basis = try await api.call(
                .post, "/api/v1/trace/batches/{id}/certificate", "/api/v1/trace/batches/LOT-1/certificate", token: fixture.operator,
                json: API.CertificateRequest(basis: ["trust-me"]))
            #expect(basis.status == .badRequest)

            let codes = try await api.call(.post, "/api/v1/trace/batches/{id}/codes", "/api/v1/trace/batches/LOT-1/codes", token: fixture.operator, json: API.CodesRequest(count: 2))
            let issued = try codes.decode(API.IssuedCodes.self)
            #expect(codes.status == .created && issued.count == 2 && issued.product == "鲩鱼" && issued.codes.allSatisfy { $0.digitalLink != nil })
            let missingCount = try await api.call(.post, "/api/v1/trace/batches/{id}/codes", "/api/v1/trace/batches/LOT-1/codes", token: fixture.operator, raw: "{}")
            #expect(missingCount.status == .badRequest && missingCount.message == "body: count is required")
            #expect(try await api.call(.post, "/api/v1/trace/batches/{id}/codes", "/api/v1/trace/batches/NOPE/codes", token: fixture.operator, json: API.CodesRequest(count: 1)).status == .notFound)
            let code = try #require(issued.codes.first?.code)
            let plain = code.replacingOccurrences(of: "-", with: "")

            let dossier = try await api.call(.get, "/api/v1/trace/batches/{id}", "/api/v1/trace/batches/LOT-1", token: fixture.viewer)
            let d = try dossier.decode(API.BatchDossier.self)
            #expect(d.codesIssued == 2 && d.events.map(\.event.action) == ["input", "harvest"] && d.inspections.count == 1 && d.certificate != nil)
            #expect(d.environment?.devices == ["pond-1"] && d.plot.devices == ["pond-1"])
            #expect(try await api.call(.get, "/api/v1/trace/batches/{id}", "/api/v1/trace/batches/NOPE", token: fixture.viewer).status == .notFound)

            let sealed = try await api.call(.post, "/api/v1/trace/batches/{id}/seal", "/api/v1/trace/batches/LOT-1/seal", token: fixture.operator)
            let seal = try sealed.decode(API.Seal.self)
            #expect(sealed.status == .created && seal.headSeq > 0)
            let verify = try await api.call(.get, "/api/v1/trace/verify", token: fixture.viewer)
            let report = try verify.decode(API.VerifyReport.self)
            #expect(report.ok && report.breaks.isEmpty && report.seals == 1 && report.codes == 2)
            #expect(try await api.call(.get, "/api/v1/trace/verify", "/api/v1/trace/verify?code=\(code)", token: fixture.viewer).status == .ok)

            let epcis = try await api.call(.get, "/api/v1/trace/batches/{id}/epcis", "/api/v1/trace/batches/LOT-1/epcis", token: fixture.viewer)
            #expect(epcis.status == .ok && epcis.headers[.contentType]?.hasPrefix("application/ld+json") == true)
            #expect(try APICoding.decode(JSONValue.self, from: Data(epcis.body))["type"] == .string("EPCISDocument"))

            let staffView = try await api.call(.get, "/api/v1/trace/codes/{code}", "/api/v1/trace/codes/\(code)", token: fixture.viewer)
            let view = try staffView.decode(API.PublicTrace.self)
            #expect(view.code == code && view.status == "ok" && view.scans.count == 0 && view.producer.phone == "138****1234")
            #expect(view.plot.devices.isEmpty && view.chain.seal != nil && view.certificate?.contact == "138****1234")
            #expect(try await api.call(.get, "/api/v1/trace/codes/{code}", "/api/v1/trace/codes/XXXXX", token: fixture.viewer).status == .badRequest)

            // Public: the page, its JSON, the Digital Link and the key; each found lookup is a scan.
            let page = try await api.call(.get, "/t/{code}", "/t/\(code)")
            #expect(page.status == .ok && page.text.contains("鲩鱼"))
            #expect(try await api.call(.get, "/t/{code}", "/t/NOTACODE").status == .notFound)
            let json = try await api.call(.get, "/api/v1/trace/{code}", "/api/v1/trace/\(plain)")
            #expect(try json.decode(API.PublicTrace.self).scans.count == 2)
            let unknown = try await api.call(.get, "/api/v1/trace/{code}", "/api/v1/trace/NOTACODE")
            #expect(unknown.status == .notFound && unknown.message.contains("unknown or forged code"))
            let link = try #require(issued.codes.first?.digitalLink.flatMap { URL(string: $0)?.path })
            let linked = try await api.call(.get, "/01/{gtin}/10/{lot}/21/{serial}", link)
            #expect(linked.status == .ok && linked.headers[.contentType]?.hasPrefix("text/html") == true)
            let linkedJSON = try await api.call(.get, "/01/{gtin}/10/{lot}/21/{serial}", link, headers: [.accept: "application/json"])
            #expect(try linkedJSON.decode(API.PublicTrace.self).code == code)
            let wrongLot = try await api.call(
                .get, "/01/{gtin}/10/{lot}/21/{serial}", link.replacingOccurrences(of: "/10/LOT-1/", with: "/10/LOT-2/"),
                headers: [.accept: "application/json"])
            #expect(wrongLot.status == .notFound)
            let key = try await api.call(.get, "/.well-known/shennong-trace-key")
            #expect(key.status == .ok && key.text.hasPrefix("-----BEGIN PUBLIC KEY-----"))

            // Recall: the page turns red; a recalled batch takes no more events.
            let recalled = try await api.call(
                .post, "/api/v1/trace/batches/{id}/recall", "/api/v1/trace/batches/LOT-1/recall", token: fixture.operator,
                json: API.RecallRequest(reason: "检出超标"))
            let recall = try recalled.decode(API.Recall.self)
            #expect(recalled.status == .created && recall.by == "duty-officer")
            let again = try await api.call(.post, "/api/v1/trace/batches/{id}/events", "/api/v1/trace/batches/LOT-1/events", token: fixture.operator, json: harvest)
            #expect(again.status == .conflict)
            let red = try await api.call(.get, "/api/v1/trace/{code}", "/api/v1/trace/\(code)")
            let redView = try red.decode(API.PublicTrace.self)
            #expect(redView.status == "recalled" && redView.recall?.by == "" && redView.recall?.reason == "检出超标")

            // Over the public limit (burst 30 in this test, staff GETs under /api/v1/trace/ count
            // too): 429 with Retry-After, as JSON and as a page.
            var limited: Caller.Answer?
            for _ in 0..<30 {
                let answer = try await api.call(.get, "/api/v1/trace/{code}", "/api/v1/trace/\(code)")
                if answer.status == .tooManyRequests {
                    limited = answer
                    break
                }
            }
            let tooMany = try #require(limited)
            #expect(tooMany.headers[.retryAfter] != nil && tooMany.message.contains("too many requests"))
            let pageLimited = try await api.call(.get, "/t/{code}", "/t/\(code)")
            #expect(pageLimited.status == .tooManyRequests && pageLimited.headers[.contentType]?.hasPrefix("text/html") == true)
        }
        expectCovered("trace", fixture)
    }

    @Test("dashboard: a login code for the bearer's token, its redemption, the pages with a session, CSRF-checked actions, logout")
    func dashboard() async throws {
        let fixture = try RouteFixture()
        let id = fixture.alertID
        try await fixture.test { api in
            #expect(try await api.call(.post, "/api/v1/dashboard/login-code").status == .unauthorized)
            let issued = try await api.call(.post, "/api/v1/dashboard/login-code", token: fixture.operator)
            let code = try issued.decode(API.LoginCode.self)
            #expect(code.path == "/dashboard/login?code=\(code.code)" && code.expiresIn == 600)

            #expect(try await api.call(.get, "/dashboard").status == .seeOther)
            #expect(try await api.call(.get, "/dashboard/login").status == .ok)
            #expect(try await api.call(.get, "/dashboard/login", "/dashboard/login?code=nope").status == .unauthorized)
            let redeemed = try await api.call(.get, "/dashboard/login", code.path)
            #expect(redeemed.status == .seeOther && redeemed.headers[.location] == "/dashboard")
            let cookie = try #require(redeemed.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let session = String(cookie.dropFirst("shennong_session=".count))
            let csrf = fixture.sessions.csrfToken(session)
            let withCookie: HTTPFields = [.cookie: cookie]

            let home = try await api.call(.get, "/dashboard", headers: withCookie)
            #expect(home.status == .ok && home.text.contains("pond-1"))
            #expect(try await api.call(.get, "/dashboard/chart", "/dashboard/chart?device=pond-1&metric=ph", headers: withCookie).status == .ok)
            #expect(try await api.call(.get, "/dashboard/chart", "/dashboard/chart?device=pond-1", headers: withCookie).status == .badRequest)
            #expect(try await api.call(.get, "/dashboard/chart", "/dashboard/chart?device=nope&metric=ph", headers: withCookie).status == .notFound)
            #expect(try await api.call(.get, "/dashboard/chart", "/dashboard/chart?device=pond-1&metric=ph").status == .seeOther)

            let form = "application/x-www-form-urlencoded"
            let path = "/dashboard/alerts/\(id)/ack"
            #expect(try await api.call(.post, "/dashboard/alerts/{id}/ack", path, raw: "csrf=\(csrf)", contentType: form).status == .unauthorized)
            #expect(try await api.call(.post, "/dashboard/alerts/{id}/ack", path, raw: "note=x", contentType: form, headers: withCookie).status == .forbidden)
            #expect(try await api.call(.post, "/dashboard/alerts/{id}/ack", "/dashboard/alerts/x/ack", raw: "csrf=\(csrf)", contentType: form, headers: withCookie).status == .badRequest)
            let acked = try await api.call(.post, "/dashboard/alerts/{id}/ack", path, raw: "csrf=\(csrf)&note=%E5%B7%B2%E5%A4%84%E7%BD%AE", contentType: form, headers: withCookie)
            #expect(acked.status == .seeOther)
            #expect(try await api.call(.post, "/dashboard/alerts/{id}/ack", path, raw: "csrf=\(csrf)", contentType: form, headers: withCookie).status == .conflict)
            let resolved = try await api.call(.post, "/dashboard/alerts/{id}/resolve", "/dashboard/alerts/\(id)/resolve", raw: "csrf=\(csrf)", contentType: form, headers: withCookie)
            #expect(resolved.status == .seeOther)
            #expect(try await api.call(.post, "/dashboard/alerts/{id}/resolve", "/dashboard/alerts/999/resolve", raw: "csrf=\(csrf)", contentType: form, headers: withCookie).status == .notFound)

            #expect(try await api.call(.post, "/dashboard/logout", raw: "csrf=wrong", contentType: form, headers: withCookie).status == .forbidden)
            #expect(try await api.call(.post, "/dashboard/logout", raw: "csrf=\(csrf)", contentType: form, headers: withCookie).status == .seeOther)
            #expect(try await api.call(.get, "/dashboard", headers: withCookie).status == .seeOther, "the session ended")

            let login = try await api.call(.post, "/dashboard/login", raw: "token=\(fixture.viewer)", contentType: form)
            #expect(login.status == .seeOther && login.headers[.setCookie] != nil)
            #expect(try await api.call(.post, "/dashboard/login", raw: "token=snk_nope", contentType: form).status == .unauthorized)
            let crossSite = try await api.call(
                .post, "/dashboard/login", raw: "token=\(fixture.viewer)", contentType: form, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
        }
        expectCovered("dashboard", fixture)
    }
}
