import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Mustache
import NIOCore
import ShennongAPI
import ShennongAlerts
import ShennongCore
import ShennongIngest
import ShennongRules
import ShennongStore
import ShennongTestSupport
import ShennongTrace
import Testing

@testable import ShennongHTTP

/// The whole HTTP application in process, on a real store in a temporary SQLite file: the
/// staff API, alerts and rules (the preset rules of Config/rules), traceability (pages and
/// staff routes) and the dashboard, with three tokens and a little of everything stored.
final class RouteFixture: Sendable {
    static let t0: Int64 = 1_763_700_000_000
    let directory: URL
    let store: Store
    let trace: Traceability
    let sessions: DashboardSessions
    let viewer: String
    let `operator`: String
    let admin: String
    /// The id of an open orange alert of `pond-do-low` on `pond-1`.
    let alertID: Int64
    let log = ExchangeLog()
    /// Device commands (CommandRouteTests): profiles with commands, no MQTT.
    let commands: CommandCenter

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-routes-\(UUID().uuidString)")
        store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false)
        // Login codes last 10 minutes here: the parallel suite on 2 cores can slow one test past
        // the default minute between issuing a code and redeeming it.
        sessions = DashboardSessions(store: store, codeLifetime: 600_000)
        viewer = try store.createToken(name: "grid-officer", role: .viewer)
        `operator` = try store.createToken(name: "duty-officer", role: .operator)
        admin = try store.createToken(name: "admin", role: .admin)
        trace = try Traceability(
            store: store, secret: Array(repeating: 7, count: 32), signingKey: Array(repeating: 9, count: 32),
            settings: TraceSettings(), logger: Logger(label: "test"))

        let t0 = Self.t0
        try store.addDevice(
            Device(
                id: "pond-1", profile: "generic", domain: .water, site: "东陂村", name: "鱼塘 1", latitude: 24.78,
                longitude: 112.38, areaCode: "441882", owner: "陈伟", createdAt: t0 - 86_400_000,
                attributes: ["depth_m": 2]))
        var batch = IngestBatch()
        for i in 0..<6 {
            batch.readings.append(Reading(device: "pond-1", metric: "dissolved_oxygen", timestamp: t0 + Int64(i) * 600_000, value: 5.5 - Double(i)))
            batch.readings.append(Reading(device: "pond-1", metric: "ph", timestamp: t0 + Int64(i) * 600_000, value: 7.2))
        }
        batch.markSeen("pond-1", at: t0 + 3_000_000)
        batch.rejects.append(
            RejectRecord(
                receivedAt: t0, topic: "agri/pond-1/telemetry", device: "pond-1", payload: Array("{not json".utf8),
                code: .malformedJSON, reason: "not JSON"))
        try store.commit(batch)
        alertID = try Self.raiseAlert(store, at: t0 + 3_000_000)
        commands = CommandCenter(store: store, profiles: try CommandRouteTests.profiles(), logger: Logger(label: "test"))
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Raises an orange `pond-do-low` alert on `pond-1` as an evaluation would, with the rule's
    /// state (a yellow timer pending); returns its id.
    static func raiseAlert(_ store: Store, at time: Int64) throws -> Int64 {
        let state = RuleStateRecord(
            rule: "pond-do-low", device: "pond-1", level: .orange, watermark: time,
            state: #"{"levels":[{"a":false},{"a":false,"p":\#(time - 60_000)},{"a":true},{"a":false}],"w":[]}"#, updatedAt: time)
        let change = AlertLevelChange(
            rule: "pond-do-low", device: "pond-1", domain: "water", metric: "dissolved_oxygen", from: nil, to: .orange, value: 2.5,
            threshold: 3, at: time, late: false, title: "池塘缺氧 橙色预警 — pond-1", message: "溶解氧 2.5 mg/L < 3 mg/L")
        let notices = try store.applyRuleEvaluation(states: [state], changes: [change], now: time)
        guard let id = notices.first?.alert.id else { throw Contract.Failure(description: "no alert was raised") }
        return id
    }

    static let rules: RuleCatalog = {
        let loaded = RuleLoader.load(directory: ShennongBinary.repositoryRoot.appendingPathComponent("Config/rules").path)
        return RuleCatalog(rules: loaded.rules, errors: loaded.errors)
    }()

    /// The application as `shennong serve` builds it (rate limit as configured by default).
    func application(
        rateLimit: PublicRateLimit = PublicRateLimit(), loginThrottle: LoginThrottle = LoginThrottle(limit: LoginRateLimit())
    ) throws -> some ApplicationProtocol {
        let root = ShennongBinary.repositoryRoot
        let profiles: [String: DeviceProfile] = [DeviceProfile.generic.name: DeviceProfile.generic]
        let pipeline = IngestPipeline(
            store: store, profiles: profiles, topics: TopicScheme(prefix: "agri"), options: IngestOptions(), logger: Logger(label: "test"))
        let pages = DashboardPages(
            store: store, sessions: sessions,
            templates: try DashboardPages.loadTemplates(directory: root.appendingPathComponent("dashboards/staff").path),
            profiles: { profiles }, notify: { _ in }, offsetMinutes: 480, secureCookie: false, loginThrottle: loginThrottle,
            clock: .system, logger: Logger(label: "test"))
        let routes: [any RouteGroup] = [
            MapAPI(store: store, profiles: { profiles }),
            DashboardMap(pages: pages),
            AlertsAPI(store: store, catalog: Self.rules, cap: CAPOptions(), notify: { _ in }),
            CommandsAPI(center: commands, tokens: store),
            DashboardControls(
                pages: DashboardPages(
                    store: store, sessions: sessions,
                    templates: try DashboardPages.loadTemplates(directory: root.appendingPathComponent("dashboards/staff").path),
                    profiles: { profiles }, notify: { _ in }, offsetMinutes: 480, secureCookie: false, loginThrottle: loginThrottle,
                    clock: .system, logger: Logger(label: "test")),
                center: commands, automation: nil),
            TraceAPI(trace: trace, store: store),
            TracePages(trace: trace, templates: try TracePages.loadTemplates(directory: root.appendingPathComponent("dashboards/trace").path)),
            DashboardPages(
                store: store, sessions: sessions,
                templates: try DashboardPages.loadTemplates(directory: root.appendingPathComponent("dashboards/staff").path),
                profiles: { profiles }, notify: { _ in }, offsetMinutes: 480, secureCookie: false, loginThrottle: loginThrottle,
                clock: .system, logger: Logger(label: "test")),
        ]
        return ShennongHTTPServer.makeApplication(
            host: "127.0.0.1", port: 0, store: store, registry: nil, profiles: { profiles },
            health: { HealthReport(mqttConnected: true, details: ["broker": "127.0.0.1:1883"]) }, routes: routes,
            rateLimit: rateLimit, replayRejects: { [store] request in try pipeline.replayRejects(request, from: store) },
            logger: Logger(label: "test"))
    }

    /// Runs `body` with a client of the application in process; at the end every exchange it
    /// made is checked against openapi.yaml.
    func test(
        rateLimit: PublicRateLimit = PublicRateLimit(), loginThrottle: LoginThrottle = LoginThrottle(limit: LoginRateLimit()),
        _ body: @escaping @Sendable (Caller) async throws -> Void
    ) async throws {
        let log = self.log
        try await application(rateLimit: rateLimit, loginThrottle: loginThrottle).test(.router) { client in
            try await body(Caller(client: client, log: log))
        }
        let problems = try Contract.violations(log.all)
        #expect(problems.isEmpty, "answers that break openapi.yaml:\n\(problems.joined(separator: "\n"))")
    }
}

