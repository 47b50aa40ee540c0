import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MosquittoClient
import ShennongProcess
import ShennongTestSupport
import Testing

/// The closed loop of 自动控制 end to end, with the real server, a real mosquitto and the
/// simulator's `aerator` scenario (or a test device that switches as told): rules raise, act,
/// the ponds obey (or not), the process confirms, alerts clear or escalate; interlocks hold.
///
/// The simulated loop takes about 30 s of wall time: the ponds must sag below the threshold,
/// the aerator must run its minimum time, the alert must stay clear for its clear delay, and the
/// ignoring pond's reply must time out and its alert escalate (the shortest times that keep the
/// order of the steps deterministic).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AeratorIntegrationTests {
    /// Profiles: the repository's, with the pond controller's command times shortened.
    static func profiles() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let devices = ShennongBinary.repositoryRoot.appendingPathComponent("devices")
        for file in try FileManager.default.contentsOfDirectory(atPath: devices.path) where file.hasSuffix(".yaml") {
            var text = try String(contentsOf: devices.appendingPathComponent(file), encoding: .utf8)
            if file == "pond-oxygen-probe.yaml" {
                text = text.replacingOccurrences(of: "reply_within: 60", with: "reply_within: 5")
                    .replacingOccurrences(of: "confirm_within: 180", with: "confirm_within: 8")
                    .replacingOccurrences(of: "rises_within: 1800", with: "rises_within: 3")
            }
            try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    static func rules(_ interlock: String, clearAfter: String = "3s") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
            rules:
              - id: pond-aerator
                name: 池塘缺氧 Pond DO low (test)
                category: Env
                metric: dissolved_oxygen
                select: { profiles: [pond-oxygen-probe] }
                condition: { kind: threshold }
                levels:
                  orange: { below: 3 }
                  red: { below: 2 }
                clear_margin: 0.3
                clear_after: \(clearAfter)
                actions:
                  orange: [aerator_on]
                  red: [aerator_on]
                  clear: [aerator_off]
                  interlock: { \(interlock) }
            """.write(to: dir.appendingPathComponent("pond.yaml"), atomically: true, encoding: .utf8)
        return dir.path
    }

    static func commands(_ server: ServerProcess, _ query: String) async throws -> [[String: Any]] {
        try await server.get("/api/v1/commands?\(query)").json["commands"] as? [[String: Any]] ?? []
    }

    static func alerts(_ server: ServerProcess, _ query: String) async throws -> [[String: Any]] {
        try await server.get("/api/v1/alerts?\(query)").json["alerts"] as? [[String: Any]] ?? []
    }

    @Test("DO sags → orange → automatic aerator_on → the pond replies and reports aerator_on=1 → DO recovers → the alert resolves → aerator_off after the minimum run; the ignoring pond times out → red 设备未响应, escalated")
    func closedLoop() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                commands:
                  interval: 200ms
                rules:
                  directory: \(try Self.rules("min_on: 8s, max_starts_per_hour: 3, manual_hold: 1h"))
                  check_interval: 1s
                  escalation:
                    escalate_after: 2s
                    tiers:
                      - { name: village, contacts: [{ name: 村网格员 }] }
                      - { name: town, contacts: [{ name: 镇值班员 }] }
                simulator:
                  enabled: true
                  scenario: aerator
                  rate: 8
                """, profilesDir: try Self.profiles())
        try await server.start()
        let obeying = "sim-aerator-pond-01"
        let ignoring = "sim-aerator-pond-02"

        // Orange on the obeying pond, and the rule's aerator_on for it, acknowledged and confirmed.
        var on: [String: Any] = [:]
        let confirmed = await eventually(timeout: 40, interval: .milliseconds(250)) {
            let list = (try? await Self.commands(server, "device=\(obeying)")) ?? []
            on = list.last { $0["name"] as? String == "aerator_on" } ?? [:]
            return on["state"] as? String == "acknowledged" && on["confirmed_at"] != nil
        }
        #expect(confirmed, "\(on)\n\(server.log().suffix(4000))")
        #expect(on["automatic"] as? Bool == true && on["rule"] as? String == "pond-aerator" && on["trigger"] as? String == "orange")
        #expect(on["issued_by"] as? String == "rule:pond-aerator")
        let alertID = try #require((on["alert"] as? NSNumber)?.int64Value)

        // DO recovers: the alert resolves by itself; then aerator_off, not before 8 s after the start.
        var off: [String: Any] = [:]
        let stopped = await eventually(timeout: 40, interval: .milliseconds(250)) {
            let list = (try? await Self.commands(server, "device=\(obeying)&alert=\(alertID)")) ?? []
            off = list.first { $0["name"] as? String == "aerator_off" } ?? [:]
            return off["state"] as? String == "acknowledged"
        }
        #expect(stopped, "\(off)\n\(server.log().suffix(4000))")
        #expect(off["trigger"] as? String == "clear" && off["not_before"] != nil)
        let detail = try await server.get("/api/v1/alerts/\(alertID)").json
        let kinds = (detail["transitions"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
        #expect(kinds.first == "raised" && kinds.contains("resolved"), "\(kinds)")
        let resolved = (detail["transitions"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "resolved" }
        #expect(resolved?["by"] as? String == "system")
        // Each step on record: the start was sent at least 8 s before the stop.
        let onDetail = try await server.get("/api/v1/commands/\(on["id"] as? String ?? "")").json
        let offDetail = try await server.get("/api/v1/commands/\(off["id"] as? String ?? "")").json
        func sending(_ d: [String: Any]) -> Date? {
            ((d["command"] as? [String: Any])?["sending_at"] as? String).flatMap { ISO8601DateFormatter.withFraction.date(from: $0) }
        }
        if let a = sending(onDetail), let b = sending(offDetail) { #expect(b.timeIntervalSince(a) >= 8) } else { Issue.record("no sending times") }
        // The simulated pond answers at once: its reply may be recorded before the broker's PUBACK
        // (then there is no separate `sent`).
        let steps = (onDetail["transitions"] as? [[String: Any]] ?? []).map { $0["to"] as? String ?? "" }
        #expect(steps.filter { $0 != "sent" } == ["queued", "sending", "acknowledged", "acknowledged"], "\(steps)")

        // The CLI lists each step; `alerts show` lists the commands the alert caused.
        let list = try server.cli(["devices", "commands", obeying])
        #expect(list.output.contains("aerator_on") && list.output.contains("aerator_off") && list.output.contains("rule:pond-aerator"), "\(list.output)")
        let shown = try server.cli(["alerts", "show", "\(alertID)"])
        #expect(shown.output.contains("aerator_on") && shown.output.contains("clear"), "\(shown.output)")

        // The ignoring pond: its aerator_on timed out; the red 设备未响应 alert is raised and escalated.
        let ignored = try await Self.commands(server, "device=\(ignoring)")
        #expect(ignored.contains { $0["name"] as? String == "aerator_on" && $0["state"] as? String == "timed_out" }, "\(ignored)")
        var red: [String: Any] = [:]
        let escalated = await eventually(timeout: 20, interval: .milliseconds(250)) {
            red = (try? await Self.alerts(server, "device=\(ignoring)&rule=actuator-unresponsive"))?.first ?? [:]
            return (red["contact_tier"] as? Int ?? 0) >= 1
        }
        #expect(escalated, "\(red)")
        #expect(red["level"] as? String == "red" && (red["title"] as? String)?.contains("设备未响应") == true)
        // The obeying pond has no such alert.
        #expect(try await Self.alerts(server, "device=\(obeying)&rule=actuator-unresponsive").isEmpty)
    }

    @Test("serve --aerator-ponds (make demo): the two ponds are registered with the pond controller profile beside the steady simulator and report their aerators")
    func demoPonds() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  enabled: false
                simulator:
                  enabled: true
                  devices: 2
                  rate: 5
                  aerator_ponds: true
                """)
        try await server.start()
        for id in ["sim-aerator-pond-01", "sim-aerator-pond-02"] {
            let (status, device) = try await server.get("/api/v1/devices/\(id)")
            #expect(status == 200 && device["profile"] as? String == "pond-oxygen-probe", "\(device)")
        }
        // The hour of history arrives at once: aerator_on and dissolved oxygen of both ponds.
        let reported = await eventually(timeout: 20) {
            let latest = (try? await server.get("/api/v1/readings/latest?domain=water").json["latest"] as? [[String: Any]]) ?? []
            let ponds = latest.filter { ($0["device"] as? String ?? "").hasPrefix("sim-aerator-pond-") }
            return Set(ponds.compactMap { $0["metric"] as? String }).isSuperset(of: ["aerator_on", "dissolved_oxygen"])
                && Set(ponds.compactMap { $0["device"] as? String }).count == 2
        }
        #expect(reported, "\(server.log().suffix(3000))")
        // The steady simulator runs too.
        let devices = (try await server.get("/api/v1/devices").json["devices"] as? [[String: Any]]) ?? []
        #expect(devices.count >= 4, "\(devices.map { $0["id"] ?? "" })")
    }

    @Test("interlock: DO oscillating around the threshold starts the aerator at most max_starts_per_hour times; a manual command holds automation off")
    func interlocks() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                commands:
                  interval: 100ms
                rules:
                  directory: \(try Self.rules("max_starts_per_hour: 2, manual_hold: 1h", clearAfter: "0s"))
                """, profilesDir: try Self.profiles())
        try await server.start()
        for id in ["pond-osc", "pond-held"] {
            let added = try server.cli(["devices", "add", id, "--profile", "pond-oxygen-probe", "--domain", "water"])
            #expect(added.status == 0, "\(added.output)")
        }
        let device = try CommandIntegrationTests.TestDevice("pond-osc", port: broker.port)
        try await device.ready()
        try device.presence(true)
        // The device does as it is told, at once: reply ok and report its aerator.
        var answered: Set<String> = []
        func obey() throws {
            for command in device.commands where !answered.contains(command["id"] as? String ?? "") {
                guard let id = command["id"] as? String, id != "probe", let name = command["name"] as? String else { continue }
                answered.insert(id)
                try device.reply(id, "ok")
                try device.telemetry(#"{"aerator": \#(name == "aerator_on")}"#)
            }
        }
        // Six swings below 3 and back above 3.3 mg/L.
        for _ in 0..<6 {
            try device.telemetry(#"{"do": 2.6}"#)
            _ = await eventually(timeout: 1) { try? obey(); return false }
            try device.telemetry(#"{"do": 4.0}"#)
            _ = await eventually(timeout: 1) { try? obey(); return false }
        }
        let starts = try await Self.commands(server, "device=pond-osc").filter { $0["name"] as? String == "aerator_on" }
        #expect(starts.count == 2, "\(starts.map { ($0["id"] ?? "", $0["state"] ?? "") })")
        let alerts = try await Self.alerts(server, "device=pond-osc&rule=pond-aerator")
        #expect(alerts.count >= 4, "the swings raised and cleared the alert each time: \(alerts.count)")

        // A person's command to pond-held holds automation off it.
        let manual = try server.cli(["devices", "command", "pond-held", "aerator_off", "--expires", "1m"])
        #expect(manual.status == 0, "\(manual.output)")
        let held = try CommandIntegrationTests.TestDevice("pond-held", port: broker.port)
        try held.telemetry(#"{"do": 2.5}"#)
        let raised = await eventually(timeout: 10) { ((try? await Self.alerts(server, "device=pond-held&rule=pond-aerator")) ?? []).count == 1 }
        #expect(raised)
        try await Task.sleep(for: .milliseconds(800))
        let heldCommands = try await Self.commands(server, "device=pond-held")
        #expect(heldCommands.count == 1 && heldCommands.first?["automatic"] as? Bool == false, "\(heldCommands)")
        #expect(server.log().contains("manual override hold"), "the hold is logged")

        // The dashboard's controls show the hold (a session opened with the token form; the 303 is not followed).
        var login = URLRequest(url: URL(string: server.baseURL + "/dashboard/login")!)
        login.httpMethod = "POST"
        login.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        login.httpBody = Data("token=\(server.token)".utf8)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieStorage = nil
        let session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        let (_, loggedIn) = try await session.data(for: login)
        let cookie = try #require(
            (loggedIn as? HTTPURLResponse)?.value(forHTTPHeaderField: "Set-Cookie")?.split(separator: ";").first.map(String.init),
            "\((loggedIn as? HTTPURLResponse)?.statusCode ?? 0) \((loggedIn as? HTTPURLResponse)?.allHeaderFields ?? [:])")
        var controls = URLRequest(url: URL(string: server.baseURL + "/dashboard/controls")!)
        controls.setValue(cookie, forHTTPHeaderField: "Cookie")
        let (body, _) = try await session.data(for: controls)
        let page = String(decoding: body, as: UTF8.self)
        #expect(page.contains("pond-held") && page.contains("手动控制中"), "\(page.prefix(3000))")
        #expect(page.contains("开启增氧机"))
    }
}

extension ISO8601DateFormatter {
    /// RFC 3339 with milliseconds.
    static var withFraction: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}

/// Leaves redirects to the test (a login's 303 carries the session cookie).
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
