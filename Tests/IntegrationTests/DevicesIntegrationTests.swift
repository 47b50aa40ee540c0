import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// Device registration in bulk and gateway profiles, against a real broker and server.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DevicesIntegrationTests {
    @Test("devices import registers a CSV all or nothing; a DTU gateway's message is stored under each child device")
    func importAndGateway() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()

        let bad = server.directory.appendingPathComponent("bad.csv").path
        try "id,profile,warning_stage\ngauge-a,water-level-gauge,4.5\ngauge-b,no-such-profile,\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try server.cli(["devices", "import", bad])
        #expect(refused.status != 0)
        #expect(refused.output.contains("line 3: unknown profile \"no-such-profile\""), "\(refused.output)")
        let (_, none) = try await server.get("/api/v1/devices")
        #expect((none["devices"] as? [[String: Any]])?.isEmpty == true, "a refused file registered devices")

        let good = server.directory.appendingPathComponent("devices.csv").path
        try """
            id,profile,site,latitude,longitude,area_code,owner,warning_stage,guaranteed_stage,historical_max_stage
            gauge-a,water-level-gauge,lianjiang-bridge,24.78,112.38,441882,连州市水利局,4.5,6.2,7.9
            dtu-01,dtu-gateway,qingxin-fish-farm,23.73,113.02,441803,清新区渔场,,,
            """.write(toFile: good, atomically: true, encoding: .utf8)
        let imported = try server.cli(["devices", "import", good, "--format", "json"])
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.output.contains("\"created\" : 2") || imported.output.contains("\"created\":2"), "\(imported.output)")
        let (status, gauge) = try await server.get("/api/v1/devices/gauge-a")
        #expect(status == 200)
        #expect((gauge["attributes"] as? [String: Double]) == ["warning_stage": 4.5, "guaranteed_stage": 6.2, "historical_max_stage": 7.9])
        #expect(gauge["area_code"] as? String == "441882")

        // One DTU message for two pond probes; pond-08 carries its own time.
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "it-dtu", cleanSession: true))
        try publisher.connect()
        try publisher.publish(
            topic: "agri/dtu-01/telemetry",
            payload: Array(#"{"ts": 1763700000000, "seq": 9, "devices": {"pond-07": {"do": 5.12, "temp": 26.8}, "pond-08": {"ts": 1763699940000, "values": {"do": 3.4}}, "bad id": {"do": 1}}}"#.utf8))
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))
        publisher.disconnect()
        #expect(await eventually(timeout: 15) { (try? server.storedReadings()) == 3 })

        let (_, pond7) = try await server.get("/api/v1/readings?device=pond-07&from=0&to=now")
        let rows7 = pond7["readings"] as? [[String: Any]] ?? []
        #expect(Set(rows7.compactMap { $0["metric"] as? String }) == ["dissolved_oxygen", "water_temp"])
        #expect(rows7.allSatisfy { ($0["ts"] as? NSNumber)?.int64Value == 1_763_700_000_000 })
        let (_, pond8) = try await server.get("/api/v1/readings?device=pond-08&from=0&to=now")
        let rows8 = pond8["readings"] as? [[String: Any]] ?? []
        #expect(rows8.compactMap { ($0["value"] as? NSNumber)?.doubleValue } == [3.4])
        #expect(rows8.compactMap { ($0["ts"] as? NSNumber)?.int64Value } == [1_763_699_940_000])
        // The new children are registered with the gateway's child profile; the bad child is a reject.
        let (_, child) = try await server.get("/api/v1/devices/pond-08")
        #expect(child["profile"] as? String == "pond-oxygen-probe")
        let (_, rejects) = try await server.get("/api/v1/rejects")
        let reasons = (rejects["rejects"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(reasons == ["invalid_device_id"])
        #expect(server.terminate() == 0)
    }
}
