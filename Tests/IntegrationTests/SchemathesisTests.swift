import Foundation
import MosquittoClient
import ShennongProcess
import ShennongTestSupport
import Testing

/// schemathesis (PyPI, `make pytools`) against the real server with the spec it serves at
/// `/openapi.yaml` and an admin token: generated requests for every operation (positive and
/// negative data, then stateful sequences), and each answer checked: no 5xx, the status
/// documented, the content type documented, the body valid against its schema.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SchemathesisTests {
    static let root = ShennongBinary.repositoryRoot

    @Test("schemathesis finds no server error and no answer outside openapi.yaml")
    func schemathesis() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                rules:
                  directory: \(Self.root.appendingPathComponent("Config/rules").path)
                trace:
                  templates_dir: \(Self.root.appendingPathComponent("dashboards/trace").path)
                  miss_burst: 100000
                  max_codes_per_issue: 100
                dashboard:
                  templates_dir: \(Self.root.appendingPathComponent("dashboards/staff").path)
                """,
            httpYAML: """
                rate_limit: { burst: 100000, per_minute: 100000 }
                """)
        try await server.start()
        try await Self.seed(server, brokerPort: broker.port)

        let work = server.directory.appendingPathComponent("schemathesis")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let output = work.appendingPathComponent("output.txt").path
        let process = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: [
                "-C", work.path, "python3", "-m", "schemathesis.cli", "run", "\(server.baseURL)/openapi.yaml",
                "--header", "Authorization: Bearer \(server.token)",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples", "25", "--seed", "14", "--workers", "1", "--request-timeout", "20",
                "--generation-database", "none", "--no-color", "--suppress-health-check", "all",
            ],
            outputPath: output, environment: ["PYTHONPATH": SchemaValidator.pytools, "HOME": work.path])
        let status = process.wait(timeout: 240)
        if status == nil { process.signal(SIGKILL) }
        let report = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "schemathesis (exit \(status.map(String.init) ?? "timeout")):\n\(report)")
        #expect(report.contains("passed"), "\(report)")
        // The server is still up and said nothing of a crash.
        let (health, _) = try await server.get("/healthz", authorized: false)
        #expect(health == 200 && server.isRunning, "\(server.log().suffix(3000))")
        #expect(!server.log().contains("runtime failure"), "\(server.log().suffix(3000))")
        #expect(server.terminate() == 0)
    }

    /// A little of everything, so that generated requests also meet stored things: a device
    /// with readings and a reject, an alert, a producer, plot and batch with codes.
    static func seed(_ server: ServerProcess, brokerPort: Int) async throws {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: brokerPort, clientID: "it-schemathesis", cleanSession: true))
        try publisher.connect()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let report = (0..<6).map { i in "{\"ts\": \(now - Int64(6 - i) * 600_000), \"values\": {\"dissolved_oxygen\": \(1.5 + Double(i) / 10), \"ph\": 7.1}}" }
        try publisher.publish(topic: "agri/pond-1/telemetry", payload: Array(("[" + report.joined(separator: ",") + "]").utf8), qos: 1)
        try publisher.publish(topic: "agri/pond-1/telemetry", payload: Array("{not json".utf8), qos: 1)
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(30)))
        publisher.disconnect()
        let stored = await eventually(timeout: 20) {
            let (_, json) = (try? await server.get("/api/v1/alerts?device=pond-1")) ?? (0, [:])
            return (json["alerts"] as? [Any])?.isEmpty == false
        }
        #expect(stored, "no alert from the seeded readings: \(server.log().suffix(2000))")
        for arguments in [
            ["trace", "producer", "add", "--id", "P1", "--name", "连州蔬菜合作社", "--credit-code", "91350100M000100Y43", "--area-code", "441882"],
            ["trace", "plot", "add", "--id", "PL1", "--producer", "P1", "--name", "东陂鱼塘", "--location", "东陂镇", "--area-code", "441882", "--device", "pond-1"],
            ["trace", "batch", "create", "--id", "LOT-1", "--plot", "PL1", "--product", "鲩鱼", "--quantity", "100", "--planted", "2025-09-01", "--gtin", "06901234567892"],
            ["trace", "issue", "--batch", "LOT-1", "--count", "2", "--out", server.directory.appendingPathComponent("codes.csv").path],
        ] {
            let result = try server.cli(arguments)
            #expect(result.status == 0, "\(arguments.prefix(3)): \(result.output)")
        }
    }
}