/// A test client that records what it asks and what it gets.
struct Caller: Sendable {
    let client: any TestClientProtocol
    let log: ExchangeLog

    /// The answer of a request.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as `type`, which must also encode back to the same JSON (no key of the answer
        /// is lost on the way through the contract's type).
        func decode<T: Codable>(_ type: T.Type, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
            let value = try APICoding.decode(T.self, from: Data(body))
            let again = try APICoding.encode(value)
            let (encoded, answered) = (try JSONParser.parse(Array(again)), try JSONParser.parse(body))
            #expect(
                encoded == answered,
                "\(T.self) does not encode back to the answer:\n\(String(decoding: again, as: UTF8.self))\n\(text)",
                sourceLocation: sourceLocation)
            return value
        }

        /// The error message of a JSON error answer.
        var message: String {
            (try? APICoding.decode(API.ErrorBody.self, from: Data(body)))?.error.message ?? ""
        }
    }

    /// `method path` of the spec's `template`; the token (if any) as bearer; a JSON body encoded
    /// with the API's encoder, or raw bytes with `contentType`.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ template: String, _ path: String? = nil, token: String? = nil,
        json: (any Encodable & Sendable)? = nil, raw: String? = nil, contentType: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try APICoding.encode(json))
            headers[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
            headers[.contentType] = contentType ?? "application/json"
        }
        let response = try await client.execute(uri: path ?? template, method: method, headers: headers, body: body)
        let bytes = Array(response.body.readableBytesView)
        log.append(
            Exchange(
                method: method.rawValue, template: template, status: response.status.code,
                contentType: response.headers[.contentType], body: String(decoding: bytes, as: UTF8.self)))
        return Answer(status: response.status, headers: response.headers, body: bytes)
    }
}
