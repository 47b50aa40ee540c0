import Foundation
import ShennongCore
import ShennongSimulator
import ShennongTestSupport
import Testing

/// The scenarios played into a real server with the preset rules (Config/rules): each
/// raises the warning its story is about.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ScenarioIntegrationTests {
    static var presets: String { ShennongBinary.repositoryRoot.appendingPathComponent("Config/rules").path }

    /// A server with the presets; `lateAfter` long enough for a time-compressed scenario's
    /// alerts to count as live (weeks of readings published in seconds).
    static func server(_ broker: TestBroker, lateAfter: String) async throws -> ServerProcess {
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(presets)
                  late_after: \(lateAfter)
                  check_interval: 1s
                """)
        try await server.start()
        return server
    }

    static func play(_ scenario: Scenario, _ broker: TestBroker, seed: Int = 7) throws {
        let run = try ShennongBinary.run([
            "simulate", "--scenario", scenario.rawValue, "--rate", "500", "--port", "\(broker.port)", "--seed", "\(seed)",
        ])
        #expect(run.status == 0, "\(run.output)")
        let count = scenario.messages(seed: UInt64(seed), end: 0).count
        #expect(run.output.contains("published \(count) messages"), "\(run.output)")
    }

    /// The alert of `rule` on `device` once `done` holds for it (or the last one seen).
    static func alert(
        _ server: ServerProcess, rule: String, device: String, timeout: TimeInterval = 30, until done: ([String: Any]) -> Bool
    ) async -> [String: Any] {
        var alert: [String: Any] = [:]
        _ = await eventually(timeout: timeout) {
            let list = (try? await server.get("/api/v1/alerts?device=\(device)&rule=\(rule)").json["alerts"]) as? [[String: Any]]
            alert = list?.first ?? [:]
            return done(alert)
        }
        return alert
    }

    static func transitions(_ server: ServerProcess, _ alert: [String: Any]) async throws -> [[String: Any]] {
        let id = (alert["id"] as? NSNumber)?.int64Value ?? 0
        return try await server.get("/api/v1/alerts/\(id)").json["transitions"] as? [[String: Any]] ?? []
    }

    @Test("drought: the soil-drought preset (GB/T 32136) climbs blue, yellow, orange, red on sim-drought-001")
    func drought() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try await Self.server(broker, lateAfter: "60d")
        try Self.play(.drought, broker)
        let alert = await Self.alert(server, rule: "soil-drought", device: "sim-drought-001") { $0["level"] as? String == "red" }
        #expect(alert["level"] as? String == "red", "\(alert)\n\(server.log().suffix(2000))")
        #expect(alert["late"] as? Bool == false)
        let steps = try await Self.transitions(server, alert).map { $0["to_level"] as? String ?? "" }
        #expect(steps == ["blue", "yellow", "orange", "red"])
        // No waterlogging, no stuck sensor on the way.
        let others = try await server.get("/api/v1/alerts?device=sim-drought-001").json["alerts"] as? [[String: Any]] ?? []
        #expect(others.map { $0["rule"] as? String ?? "" } == ["soil-drought"])
        #expect(server.terminate() == 0)
    }

    @Test("fire: fire-danger rises on the weather station; the fire-watch node's flame, smoke and CO alarms are red")
    func fire() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try await Self.server(broker, lateAfter: "30d")
        try Self.play(.fire, broker)
        for rule in ["fire-flame", "fire-smoke", "fire-co"] {
            let alert = await Self.alert(server, rule: rule, device: "sim-firewatch-001") { $0["level"] as? String == "red" }
            #expect(alert["level"] as? String == "red", "\(rule): \(alert)\n\(server.log().suffix(1500))")
            #expect(alert["status"] as? String == "open")
        }
        // The weather built up to it: the LY/T 1172 danger index raised a warning on the station.
        let danger = await Self.alert(server, rule: "fire-danger", device: "sim-aws-fire") { !$0.isEmpty }
        let level = danger["peak_level"] as? String ?? danger["level"] as? String ?? "none"
        #expect(["yellow", "orange", "red"].contains(level), "\(danger)")
        #expect(server.terminate() == 0)
    }

    @Test("silent: the device's offline last will raises the device-silence preset (yellow) at once")
    func silent() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try await Self.server(broker, lateAfter: "12h")
        try Self.play(.silent, broker)
        let alert = await Self.alert(server, rule: "device-silence", device: "sim-silent-001") { $0["level"] as? String == "yellow" }
        #expect(alert["level"] as? String == "yellow", "\(alert)\n\(server.log().suffix(1500))")
        let device = try await server.get("/api/v1/devices/sim-silent-001").json
        #expect(device["presence"] as? String == "offline")
        let readings = try await server.get("/api/v1/readings?device=sim-silent-001&metric=dissolved_oxygen&from=-2h&to=now")
            .json["readings"] as? [Any]
        #expect(readings?.count == 60)
        #expect(server.terminate() == 0)
    }

    @Test("backfill: the DTU's flushed frames are stored with their own past times; the oxygen crash inside the outage is a late alert")
    func backfill() async throws {
        let broker = try TestBroker(persistence: false)
        // The default late_after (1 h): the crash is 2–4 h old when it arrives.
        let server = try await Self.server(broker, lateAfter: "1h")
        let add = try server.cli(["devices", "add", "sim-dtu-001", "--profile", "dtu-gateway"])
        #expect(add.status == 0, "\(add.output)")
        let started = Int64(Date().timeIntervalSince1970 * 1000)
        try Self.play(.backfill, broker)
        let stored = await eventually(timeout: 20) { ((try? server.storedReadings()) ?? 0) == 73 * 2 * 3 }
        #expect(stored, "\((try? server.storedReadings()) ?? -1) readings")
        let readings = try await server.get("/api/v1/readings?device=sim-dtu-pond-02&metric=dissolved_oxygen&from=-7h&to=now")
            .json["readings"] as? [[String: Any]] ?? []
        #expect(readings.count == 73)
        let times = readings.compactMap { ($0["ts"] as? NSNumber)?.int64Value }
        // Their own times: 5 minutes apart over the 6 h before the flush, not the time they arrived.
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == 300_000 })
        #expect(times.first.map { started - $0 > 5 * 3_600_000 } == true, "\(times.first ?? 0) vs \(started)")
        // The child ponds were registered by the gateway with its child profile.
        let pond = try await server.get("/api/v1/devices/sim-dtu-pond-02").json
        #expect(pond["profile"] as? String == "pond-oxygen-probe" && pond["domain"] as? String == "water")

        // Below 3 mg/L (orange), below 2 (red), then back up once the aerator ran again: all of
        // it inside the outage, so every transition is late and the alert closed itself
        // (resolved) from the backfilled readings alone.
        let alert = await Self.alert(server, rule: "pond-do-low", device: "sim-dtu-pond-02") { $0["status"] as? String == "resolved" }
        #expect(alert["peak_level"] as? String == "red", "\(alert)\n\(server.log().suffix(1500))")
        #expect(alert["late"] as? Bool == true, "raised from backfilled readings: marked late, not pushed as new")
        let steps = try await Self.transitions(server, alert)
        #expect(steps.map { $0["kind"] as? String ?? "" } == ["raised", "escalated", "stepped_down", "resolved"])
        #expect(steps.map { $0["to_level"] as? String ?? "-" }.prefix(3) == ["orange", "red", "orange"])
        #expect(steps.allSatisfy { $0["late"] as? Bool == true }, "\(steps)")
        // Their times are the readings' own, hours before they arrived.
        let raisedTS = (alert["raised_ts"] as? NSNumber)?.int64Value ?? 0
        #expect(started - raisedTS > 2 * 3_600_000)
        // Pond 01 stayed above 5 mg/L: nothing.
        let calm = try await server.get("/api/v1/alerts?device=sim-dtu-pond-01").json["alerts"] as? [Any]
        #expect(calm?.isEmpty == true)
        #expect(server.terminate() == 0)
    }

    @Test("flood: serve --scenario flood raises the torrent critical rainfall in order, the creek's fast rise, then the river stages blue, yellow, orange")
    func flood() async throws {
        let broker = try TestBroker(persistence: false)
        // The shipped presets as they are: river-stage reads the gauge's stages from its attributes.
        let gauge = try #require(Scenario.flood.registrations.first { $0.id == "sim-flood-river-001" })
        // Twelve hours of readings published in a second: late_after longer than that, so
        // every alert is live.
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(Self.presets)
                  late_after: 1d
                  check_interval: 1s
                simulator:
                  enabled: true
                  rate: 500
                  seed: 7
                  scenario: flood
                """)
        try await server.start()
        // Registered with its stages before it reported.
        let device = try await server.get("/api/v1/devices/sim-flood-river-001").json
        #expect((device["attributes"] as? [String: Any])?["warning_stage"] as? Double == 12.5, "\(device)")
        #expect(device["site"] as? String == "连江青莲河段")

        // The river: blue 0.5 m below its warning stage, yellow at it, orange at its
        // guaranteed stage, each held 10 minutes; still open at the end (the river is high).
        let river = await Self.alert(server, rule: "river-stage", device: "sim-flood-river-001", timeout: 60) {
            $0["level"] as? String == "orange"
        }
        #expect(river["level"] as? String == "orange", "\(river)\n\(server.log().suffix(2000))")
        #expect(river["status"] as? String == "open" && river["late"] as? Bool == false)
        #expect((river["threshold"] as? Double) == gauge.attributes["guaranteed_stage"] && gauge.attributes["guaranteed_stage"] == 13.8)
        let riverSteps = try await Self.transitions(server, river)
        #expect(riverSteps.map { $0["kind"] as? String ?? "" } == ["raised", "escalated", "escalated"])
        #expect(riverSteps.map { $0["to_level"] as? String ?? "" } == ["blue", "yellow", "orange"])
        let riverRaised = (river["raised_ts"] as? NSNumber)?.int64Value ?? 0

        // The rain gauge: every torrent duration climbs its levels in order up to the one its
        // sum reached (1 h 52 mm, 3 h 112, 6 h 138, 24 h 146), all before the river's first.
        let levels = ["blue", "yellow", "orange", "red"]
        for (rule, peak) in [("torrent-1h", "yellow"), ("torrent-3h", "orange"), ("torrent-6h", "orange"), ("torrent-24h", "yellow")] {
            let alert = await Self.alert(server, rule: rule, device: "sim-flood-rain-001") { $0["peak_level"] as? String == peak }
            #expect(alert["peak_level"] as? String == peak, "\(rule): \(alert)")
            #expect(alert["late"] as? Bool == false)
            let steps = try await Self.transitions(server, alert).filter { ["raised", "escalated"].contains($0["kind"] as? String) }
            #expect(steps.map { $0["to_level"] as? String ?? "" } == Array(levels.prefix(through: levels.firstIndex(of: peak)!)), "\(rule)")
            #expect(((alert["raised_ts"] as? NSNumber)?.int64Value ?? .max) < riverRaised, "\(rule) before the river")
        }
        // The creek beside the rain gauge: water-level-rise up to orange (1 m/h), before the river.
        let creek = await Self.alert(server, rule: "water-level-rise", device: "sim-flood-creek-001") { $0["peak_level"] as? String == "orange" }
        #expect(creek["peak_level"] as? String == "orange", "\(creek)")
        #expect(((creek["raised_ts"] as? NSNumber)?.int64Value ?? .max) < riverRaised)
        let rejects = try await server.get("/api/v1/rejects").json["rejects"] as? [Any]
        #expect(rejects?.isEmpty == true)
        #expect(server.terminate() == 0)
    }

    @Test("serve --scenario backfill registers the gateway with its profile before playing: every child reading is stored")
    func servePlaysBackfill() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(Self.presets)
                simulator:
                  enabled: true
                  rate: 500
                  seed: 7
                  scenario: backfill
                """)
        try await server.start()
        let stored = await eventually(timeout: 20) { ((try? server.storedReadings()) ?? 0) == 73 * 2 * 3 }
        #expect(stored, "\((try? server.storedReadings()) ?? -1) readings\n\(server.log().suffix(1500))")
        let gateway = try await server.get("/api/v1/devices/sim-dtu-001").json
        #expect(gateway["profile"] as? String == "dtu-gateway")
        let rejects = try await server.get("/api/v1/rejects").json["rejects"] as? [Any]
        #expect(rejects?.isEmpty == true)
        #expect(server.terminate() == 0)
    }
}
