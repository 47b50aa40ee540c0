import Foundation
import ShennongProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `kill(2)`, named apart from ``TestBroker/kill()``.
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #elseif canImport(Musl)
    _ = Musl.kill(pid, signal)
    #elseif canImport(Darwin)
    _ = Darwin.kill(pid, signal)
    #endif
}

/// Why a ``TestBroker`` could not start.
public struct TestBrokerError: Error, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "TestBroker: \(message)" }
}

/// A real `mosquitto` on a free loopback port, with its config, persistence and log in a temp dir.
///
/// The broker listens on 127.0.0.1 only, allows anonymous clients, raises
/// `max_inflight_messages` to 1000 and `max_queued_messages` to 1,000,000, and (with
/// `persistence`) saves its database every second and on SIGTERM. ``restart()`` comes back on
/// the same port with the same database. The process always ends: ``stop()`` (SIGTERM),
/// ``kill()`` (SIGKILL), `deinit`, and a watchdog shell that SIGKILLs the broker as soon as the
/// test process exits, however it exits (it waits on a pipe only the test process writes).
///
/// The executable is `$MOSQUITTO` if set, else the first of `/usr/sbin/mosquitto`,
/// `/usr/local/sbin/mosquitto`, `/opt/homebrew/sbin/mosquitto`, `mosquitto` on `PATH`.
public final class TestBroker: @unchecked Sendable {
    // Invariant: `process` and `watchdog` are only touched with `lock` held.

    /// The host to connect to: always `127.0.0.1`.
    public let host = "127.0.0.1"
    /// The loopback port, kept across ``restart()``.
    public let port: Int
    /// Whether the broker keeps a persistence database (sessions and queued messages).
    public let persistence: Bool
    /// The temporary directory with `mosquitto.conf`, `mosquitto.log` and the database.
    public let directory: URL

    private let executable: URL
    private let startupTimeout: TimeInterval
    private let lock = NSLock()
    private var process: ChildProcess?
    private var watchdog: ProcessWatchdog?

    /// Writes the configuration and starts the broker; returns once the port accepts TCP.
    ///
    /// - Parameters:
    ///   - persistence: keep sessions and queued messages in a database in ``directory``.
    ///   - port: the loopback port to listen on; a free one when `nil`.
    ///   - extraConfiguration: more `mosquitto.conf` lines, appended as they are.
    ///   - startupTimeout: how long to wait for the port to accept connections.
    public init(
        persistence: Bool = true,
        port: Int? = nil,
        extraConfiguration: [String] = [],
        startupTimeout: TimeInterval = 10
    ) throws {
        guard let executable = TestBroker.findMosquitto() else {
            throw TestBrokerError("mosquitto not found (install the mosquitto package or set MOSQUITTO)")
        }
        self.executable = executable
        self.persistence = persistence
        self.startupTimeout = startupTimeout
        self.port = port ?? freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("shennong-mosquitto-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try configuration(extra: extraConfiguration).write(to: configURL, atomically: true, encoding: .utf8)
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The generated `mosquitto.conf`.
    public var configURL: URL { directory.appendingPathComponent("mosquitto.conf") }
    /// The broker's log file.
    public var logURL: URL { directory.appendingPathComponent("mosquitto.log") }

    /// The broker's log so far (for failure messages).
    public func log() -> String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// Whether the broker process is alive.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return process?.isRunning ?? false
    }

    /// The broker's process id while it runs.
    public var processIdentifier: Int32? {
        lock.lock()
        defer { lock.unlock() }
        guard let process, process.isRunning else { return nil }
        return process.pid
    }

    /// Stops the broker with SIGTERM (it saves its database), waiting up to `timeout` before SIGKILL.
    public func stop(timeout: TimeInterval = 10) {
        lock.lock()
        defer { lock.unlock() }
        guard let process else { return }
        process.signal(SIGTERM)
        if process.wait(timeout: timeout) == nil {
            process.signal(SIGKILL)
            _ = process.wait(timeout: 5)
        }
        self.process = nil
        endWatchdog()
    }

    /// Kills the broker with SIGKILL (nothing is saved since the last autosave).
    public func kill() {
        lock.lock()
        defer { lock.unlock() }
        guard let process else { return }
        process.signal(SIGKILL)
        _ = process.wait(timeout: 5)
        self.process = nil
        endWatchdog()
    }

    /// Stops the broker (SIGTERM) if it runs and starts it again on the same port and database.
    public func restart() throws {
        stop()
        try start()
    }

    /// Starts the broker process if it is not running; returns once the port accepts TCP.
    public func start() throws {
        lock.lock()
        defer { lock.unlock() }
        if let process, process.isRunning {
            return
        }
        let stderrPath = directory.appendingPathComponent("stderr.log").path
        let broker = try ChildProcess(
            executable: executable.path,
            arguments: ["-c", configURL.path],
            standardInput: nil,
            outputPath: stderrPath
        )
        process = broker
        watchdog = try ProcessWatchdog(pid: broker.pid)

        let deadline = Date(timeIntervalSinceNow: startupTimeout)
        while Date() < deadline {
            if !broker.isRunning {
                let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                process = nil
                endWatchdog()
                throw TestBrokerError("mosquitto exited (status \(broker.exitStatus ?? -1)): \(stderr)\(log())")
            }
            if loopbackPortAcceptsConnections(port) {
                return
            }
            usleep(20_000)
        }
        broker.signal(SIGKILL)
        _ = broker.wait(timeout: 5)
        process = nil
        endWatchdog()
        throw TestBrokerError("mosquitto did not accept connections on port \(port) within \(startupTimeout) s\n\(log())")
    }

    // MARK: - Private (lock held)

    private func configuration(extra: [String]) -> String {
        var lines = [
            "listener \(port) 127.0.0.1",
            "allow_anonymous true",
            "persistence \(persistence)",
            "persistence_location \(directory.path)/",
            "persistence_file mosquitto.db",
            "autosave_interval 1",
            "max_inflight_messages 1000",
            "max_queued_messages 1000000",
            "log_dest file \(logURL.path)",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %H:%M:%S",
        ]
        if geteuid() == 0 {
            // As root mosquitto would switch to the `mosquitto` user, which cannot write here.
            lines.append("user root")
        }
        lines.append(contentsOf: extra)
        return lines.joined(separator: "\n") + "\n"
    }

    /// A shell that blocks reading a pipe whose only writer is this process, then SIGKILLs the
    /// broker: when the test process dies, however it dies, the pipe closes and the broker goes.
    /// Ends the watchdog without letting it signal anything (the broker is already gone).
    private func endWatchdog() {
        watchdog?.end()
        watchdog = nil
    }

    private static func findMosquitto() -> URL? {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["MOSQUITTO"], !explicit.isEmpty {
            candidates.append(explicit)
        }
        candidates += ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"]
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/mosquitto" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }
}
