import Foundation
import ShennongCommands
import ShennongAlerts
import ShennongCore
import ShennongPostgres
import ShennongStore
import ShennongTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `shennong db copy --to postgres://…`: a county's SQLite database with every kind of row,
/// copied by the CLI into a real PostgreSQL, read back through the doors, and served.
@Suite("db copy into PostgreSQL")
struct DatabaseCopyTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_763_683_200_000  // 2025-11-21T00:00:00Z

    /// A SQLite database holding devices with their life, readings (some compacted, some whose
    /// raw rows retention dropped while their rollups stay), rejects, tokens, rule state, alerts
    /// with transitions, a trace chain with codes and scans. Returns its path and a token secret.
    static func county() throws -> (path: String, secret: String, alert: Int64) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString).db").path
        var options = StoreOptions()
        options.retention.raw = 2 * day
        let store = try Store(path: path, durable: false, options: options)
        defer { try? store.close() }
        var batch = IngestBatch()
        batch.newDevices = [
            Device(id: "pond-1", profile: "generic", domain: .water, site: "清新鱼塘", createdAt: 5, attributes: ["depth_m": 1.8]),
            Device(id: "aws-1", profile: "generic", domain: .weather, createdAt: 6),
        ]
        for i in 0..<(4 * 48) {
            let t = t0 + Int64(i) * 1_800_000
            batch.readings.append(Reading(device: "pond-1", metric: "dissolved_oxygen", timestamp: t, value: 5 + Double(i % 13) / 10))
            batch.readings.append(Reading(device: "aws-1", metric: "rainfall", timestamp: t, value: Double(i % 5) * 0.2))
        }
        batch.markSeen("pond-1", at: t0 + 4 * day)
        batch.presence["aws-1"] = Presence(state: "offline", at: t0 + 3 * day)
        batch.rejects = [
            RejectRecord(
                receivedAt: t0, topic: "agri/pond-1/telemetry", device: "pond-1", payload: Array("{\"ph\": NaN}".utf8),
                code: .nonFinite, reason: "ph is not a number", field: "ph")
        ]
        try store.commit(batch)
        let now = t0 + 4 * day + 3_600_000
        try store.compact(now: now, shouldContinue: { true })
        try store.retention(now: now, dryRun: false)  // the first two days' raw rows go; rollups stay
        let secret = try store.createToken(name: "县农业农村局", role: .operator)
        // A scoped token, and a revoked one: both must arrive as they are (a revoked token never comes back to life).
        _ = try store.createToken(name: "水产站", role: .viewer, scope: try AccessScope.parse("domain=water,area=4418"))
        let revoked = try store.createToken(name: "已离职", role: .admin)
        try store.revokeToken(id: try #require(try store.authenticate(token: revoked)).id)
        _ = try store.applyRuleEvaluation(
            states: [RuleStateRecord(rule: "do-low", device: "pond-1", level: .yellow, watermark: 9, state: "{}", updatedAt: 9)],
            changes: [
                AlertLevelChange(
                    rule: "do-low", device: "pond-1", domain: "water", metric: "dissolved_oxygen", from: nil, to: .yellow,
                    value: 2.9, threshold: 3, at: t0 + 60_000, late: false, title: "溶解氧偏低", message: "3 mg/L 以下")
            ], now: t0 + 60_000)
        let alert = try #require(try store.alerts().first).id
        _ = try store.acknowledgeAlert(id: alert, by: "王五", note: "已开增氧机", now: t0 + 120_000)
        for (i, kind) in ["batch", "codes"].enumerated() {
            try store.appendTraceRecord(chain: "batch:B1", uniqueSubject: nil, codes: kind == "codes" ? ["K1", "K2"] : []) {
                seq, prev in
                TraceRecordRow(
                    chain: "batch:B1", seq: seq, kind: kind, subject: "B1", batch: "B1", item: nil, payload: "{\"i\":\(i)}",
                    contentHash: String(repeating: "c", count: 64), prevHash: prev, hash: String(format: "%064d", seq + 7),
                    recordedAt: 1_000 + seq)
            }
        }
        try store.saveTraceScans([TraceScanRow(code: "K1", count: 4, firstAt: 10, lastAt: 40, networks: ["10.1.0.0/24"])])
        // A device command (自动控制) with its transitions.
        let command = try CommandLifecycle.issue(
            CommandRequest(device: "pond-1", name: "aerator_on", by: "rule:do-low", origin: CommandOrigin(rule: "do-low", alert: alert, trigger: "yellow")),
            device: Device(id: "pond-1", profile: "generic", domain: .water, createdAt: 5),
            spec: CommandSpec(name: "aerator_on", description: "开启增氧机", state: CommandStateSpec(metric: "aerator_on", value: 1)),
            id: "c-copy-1", now: t0 + 130_000)
        _ = try store.insertCommand(command)
        _ = try store.applyCommandEvent(id: "c-copy-1", event: .dispatch, by: "system", now: t0 + 131_000)
        return (path, secret, alert)
    }

    @Test("every kind of row copied; counts and per-series checksums equal; a second copy refused; the copy served")
    func copyAndServe() async throws {
        let (path, secret, alertID) = try Self.county()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let url = try TestPostgres.shared().createDatabase()
        let copied = try ShennongBinary.run(["db", "copy", "--db", path, "--to", url, "--format", "json"])
        try #require(copied.status == 0, "\(copied.output)")
        let json = copied.output.firstIndex(of: "[").map { String(copied.output[$0...]) } ?? ""
        let rows = try #require(
            (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]], "db copy printed: \(copied.output)")
        var counts: [String: (Int?, Int?)] = [:]
        for row in rows {
            counts[row["item"] as? String ?? ""] = (row["source"] as? Int, row["copy"] as? Int)
        }
        #expect(counts["readings"]?.0 == counts["readings"]?.1 && (counts["readings"]?.0 ?? 0) > 0)
        #expect(counts["series_checksums_equal"]?.0 == 2)
        for item in [
            "devices", "series", "rejects", "tokens", "alerts", "alert_transitions", "rule_states", "trace_records", "commands",
            "command_transitions",
        ] {
            #expect(counts[item] != nil && counts[item]?.0 == counts[item]?.1, "\(item)")
        }

        // Read back through the doors, against the source.
        let source = try Store(path: path)
        let copy = try PostgresStore(url: url)
        #expect(try copy.deviceRecords() == source.deviceRecords())
        for (device, metric) in [("pond-1", "dissolved_oxygen"), ("aws-1", "rainfall")] {
            #expect(try copy.readings(device: device, metric: metric, from: 0, to: .max) == source.readings(device: device, metric: metric, from: 0, to: .max))
            // Hourly and daily over the whole span, including the days whose raw rows are gone.
            for every in [3_600_000, Self.day] as [Int64] {
                let a = try source.aggregates(device: device, metric: metric, from: Self.t0, to: Self.t0 + 4 * Self.day, every: every)
                #expect(!a.isEmpty && a.first?.start == Self.t0)
                #expect(try copy.aggregates(device: device, metric: metric, from: Self.t0, to: Self.t0 + 4 * Self.day, every: every) == a)
            }
        }
        #expect(try copy.rejects().map(\.payload) == source.rejects().map(\.payload))
        #expect(try copy.authenticate(token: secret)?.name == "县农业农村局")
        #expect(try copy.tokens().map(\.scope) == source.tokens().map(\.scope))
        #expect(try copy.tokens().map(\.revokedAt) == source.tokens().map(\.revokedAt))
        #expect(try copy.tokens().contains { $0.name == "已离职" && $0.isRevoked })
        #expect(try copy.alert(id: alertID) == source.alert(id: alertID))
        #expect(try copy.alertTransitions(id: alertID) == source.alertTransitions(id: alertID))
        #expect(try copy.ruleStates() == source.ruleStates())
        #expect(try copy.traceRecords(chain: "batch:B1") == source.traceRecords(chain: "batch:B1"))
        #expect(try copy.traceCodes(batch: "B1", issueSeq: 1) == ["K1", "K2"])
        #expect(try copy.traceScan(code: "K1")?.count == 4)
        // New alerts in the copy take ids after the copied ones.
        let next = try copy.applyRuleEvaluation(
            states: [],
            changes: [
                AlertLevelChange(
                    rule: "rain", device: "aws-1", domain: "weather", metric: "rainfall", from: nil, to: .blue, value: 1,
                    threshold: 1, at: Self.t0, late: false, title: "t", message: "m")
            ])
        #expect((next.first?.alert.id ?? 0) > alertID)
        try copy.close()
        try source.close()

        // Refused the second time: the destination holds data now.
        let again = try ShennongBinary.run(["db", "copy", "--db", path, "--to", url])
        #expect(again.status != 0 && again.output.contains("already holds data"))

        // Served: `shennong serve` on the copy answers the copied token with the copied readings.
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port, databaseYAML: "url: \(url)")
        try await server.start(timeout: 90)  // a whole suite runs beside it
        defer { _ = server.terminate() }
        var request = URLRequest(url: URL(string: server.baseURL + "/api/v1/readings/latest?device=pond-1")!)
        request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let body = String(decoding: data, as: UTF8.self)
        #expect(body.contains("dissolved_oxygen"), "\(body)")
        #expect(server.log().contains("postgres://shennong@127.0.0.1"))
    }
}
