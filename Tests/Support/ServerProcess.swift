import Foundation
import ShennongProcess
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `shennong serve` process for integration tests: its own temporary directory,
/// SQLite file and config, an external broker, HTTP on a free port (port 0, read back from
/// the port file), and an admin token. The process is killed when this object goes away.
public final class ServerProcess: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used from one test at a time.
    public let directory: URL
    public let brokerPort: Int
    /// The admin token (created in the SQLite file; a test on PostgreSQL sets its own).
    public var token: String
    public private(set) var httpPort = 0
    private var process: ChildProcess?
    /// Kills the server if the test process dies first (a crash leaves no `deinit` to run).
    private var watchdog: ProcessWatchdog?

    public let databasePath: String
    public var configPath: String { directory.appendingPathComponent("shennong.yaml").path }
    public var logPath: String { directory.appendingPathComponent("server.log").path }
    private var portFile: String { directory.appendingPathComponent("http.port").path }
    public var baseURL: String { "http://127.0.0.1:\(httpPort)" }

    /// Writes the config (`extraYAML` is appended under the top level) and creates a token;
    /// call ``start()`` to run the server.
    /// With `embedded: true` the server starts its own mosquitto on `brokerPort`, with its data
    /// under this server's directory.
    /// With `database` the server starts on a copy of that file (a backup, say).
    /// `extraYAML` is appended at the top level (a `rules:` or `trace:` section, say);
    /// `mqttYAML` under `mqtt:` (credentials and TLS, say), `httpYAML` under `http:`.
    /// `databasePath` puts the database elsewhere than this server's directory (a small file system, say);
    /// `databaseYAML` goes under `database:` (a PostgreSQL `url:`, say).
    /// `profilesDir` replaces the repository's `devices/` (profiles with short command timeouts, say).
    public init(
        brokerPort: Int, ingestYAML: String = "", embedded: Bool = false, database: String? = nil, extraYAML: String = "",
        mqttYAML: String = "", databasePath: String? = nil, httpYAML: String = "", databaseYAML: String = "",
        profilesDir: String? = nil
    ) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("shennong-server-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let dbPath = databasePath ?? directory.appendingPathComponent("shennong.db").path
        self.databasePath = dbPath
        if let database {
            try FileManager.default.copyItem(atPath: database, toPath: dbPath)
        }
        self.brokerPort = brokerPort
        let config = """
            mqtt:
              broker: \(embedded ? "embedded" : "external")
              host: 127.0.0.1
              port: \(brokerPort)
              client_id: shennong-test-ingest
            \(mqttYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
              embedded:
                port: \(brokerPort)
                data_dir: \(directory.appendingPathComponent("mosquitto").path)
            ingest:
            \(ingestYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
              max_batch: 5000
            database:
              path: \(dbPath)
            \(databaseYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            storage:
              # Test data carries 2025 timestamps: no retention pass may run under a test.
              maintenance_interval: "off"
            http:
              host: 127.0.0.1
              port: 0
              port_file: \(directory.appendingPathComponent("http.port").path)
            \(httpYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            profiles_dir: \(profilesDir ?? ShennongBinary.repositoryRoot.appendingPathComponent("devices").path)
            \(extraYAML)
            """
        try config.write(toFile: directory.appendingPathComponent("shennong.yaml").path, atomically: true, encoding: .utf8)
        let created = try ShennongBinary.run([
            "tokens", "create", "--role", "admin", "--name", "integration-test", "--db",
            dbPath,
        ])
        guard created.status == 0, let line = created.output.split(separator: "\n").last(where: { $0.hasPrefix("snk_") }) else {
            throw TestBrokerError("tokens create failed: \(created.output)")
        }
        token = String(line)
    }

    deinit {
        process?.signal(SIGKILL)
        _ = process?.wait(timeout: 5)
        endWatchdog()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server and waits until HTTP answers and (with `requireMQTT`) MQTT is connected.
    public func start(timeout: TimeInterval = 30, requireMQTT: Bool = true) async throws {
        try? FileManager.default.removeItem(atPath: portFile)
        process = try ChildProcess(executable: ShennongBinary.path, arguments: ["serve", "--config", configPath], outputPath: logPath)
        endWatchdog()
        watchdog = try ProcessWatchdog(pid: process!.pid)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let exited = process?.exitStatus {
                throw TestBrokerError("server exited with \(exited) at start:\n\(log())")
            }
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), port > 0
            {
                httpPort = port
                if let health = try? await get("/healthz"), !requireMQTT || health.json["mqtt"] as? String == "connected" {
                    return
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        // Once more past the deadline: a test task held up longer than `timeout` by the tests
        // running beside it (two cores) must not call a healthy server unhealthy.
        if process?.exitStatus == nil, let text = try? String(contentsOfFile: portFile, encoding: .utf8),
            let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), port > 0
        {
            httpPort = port
            if let health = try? await get("/healthz"), !requireMQTT || health.json["mqtt"] as? String == "connected" { return }
        }
        throw TestBrokerError("server did not become healthy in \(timeout) s:\n\(log())")
    }

    /// SIGKILL: no drain, no goodbye.
    public func kill() {
        process?.signal(SIGKILL)
        _ = process?.wait(timeout: 10)
        endWatchdog()
    }

    /// SIGTERM, then the exit status (nil if it did not exit within `timeout`).
    public func terminate(timeout: TimeInterval = 30) -> Int32? {
        process?.signal(SIGTERM)
        let status = process?.wait(timeout: timeout)
        if status != nil { endWatchdog() }
        return status
    }

    /// Ends the watchdog once the server is gone: it must not signal a pid the system may reuse.
    private func endWatchdog() {
        watchdog?.end()
        watchdog = nil
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// Sends `signal` (SIGSTOP, SIGCONT…) to the server.
    public func send(_ signal: Int32) { process?.signal(signal) }

    /// The exit status once the server has exited, else `nil`.
    public var exitStatus: Int32? { process?.exitStatus }

    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// GET `path` (with the admin token) and the decoded JSON object.
    public func get(_ path: String, authorized: Bool = true) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.timeoutInterval = 10
        if authorized { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    /// GET `path` without a token, as text.
    public func text(_ path: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: baseURL + path)!)
        return String(decoding: data, as: UTF8.self)
    }

    /// A staff CLI command against this server (adds --server and --token).
    public func cli(_ arguments: [String]) throws -> CLIResult {
        try ShennongBinary.run(arguments + ["--server", baseURL, "--token", token])
    }

    /// The number of stored readings, from `shennong db stats` on the live database file.
    public func storedReadings() throws -> Int {
        let result = try ShennongBinary.run(["db", "stats", "--db", databasePath, "--format", "json"])
        guard result.status == 0,
            let rows = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]],
            let count = rows.first(where: { $0["item"] as? String == "readings" })?["value"] as? Int
        else { throw TestBrokerError("db stats failed: \(result.output)") }
        return count
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
public func eventually(
    timeout: TimeInterval, interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
