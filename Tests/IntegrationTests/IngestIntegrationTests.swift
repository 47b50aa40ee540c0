import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// The ingest vertical slice end to end: a real mosquitto, the real `shennong` binary with a
/// real SQLite file, HTTP on a loopback port, and the CLI.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct IngestIntegrationTests {
    /// Publishes QoS 1 messages and waits for every PUBACK.
    static func publish(_ messages: [(topic: String, payload: String)], port: Int) throws {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "it-pub-\(UUID().uuidString.prefix(8))", cleanSession: true))
        try publisher.connect()
        defer { publisher.disconnect() }
        for message in messages {
            try publisher.publish(topic: message.topic, payload: Array(message.payload.utf8), qos: 1)
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
    }

    /// (metric -> (value, unit, ts)) of `device` from the HTTP API over all time.
    static func readingsByHTTP(_ server: ServerProcess, device: String) async throws -> [String: [(Double, String, Int64)]] {
        let (status, json) = try await server.get("/api/v1/readings?device=\(device)&from=0&to=now")
        #expect(status == 200)
        var result: [String: [(Double, String, Int64)]] = [:]
        for row in json["readings"] as? [[String: Any]] ?? [] {
            // No force casts: a malformed row fails the test, it does not crash the test process.
            guard let metric = row["metric"] as? String, let value = row["value"] as? NSNumber,
                let unit = row["unit"] as? String, let ts = row["ts"] as? NSNumber
            else {
                Issue.record("malformed reading row \(row)")
                continue
            }
            result[metric, default: []].append((value.doubleValue, unit, ts.int64Value))
        }
        return result
    }

    @Test("every payload form, devices of all five domains, read back exactly through HTTP and the CLI")
    func allFormsAllDomains() async throws {
        let broker = try TestBroker(persistence: true)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()

        // Registered devices with vendor profiles, through the CLI (operator verb).
        let registrations: [(String, String, String)] = [
            ("pond-07", "water-sonde", "lianzhou-pond-7"), ("plot-12", "soil-probe", "yingde-plot-12"),
            ("aws-03", "weather-station", "yingde-aws"), ("fw-21", "fire-watch-node", "nanling-ridge"),
            ("gauge-lj", "water-level-gauge", "lianjiang-bridge"), ("rain-09", "rain-gauge", "lianjiang-bridge"),
        ]
        for (id, profile, site) in registrations {
            let added = try server.cli(["devices", "add", id, "--profile", profile, "--site", site])
            #expect(added.status == 0, "devices add \(id): \(added.output)")
        }

        let t0: Int64 = 1_763_700_000_000  // 2025-11-21T04:40:00Z
        try Self.publish(
            [
                // Form 1 with vendor field names, ts in epoch ms; Cond in mS/cm scaled to µS/cm.
                ("agri/pond-07/telemetry", #"{"ts": 1763700000000, "sn": "WQ-1", "values": {"DO": 5.23, "pH": 7.1, "Cond": 0.412}}"#),
                // Form 1 with ts in epoch seconds, soil probe EC in µS/cm scaled to dS/m.
                ("agri/plot-12/telemetry", #"{"ts": 1763700060, "values": {"VWC": 23.6, "T": 19.85, "EC": 412}}"#),
                // Form 3: buffered backfill of two reports, RFC 3339 with an offset; rain tips x 0.2 mm, Pa -> hPa.
                ("agri/aws-03/telemetry",
                 #"[{"ts": "2025-11-21T12:40:00+08:00", "values": {"TA": 22.4, "RainTips": 3, "PA": 101325}}, {"ts": "2025-11-21T12:45:00+08:00", "values": {"TA": 22.6, "RainTips": 0, "PA": 101310}}]"#),
                // Form 2: flat object with its own RFC 3339 time; flame false -> 0.
                ("agri/fw-21/telemetry", #"{"time": "2025-11-21T04:41:00Z", "smoke": 0.12, "co": 3.5, "flame": false, "ir_max": 31.6}"#),
                // Form 1, level in cm -> m.
                ("agri/gauge-lj/telemetry", #"{"ts": "2025-11-21T04:42:00.250Z", "values": {"level_cm": 235.4, "batt": 12.6}}"#),
                // Form 4: SenML with base name and base time, tips x 0.5 mm.
                ("agri/rain-09/telemetry",
                 #"[{"bn": "urn:dev:imei:867530012345678:", "bt": 1763700180, "n": "tips", "u": "count", "v": 7}, {"n": "batt", "u": "V", "v": 3.61, "t": 60}]"#),
                // Form 2 without a time: stamped on receipt; auto-registered with the generic profile.
                ("agri/pond-auto/telemetry", #"{"dissolved_oxygen": 4.8, "ph": 6.9}"#),
            ], port: broker.port)

        let expected: [String: [String: [(Double, String, Int64)]]] = [
            "pond-07": ["dissolved_oxygen": [(5.23, "mg/L", t0)], "ph": [(7.1, "", t0)], "conductivity": [(412, "µS/cm", t0)]],
            "plot-12": ["soil_moisture": [(23.6, "% vol", t0 + 60_000)], "soil_temp": [(19.85, "°C", t0 + 60_000)],
                        "soil_ec": [(0.412, "dS/m", t0 + 60_000)]],
            "aws-03": ["air_temp": [(22.4, "°C", t0), (22.6, "°C", t0 + 300_000)],
                       "rainfall": [(0.6, "mm", t0), (0, "mm", t0 + 300_000)],
                       "air_pressure": [(1013.25, "hPa", t0), (1013.1, "hPa", t0 + 300_000)]],
            "fw-21": ["smoke": [(0.12, "%obs/m", t0 + 60_000)], "co": [(3.5, "ppm", t0 + 60_000)],
                      "flame": [(0, "", t0 + 60_000)], "ir_max_temp": [(31.6, "°C", t0 + 60_000)]],
            "gauge-lj": ["water_level": [(2.354, "m", t0 + 120_250)], "battery_voltage": [(12.6, "V", t0 + 120_250)]],
            "rain-09": ["rainfall": [(3.5, "mm", t0 + 180_000)], "battery_voltage": [(3.61, "V", t0 + 240_000)]],
        ]
        let arrived = await eventually(timeout: 20) {
            let rain = try? await Self.readingsByHTTP(server, device: "rain-09").count
            let auto = try? await Self.readingsByHTTP(server, device: "pond-auto").count
            return rain == 2 && auto == 2
        }
        #expect(arrived, "readings did not arrive: \(server.log())")

        for (device, metrics) in expected {
            let got = try await Self.readingsByHTTP(server, device: device)
            #expect(Set(got.keys) == Set(metrics.keys), "\(device): metrics \(got.keys.sorted())")
            for (metric, points) in metrics {
                let values = got[metric] ?? []
                #expect(values.count == points.count, "\(device)/\(metric)")
                for (a, b) in zip(values, points) {
                    #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2, "\(device)/\(metric): got \(a), want \(b)")
                }
            }
        }

        // Stamped on receipt: a recent time, and registered in the water domain by its metrics.
        let auto = try await Self.readingsByHTTP(server, device: "pond-auto")
        let stamped = try #require(auto["dissolved_oxygen"]?.first)
        #expect(stamped.0 == 4.8)
        #expect(abs(stamped.2 - Int64(Date().timeIntervalSince1970 * 1000)) < 120_000)
        let (_, autoDevice) = try await server.get("/api/v1/devices/pond-auto")
        #expect(autoDevice["domain"] as? String == "water")
        #expect(autoDevice["profile"] as? String == "generic")

        // The same through the CLI, as JSON and as CSV.
        let query = try server.cli([
            "readings", "query", "--device", "aws-03", "--metric", "air_pressure", "--from", "2025-11-21T00:00:00Z",
            "--to", "2025-11-22T00:00:00Z", "--format", "json",
        ])
        #expect(query.status == 0, "\(query.output)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(query.output.utf8)) as? [[String: Any]])
        #expect(rows.map { ($0["value"] as? NSNumber)?.doubleValue } == [1013.25, 1013.1])
        #expect(rows.map { $0["time"] as? String } == ["2025-11-21T12:40:00.000+08:00", "2025-11-21T12:45:00.000+08:00"])
        #expect(rows.allSatisfy { $0["unit"] as? String == "hPa" })

        let csv = try server.cli(["readings", "query", "--device", "gauge-lj", "--from", "0", "--format", "csv"])
        #expect(csv.output.contains("2025-11-21T12:42:00.250+08:00,water_level,2.354,m,1763700120250"), "\(csv.output)")

        let latest = try server.cli(["readings", "latest", "--domain", "water", "--format", "csv"])
        #expect(latest.output.contains("pond-07,lianzhou-pond-7,water,dissolved_oxygen,5.23,mg/L,2025-11-21T12:40:00.000+08:00"), "\(latest.output)")
        #expect(latest.output.contains("pond-auto"))
        #expect(!latest.output.contains("aws-03"))

        // Aggregates over raw readings.
        let (_, hourly) = try await server.get("/api/v1/readings?device=aws-03&metric=air_temp&from=2025-11-21T04:00:00Z&to=2025-11-21T05:00:00Z&every=1h")
        let bucket = try #require((hourly["aggregates"] as? [[String: Any]])?.first)
        #expect((bucket["count"] as? NSNumber)?.intValue == 2)
        #expect((bucket["mean"] as? NSNumber)?.doubleValue == 22.5)
        #expect((bucket["min"] as? NSNumber)?.doubleValue == 22.4)
        #expect((bucket["max"] as? NSNumber)?.doubleValue == 22.6)

        let devices = try server.cli(["devices", "list", "--format", "json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(devices.output.utf8)) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["domain"] as? String }) == ["water", "soil", "weather", "fire", "flood"])

        // Authentication: no token, wrong token.
        #expect(try await server.get("/api/v1/devices", authorized: false).status == 401)
        let denied = try ShennongBinary.run(["devices", "list", "--server", server.baseURL, "--token", "snk_" + String(repeating: "0", count: 64)])
        #expect(denied.status != 0)
        #expect(denied.output.contains("401"))

        #expect(server.terminate() == 0)
    }

    @Test("a redelivered duplicate (same device, metric, timestamp) is stored once")
    func duplicatesStoredOnce() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let payload = #"{"ts": 1763700000000, "values": {"water_level": 3.21}}"#
        try Self.publish(Array(repeating: ("agri/gauge-dup/telemetry", payload), count: 3), port: broker.port)
        try Self.publish([("agri/gauge-dup/telemetry", #"{"ts": 1763700060000, "values": {"water_level": 3.25}}"#)], port: broker.port)
        #expect(await eventually(timeout: 15) { (try? server.storedReadings()) == 2 })
        // A later message of the same series with the same timestamp does not change the stored value.
        try Self.publish([("agri/gauge-dup/telemetry", #"{"ts": 1763700000000, "values": {"water_level": 9.99}}"#)], port: broker.port)
        try await Task.sleep(for: .milliseconds(500))
        let got = try await Self.readingsByHTTP(server, device: "gauge-dup")
        #expect(got["water_level"]?.map(\.0) == [3.21, 3.25])
        #expect(try server.storedReadings() == 2)
        #expect(server.terminate() == 0)
    }
}
