import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MosquittoClient
import ShennongTestSupport
import Testing

/// Traceability end to end: a real mosquitto, the real `shennong` binary with its SQLite
/// file, readings published over MQTT by simulated soil, weather and pond devices, the trace
/// CLI, and the public pages on loopback HTTP.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct TraceIntegrationTests {
    /// 2025-10-01T00:00:00+08:00: the readings start here (planting is 2025-09-01).
    static let t0: Int64 = 1_759_248_000_000
    static let step: Int64 = 600_000

    static func publish(_ messages: [(topic: String, payload: String)], port: Int) throws {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "it-trace-\(UUID().uuidString.prefix(8))", cleanSession: true))
        try publisher.connect()
        defer { publisher.disconnect() }
        for message in messages {
            try publisher.publish(topic: message.topic, payload: Array(message.payload.utf8), qos: 1)
        }
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
    }

    /// 12 reports every 10 minutes from a soil probe, a weather station and a pond sonde
    /// (backfill arrays, canonical names, generic profile).
    static func fieldReadings() -> [(topic: String, payload: String)] {
        func report(_ values: (Int) -> String) -> String {
            "[" + (0..<12).map { i in "{\"ts\": \(t0 + Int64(i) * step), \"values\": {\(values(i))}}" }.joined(separator: ",") + "]"
        }
        return [
            ("agri/trace-soil-1/telemetry", report { i in
                "\"soil_moisture\": \([20, 22, 24, 26][i % 4]), \"soil_temp\": \([18, 19, 20, 21][i % 4])" }),
            ("agri/trace-wx-1/telemetry", report { _ in "\"rainfall\": 0.5, \"air_temp\": 25" }),
            ("agri/trace-pond-1/telemetry", report { i in
                "\"dissolved_oxygen\": \(i < 3 ? "4.2" : String(6.0 + Double(i) / 10)), \"ph\": \(7.0 + Double(i % 3) / 10)" }),
            // Not on the plot: must not count.
            ("agri/trace-elsewhere/telemetry", report { _ in "\"soil_moisture\": 99" }),
        ]
    }

    static func run(_ server: ServerProcess, _ arguments: [String]) throws -> CLIResult {
        let result = try server.cli(arguments)
        #expect(result.status == 0, "\(arguments.prefix(3).joined(separator: " ")): \(result.output)")
        return result
    }

    @Test("producer, plot with sensors, batch, certificate, events, 1,000 codes; the page shows product, environment from stored readings, rising scans, escaped text")
    func consumerPage() async throws {
        let broker = try TestBroker(persistence: true)
        let templates = ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/trace").path
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                trace:
                  public_base_url: https://trace.example.cn
                  templates_dir: \(templates)
                  miss_burst: 3
                  miss_per_minute: 1
                  clone_scan_limit: 50
                """)
        try await server.start()

        try Self.publish(Self.fieldReadings(), port: broker.port)
        let stored = await eventually(timeout: 20) {
            let (_, json) = (try? await server.get("/api/v1/readings?device=trace-pond-1&from=0&to=now")) ?? (0, [:])
            return (json["readings"] as? [[String: Any]])?.count == 24
        }
        #expect(stored, "readings not stored: \(server.log())")

        _ = try Self.run(server, [
            "trace", "producer", "add", "--id", "P1", "--name", "连州<script>alert('x')</script>蔬菜合作社",
            "--credit-code", "91350100M000100Y43", "--area-code", "441882", "--contact", "陈伟", "--phone", "13812341234",
        ])
        let badCode = try server.cli([
            "trace", "producer", "add", "--id", "P2", "--name", "X", "--credit-code", "91350100M000100Y44", "--area-code", "441882",
        ])
        #expect(badCode.status != 0 && badCode.output.contains("统一社会信用代码"))
        _ = try Self.run(server, [
            "trace", "plot", "add", "--id", "PLOT1", "--producer", "P1", "--name", "卿罡村3号地",
            "--location", "广东省清远市连州市保安镇卿罡村", "--area-code", "441882", "--area", "12.5",
            "--device", "trace-soil-1", "--device", "trace-wx-1", "--device", "trace-pond-1",
        ])
        _ = try Self.run(server, [
            "trace", "batch", "create", "--id", "LZ2025-11", "--plot", "PLOT1", "--product", "连州菜心", "--quantity", "500",
            "--unit", "kg", "--planted", "2025-09-01", "--gtin", "09521234543213",
        ])
        _ = try Self.run(server, ["trace", "certificate", "--batch", "LZ2025-11", "--basis", "自行检测合格"])
        _ = try Self.run(server, [
            "trace", "inspection", "add", "--batch", "LZ2025-11", "--sample", "菜心", "--item", "农药残留速测", "--result", "合格",
            "--lab", "连州市农产品质量检测站", "--date", "2025-11-03",
        ])
        _ = try Self.run(server, [
            "trace", "event", "add", "--batch", "LZ2025-11", "--stage", "production", "--action", "input", "--party", "陈伟",
            "--time", "2025-10-20", "--place", "卿罡村3号地", "--input", "pesticide:阿维菌素:7:30 mL/亩", "--input", "fertiliser:复合肥",
        ])
        let early = try server.cli([
            "trace", "event", "add", "--batch", "LZ2025-11", "--stage", "production", "--action", "harvest", "--party", "陈伟",
            "--time", "2025-10-25", "--place", "卿罡村3号地",
        ])
        #expect(early.status != 0)
        #expect(early.output.contains("HTTP 422") && early.output.contains("安全间隔期7天"), "\(early.output)")
        _ = try Self.run(server, [
            "trace", "event", "add", "--batch", "LZ2025-11", "--stage", "production", "--action", "harvest", "--party", "陈伟",
            "--time", "2025-11-05", "--place", "卿罡村3号地",
        ])

        // 1,000 codes: CSV of code, URL, Digital Link, and one QR SVG per code.
        let out = server.directory.appendingPathComponent("codes.csv").path
        let qr = server.directory.appendingPathComponent("qr").path
        _ = try Self.run(server, ["trace", "issue", "--batch", "LZ2025-11", "--count", "1000", "--out", out, "--qr-dir", qr])
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "code,url,digital_link")
        #expect(lines.count == 1001)
        let rows = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        let codes = rows.map { $0[0] }
        #expect(Set(codes).count == 1000)
        #expect(try FileManager.default.contentsOfDirectory(atPath: qr).filter { $0.hasSuffix(".svg") }.count == 1000)
        let code = codes[417]
        #expect(rows[417][1] == "https://trace.example.cn/t/\(code)")
        #expect(rows[417][2] == "https://trace.example.cn/01/09521234543213/10/LZ2025-11/21/\(code.replacingOccurrences(of: "-", with: ""))")

        // The page: product, environment numbers from the published readings, scans counted.
        let page = try await server.text("/t/\(code)")
        #expect(page.contains("<html lang=\"zh-CN\">"))
        #expect(page.contains("连州菜心"))
        #expect(page.contains("此码已被查询1次，首次查询于"))
        #expect(page.contains("平均 23 %"), "soil moisture mean")
        #expect(page.contains("平均 19.5 ℃"), "soil temperature mean")
        #expect(page.contains("平均 25 ℃"), "air temperature mean")
        #expect(page.contains("<dd>6 mm</dd>"), "rainfall total")
        #expect(page.contains("4.2–7.1 mg/L"), "DO range")
        #expect(page.contains("<dd>7–7.2</dd>"), "pH range")
        #expect(page.contains("75% 的时间达到地表水Ⅲ类及以上"))
        #expect(page.contains("3台传感器，72条监测数据"))
        #expect(page.contains("阿维菌素，30 mL/亩，安全间隔期7天"))
        #expect(page.contains("承诺达标合格证") && page.contains("自行检测合格"))
        #expect(page.contains("138****1234") && !page.contains("13812341234"))
        #expect(!page.contains("<script"), "producer text must be escaped")
        #expect(page.contains("连州&lt;script&gt;alert("), "producer text shown as text")
        #expect(!page.contains("src=") && !page.contains("<link") && !page.contains("url("), "no external assets")
        let again = try await server.text("/t/\(code.lowercased())")
        #expect(again.contains("此码已被查询2次"))

        // JSON says the same numbers, exactly.
        let (status, json) = try await server.get("/api/v1/trace/\(code)", authorized: false)
        #expect(status == 200)
        let env = try #require(json["environment"] as? [String: Any])
        #expect(env["soil_moisture_mean"] as? Double == 23)
        #expect(env["soil_temp_mean"] as? Double == 19.5)
        #expect(env["rainfall_total"] as? Double == 6)
        #expect(env["class_three_share"] as? Double == 0.75)
        #expect((json["scans"] as? [String: Any])?["count"] as? Int == 3)
        #expect(json["recalled"] as? Bool == false)
        #expect((json["producer"] as? [String: Any])?["phone"] as? String == "138****1234")

        // The GS1 Digital Link resolves to the same item (and counts a scan).
        let link = rows[417][2].replacingOccurrences(of: "https://trace.example.cn", with: "")
        #expect(try await server.text(link).contains("此码已被查询4次"))

        // Staff view counts nothing.
        let show = try Self.run(server, ["trace", "show", code, "--format", "json"])
        #expect(show.output.contains("\"count\" : 4"))

        // Verify holds; a direct edit of the database is named; the CLI exits 1.
        #expect(try Self.run(server, ["trace", "verify"]).output.contains("校验通过：2 条链"))
        let edit = Process()
        edit.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        edit.arguments = [
            "sqlite3", server.databasePath,
            "UPDATE trace_records SET payload = replace(payload, '阿维菌素', '生物农药') WHERE chain = 'batch:LZ2025-11' AND kind = 'event' AND payload LIKE '%阿维菌素%'",
        ]
        try edit.run()
        edit.waitUntilExit()
        #expect(edit.terminationStatus == 0)
        let broken = try server.cli(["trace", "verify", code])
        #expect(broken.status == 1)
        #expect(broken.output.contains("batch:LZ2025-11") && broken.output.contains("content changed"), "\(broken.output)")

        // Recall: the page turns red and the JSON says recalled.
        _ = try Self.run(server, ["trace", "recall", "--batch", "LZ2025-11", "--reason", "抽检农残超标"])
        let recalled = try await server.text("/t/\(code)")
        #expect(recalled.contains("<body class=\"recalled\">"))
        #expect(recalled.contains("此批次产品已召回") && recalled.contains("抽检农残超标"))
        let (_, recalledJSON) = try await server.get("/api/v1/trace/\(codes[0])", authorized: false)
        #expect(recalledJSON["recalled"] as? Bool == true)
        #expect(recalledJSON["status"] as? String == "recalled")

        // Scan counters survive a restart (flushed at shutdown): 5 scans before, this is the 6th.
        #expect(server.terminate() == 0)
        try await server.start()
        #expect(try await server.text("/t/\(code)").contains("此码已被查询6次"))

        // Forged codes: Chinese 404 before any lookup, then 429 after miss_burst misses.
        var forged = URLRequest(url: URL(string: server.baseURL + "/t/ABCDE-FGHJK-MNPQR-STVWX")!)
        forged.timeoutInterval = 10
        let (body, response) = try await URLSession.shared.data(for: forged)
        #expect((response as? HTTPURLResponse)?.statusCode == 404)
        #expect(String(decoding: body, as: UTF8.self).contains("未找到此追溯码"))
        for _ in 0..<2 { _ = try await URLSession.shared.data(for: forged) }
        let (limited, limitedResponse) = try await URLSession.shared.data(for: forged)
        #expect((limitedResponse as? HTTPURLResponse)?.statusCode == 429)
        #expect(String(decoding: limited, as: UTF8.self).contains("查询过于频繁"))
    }

    @Test("EPCIS 2.0 export of a batch validates against GS1's schema; the seal key is served as PEM")
    func epcisExport() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port, extraYAML: "trace:\n  public_base_url: https://trace.example.cn")
        try await server.start()
        _ = try Self.run(server, [
            "trace", "producer", "add", "--id", "P1", "--name", "英德红茶合作社", "--credit-code", "91110000600037341L",
            "--area-code", "441881",
        ])
        _ = try Self.run(server, [
            "trace", "plot", "add", "--id", "TEA1", "--producer", "P1", "--name", "茶园1号", "--location", "英德市英红镇",
            "--area-code", "441881",
        ])
        _ = try Self.run(server, [
            "trace", "batch", "create", "--id", "YD-01", "--plot", "TEA1", "--product", "英德红茶", "--quantity", "200",
            "--unit", "斤", "--planted", "2025-03-01", "--gtin", "614141123452",
        ])
        _ = try Self.run(server, [
            "trace", "event", "add", "--batch", "YD-01", "--stage", "production", "--action", "harvest", "--party", "茶农甲",
            "--time", "2025-04-01", "--place", "茶园1号",
        ])
        let out = server.directory.appendingPathComponent("c.csv").path
        _ = try Self.run(server, ["trace", "issue", "--batch", "YD-01", "--count", "5", "--out", out])
        for (action, stage, place) in [
            ("packing", "processing", "英德茶厂"), ("shipping", "distribution", "英德茶厂"), ("receiving", "distribution", "广州江南市场"),
            ("retail_selling", "sales", "广州江南市场"),
        ] {
            var args = [
                "trace", "event", "add", "--batch", "YD-01", "--stage", stage, "--action", action, "--party", "某公司",
                "--time", "2025-04-0\(action.count % 5 + 2)", "--place", place,
            ]
            if action == "packing" { args += ["--packed-lot", "YD-01-P"] }
            _ = try Self.run(server, args)
        }
        _ = try Self.run(server, ["trace", "recall", "--batch", "YD-01", "--reason", "包装破损"])
        _ = try Self.run(server, ["trace", "seal", "--batch", "YD-01"])
        let file = server.directory.appendingPathComponent("epcis.json").path
        _ = try Self.run(server, ["trace", "export", "--batch", "YD-01", "--epcis", "--out", file])
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        try SchemaValidator.validateEPCIS(json: data)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = try #require((document["epcisBody"] as? [String: Any])?["eventList"] as? [[String: Any]])
        #expect(events.map { $0["type"] as? String ?? "" } == ["ObjectEvent", "TransformationEvent", "ObjectEvent", "ObjectEvent", "ObjectEvent", "ObjectEvent"])
        #expect(events.map { $0["bizStep"] as? String ?? "-" } == ["commissioning", "packing", "shipping", "receiving", "retail_selling", "-"])
        #expect(events.last?["disposition"] as? String == "recalled")
        #expect((events[0]["bizLocation"] as? [String: Any])?["id"] as? String == "urn:shennong:plot:TEA1")
        let output = try #require(events[1]["outputEPCList"] as? [String])
        #expect(output.count == 5 && output.allSatisfy { $0.hasPrefix("https://trace.example.cn/01/00614141123452/21/") })
        #expect(((events[0]["quantityList"] as? [[String: Any]])?.first?["quantity"] as? Double) == 100)  // 200 斤 = 100 kg
        #expect(try Self.run(server, ["trace", "verify"]).output.contains("1 个封存"))

        let pem = try await server.text("/.well-known/shennong-trace-key")
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"))
    }
}
