import Foundation
import MosquittoClient
import ShennongProcess
import ShennongTestSupport
import Testing

/// Forwarding end to end (issue 17): a county server forwards to a centre server, each with
/// its own real mosquitto. The link is cut (the centre's broker stopped) and restored, the
/// county is killed mid-forward and restarted; every reading reaches the centre once in
/// content, first arrivals in order per series, and the lag metric rises and returns to 0.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ForwardIntegrationTests {
    static let area = "445302"
    static let t0: Int64 = 1_763_700_000_000  // 2025-11-21T04:40:00Z
    static let devices = ["pond-1", "pond-2", "aws-1"]

    /// Publishes `count` reports per device from report `start` on, each with two metrics.
    static func publish(_ port: Int, from start: Int, count: Int) throws {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "fw-pub-\(UUID().uuidString.prefix(8))", cleanSession: true))
        try publisher.connect()
        defer { publisher.disconnect() }
        for i in start..<(start + count) {
            for device in devices {
                let payload = #"{"ts": \#(t0 + Int64(i) * 1000), "values": {"ph": \#(Double(i % 700) / 100 + 1), "water_temp": \#(20 + Double(i % 100) / 10)}}"#
                try publisher.publish(topic: "agri/\(device)/telemetry", payload: Array(payload.utf8), qos: 1)
            }
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(60)))
    }

    /// The forwarder's lag samples on `server`'s /metrics.
    static func lag(_ server: ServerProcess) async -> (seconds: Double, readings: Double)? {
        guard let text = try? await server.text("/metrics"), let samples = try? PrometheusText.parse(text) else { return nil }
        func value(_ name: String) -> Double? {
            samples.first { $0.name == name && $0.labels["target"] == "centre" }?.value
        }
        guard let s = value("shennong_forward_lag_seconds"), let r = value("shennong_forward_lag_readings") else { return nil }
        return (s, r)
    }

    /// The readings of `device` at `server`, by metric: (ts, value) oldest first.
    static func readings(_ server: ServerProcess, device: String) async throws -> [String: [(Int64, Double)]] {
        let (status, json) = try await server.get("/api/v1/readings?device=\(device)&from=0&to=now")
        #expect(status == 200)
        var out: [String: [(Int64, Double)]] = [:]
        for row in json["readings"] as? [[String: Any]] ?? [] {
            guard let metric = row["metric"] as? String, let value = row["value"] as? NSNumber, let ts = row["ts"] as? NSNumber else {
                continue
            }
            out[metric, default: []].append((ts.int64Value, value.doubleValue))
        }
        return out
    }

    /// An MQTT observer of the centre's broker (`mosquitto_sub`, persistent session): every
    /// telemetry message in arrival order, one `topic payload` line each.
    final class Observer: @unchecked Sendable {
        let port: Int
        let path: String
        var process: ChildProcess?

        init(port: Int, directory: URL) {
            self.port = port
            path = directory.appendingPathComponent("observed-\(UUID().uuidString.prefix(8)).log").path
        }

        func start() throws {
            if let process, process.isRunning { return }
            let executable = ["/usr/bin/mosquitto_sub", "/usr/local/bin/mosquitto_sub"].first { FileManager.default.fileExists(atPath: $0) }
                ?? "mosquitto_sub"
            process = try ChildProcess(
                executable: executable,
                arguments: ["-h", "127.0.0.1", "-p", "\(port)", "-t", "agri/+/telemetry", "-q", "1", "-c", "-i", "fw-observer", "-v"],
                outputPath: path)
        }

        func stop() {
            process?.stop(signal: SIGTERM, grace: 5)
        }

        deinit { stop() }

        /// Per (device, metric) the timestamps in order of arrival.
        func arrivals() -> [String: [Int64]] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            var out: [String: [Int64]] = [:]
            struct Point: Decodable {
                var ts: Int64
                var values: [String: Double]
            }
            for line in text.split(separator: "\n") where line.hasPrefix("agri/") {
                guard let space = line.firstIndex(of: " ") else { continue }
                let device = line[..<space].split(separator: "/")[1]
                guard let points = try? JSONDecoder().decode([Point].self, from: Data(line[line.index(after: space)...].utf8)) else {
                    continue
                }
                for p in points {
                    for metric in p.values.keys { out["\(device)/\(metric)", default: []].append(p.ts) }
                }
            }
            return out
        }
    }

    @Test("county → centre over MQTT: link cut and restored, county killed mid-forward; every reading once in content, in order, lag back to 0")
    func countyToCentre() async throws {
        let countyBroker = try TestBroker(persistence: true)
        let centreBroker = try TestBroker(persistence: true)
        let centre = try ServerProcess(brokerPort: centreBroker.port)
        try await centre.start()
        let observer = Observer(port: centreBroker.port, directory: centre.directory)
        try observer.start()
        defer { observer.stop() }

        let forward = """
            forward:
              area_code: "\(Self.area)"
              targets:
                - name: centre
                  mqtt:
                    host: 127.0.0.1
                    port: \(centreBroker.port)
                    client_id: county-\(Self.area)
                  carries: [readings, alerts, devices]
                  batch: 150
                  poll_interval: 100ms
                  backoff_min: 100ms
                  backoff_max: 1s
            """
        let county = try ServerProcess(brokerPort: countyBroker.port, extraYAML: forward)
        try await county.start()

        // Phase 1: the link is up.
        try Self.publish(countyBroker.port, from: 0, count: 200)
        #expect(await eventually(timeout: 60) { (try? centre.storedReadings()) == 1200 }, "phase 1 at the centre: \(centre.log().suffix(2000))")

        // Phase 2: the centre's broker goes away for longer than a burst; the county keeps ingesting.
        centreBroker.stop()
        try Self.publish(countyBroker.port, from: 200, count: 300)
        #expect(await eventually(timeout: 30) { (try? county.storedReadings()) == 3000 })
        try await Task.sleep(for: .seconds(2))
        let behind = await Self.lag(county)
        #expect((behind?.readings ?? 0) >= 1800, "lag while the link is cut: \(String(describing: behind))")
        #expect((behind?.seconds ?? 0) >= 1, "lag seconds while the link is cut: \(String(describing: behind))")
        let health = try await county.get("/healthz")
        #expect((health.json["forward.centre"] as? String)?.hasPrefix("retrying") == true, "health: \(health.json)")
        #expect(try centre.storedReadings() == 1200)

        // Restored: everything arrives.
        try centreBroker.start()
        try observer.start()
        #expect(await eventually(timeout: 60) { (try? centre.storedReadings()) == 3000 }, "after the link is back: \(county.log().suffix(3000))")

        // Phase 3: the county is killed with a backlog (link cut again), restarted, link restored.
        centreBroker.stop()
        try Self.publish(countyBroker.port, from: 500, count: 300)
        #expect(await eventually(timeout: 30) { (try? county.storedReadings()) == 4800 })
        county.kill()
        try Self.publish(countyBroker.port, from: 800, count: 100)  // queued for the county at its broker
        try await county.start()
        try centreBroker.start()
        try observer.start()
        #expect(await eventually(timeout: 90) { (try? centre.storedReadings()) == 5400 }, "after the county restart: \(county.log().suffix(3000))")

        // The lag returns to 0.
        let caughtUp = await eventually(timeout: 30) {
            guard let lag = await Self.lag(county) else { return false }
            return lag.readings == 0 && lag.seconds == 0
        }
        let lagAfter = await Self.lag(county)
        #expect(caughtUp, "lag after catching up: \(String(describing: lagAfter))")
        let healthAfter = try await county.get("/healthz")
        #expect((healthAfter.json["forward.centre"] as? String)?.hasPrefix("ok") == true, "health: \(healthAfter.json)")

        // Once in content: the centre holds exactly the county's readings under namespaced ids.
        #expect(try centre.storedReadings() == 5400)
        for device in Self.devices {
            let here = try await Self.readings(county, device: device)
            let there = try await Self.readings(centre, device: "\(Self.area).\(device)")
            #expect(here.keys.sorted() == ["ph", "water_temp"])
            for metric in here.keys {
                let a = here[metric] ?? []
                let b = there[metric] ?? []
                #expect(a.count == 900 && b.count == 900, "\(device)/\(metric): county \(a.count), centre \(b.count)")
                #expect(a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1), "\(device)/\(metric) differs at the centre")
            }
        }
        // In order per series: each reading's first arrival at the centre's broker after the one before it.
        let arrivals = observer.arrivals()
        #expect(arrivals.count == 6, "observed series: \(arrivals.keys.sorted())")
        for (series, stamps) in arrivals {
            var seen: Set<Int64> = []
            let first = stamps.filter { seen.insert($0).inserted }
            #expect(first == first.sorted(), "\(series): first arrivals out of order")
            #expect(first.count == 900, "\(series): \(first.count) distinct readings observed")
        }
        _ = county.terminate()
        _ = centre.terminate()
    }

    @Test("county → centre over MQTT with TLS and a password: the centre's broker refuses anonymous clients; readings arrive")
    func overTLS() async throws {
        let pki = try TransportSecurityTests.PKI()
        let tlsPort = freeLoopbackPort()
        let centreBroker = try TestBroker(
            persistence: false,
            extraConfiguration: [
                "allow_anonymous false", "password_file \(pki.path("passwords"))", "listener \(tlsPort) 127.0.0.1",
                "cafile \(pki.path("ca.crt"))", "certfile \(pki.path("server.crt"))", "keyfile \(pki.path("server.key"))",
            ])
        let tlsClient = """
            username: shennong
            password_file: \(pki.path("shennong.password"))
            tls:
              ca_file: \(pki.path("ca.crt"))
            """
        let centre = try ServerProcess(brokerPort: tlsPort, mqttYAML: tlsClient)
        try await centre.start()
        let countyBroker = try TestBroker(persistence: true)
        let county = try ServerProcess(
            brokerPort: countyBroker.port,
            extraYAML: """
                forward:
                  area_code: "\(Self.area)"
                  targets:
                    - name: centre
                      mqtt:
                        host: 127.0.0.1
                        port: \(tlsPort)
                        username: shennong
                        password_file: \(pki.path("shennong.password"))
                        tls: { ca_file: \(pki.path("ca.crt")) }
                      carries: [readings]
                      backoff_max: 1s
                """)
        try await county.start()
        try Self.publish(countyBroker.port, from: 0, count: 50)
        #expect(await eventually(timeout: 60) { (try? centre.storedReadings()) == 300 }, "\(county.log().suffix(3000))")
        let there = try await Self.readings(centre, device: "\(Self.area).pond-2")
        #expect(there["ph"]?.count == 50 && there["water_temp"]?.count == 50)
        #expect(!county.log().contains(TransportSecurityTests.PKI.shennongPassword), "the upstream password appears in the county's log")
        _ = county.terminate()
        _ = centre.terminate()
        _ = centreBroker
    }
}
