import Foundation
import ShennongProcess
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `shennong serve` process on an external broker, with its own directory and database,
/// observed through `/metrics` and `/proc`.
final class ShennongUnderTest: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used from the benchmark's one task.
    let binary: String
    let directory: URL
    let brokerPort: Int
    private var process: ChildProcess?
    private(set) var httpPort = 0

    var databasePath: String { directory.appendingPathComponent("bench.db").path }
    private var portFile: String { directory.appendingPathComponent("http.port").path }

    /// A PostgreSQL database (`database.url`) instead of the SQLite file, and how to count
    /// the readings stored in it.
    let postgres: (url: String, countReadings: () throws -> Int)?

    /// `rulesDirectory`: the warning rules in force (every preset in Config/rules), or nil
    /// for a server with the rules stage switched off. `postgres`: the PostgreSQL engine on
    /// that database instead of SQLite.
    init(
        binary: String, brokerPort: Int, clientID: String, rulesDirectory: String? = nil,
        postgres: (url: String, countReadings: () throws -> Int)? = nil
    ) throws {
        self.binary = binary
        self.brokerPort = brokerPort
        self.postgres = postgres
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            mqtt:
              broker: external
              host: 127.0.0.1
              port: \(brokerPort)
              client_id: \(clientID)
            ingest:
              unknown_devices: register
            database:
              path: \(databasePath)
            \(postgres.map { "  url: \($0.url)" } ?? "")
            http:
              port: 0
              port_file: \(portFile)
            rules:
            \(rulesDirectory.map { "  enabled: true\n  directory: \($0)" } ?? "  enabled: false")
            """
        try config.write(to: directory.appendingPathComponent("bench.yaml"), atomically: true, encoding: .utf8)
    }

    deinit {
        process?.signal(SIGKILL)
        process?.wait(timeout: 5)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server; returns once its HTTP port is known.
    /// `wrapper`: a command the server runs under (a profiler: `valgrind --tool=callgrind`).
    func start(wrapper: [String] = []) async throws {
        try? FileManager.default.removeItem(atPath: portFile)
        let command = wrapper + [binary, "serve", "--config", directory.appendingPathComponent("bench.yaml").path, "--log-level", "warning"]
        process = try ChildProcess(
            executable: command[0], arguments: Array(command.dropFirst()),
            outputPath: directory.appendingPathComponent("server.log").path)
        let deadline = Date().addingTimeInterval(wrapper.isEmpty ? 30 : 300)
        while Date() < deadline {
            if let status = process?.exitStatus { throw BenchError("shennong exited with \(status): \(log())") }
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                httpPort = port
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError("shennong did not start: \(log())")
    }

    /// Waits until `/healthz` says MQTT is connected.
    func waitConnected() async throws {
        for _ in 0..<300 {
            if let text = try? await get("/healthz"), text.contains("\"mqtt\":\"connected\"") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("shennong did not connect to the broker")
    }

    /// SIGTERM and the exit status.
    func stop() -> Int32? {
        process?.signal(SIGTERM)
        return process?.wait(timeout: 300)
    }

    /// Peak resident memory in bytes (VmHWM).
    func peakRSS() -> Int {
        guard let pid = process?.pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// CPU time (user + system) the server has used so far, in seconds: a measure of its own
    /// work that other load on the machine disturbs less than wall time.
    func cpuSeconds() -> Double {
        guard let pid = process?.pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Current values of the server's Prometheus metrics (name{labels} -> value).
    func metrics() async throws -> [String: Double] {
        let text = try await get("/metrics")
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    /// Rules in force, from `shennong_rules_loaded` (0 with the rules stage off).
    func rulesLoaded() async throws -> Int {
        Int(try await metrics()["shennong_rules_loaded"] ?? 0)
    }

    func log() -> String { (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? "" }

    private func get(_ path: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!)
        request.timeoutInterval = 5
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }

    /// Readings in the database, counted by `shennong db stats` (on PostgreSQL: by the caller).
    func storedReadings() throws -> Int {
        if let postgres { return try postgres.countReadings() }
        let out = directory.appendingPathComponent("stats.json").path
        let process = try ChildProcess(executable: binary, arguments: ["db", "stats", "--db", databasePath, "--format", "json"], outputPath: out)
        process.wait(timeout: 120)
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [[String: Any]] ?? []
        guard let count = rows.first(where: { $0["item"] as? String == "readings" })?["value"] as? Int else {
            throw BenchError("db stats gave no reading count")
        }
        return count
    }
}
