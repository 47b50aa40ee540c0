import Foundation
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
    // Invariant: `process`, `watchdog` and `watchdogWriteEnd` are only touched with `lock` held.

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
    private var watchdog: ChildProcess?
    private var watchdogWriteEnd: Int32 = -1

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
        if !process.wait(timeout: timeout) {
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
        try startWatchdog(for: broker.pid)

        let deadline = Date(timeIntervalSinceNow: startupTimeout)
        while Date() < deadline {
            if !broker.isRunning {
                let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                process = nil
                endWatchdog()
                throw TestBrokerError("mosquitto exited (wait status \(broker.waitStatus ?? -1)): \(stderr)\(log())")
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
    private func startWatchdog(for pid: Int32) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw TestBrokerError("pipe failed: \(String(cString: strerror(errno)))")
        }
        // Keep the write end out of every other child (Foundation's Process does not close it).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { close(fds[0]) }
        do {
            watchdog = try ChildProcess(
                executable: "/bin/sh",
                arguments: ["-c", "read dummy; kill -KILL \(pid) 2>/dev/null; exit 0"],
                standardInput: fds[0],
                outputPath: nil
            )
            watchdogWriteEnd = fds[1]
        } catch {
            close(fds[1])
            throw error
        }
    }

    /// Ends the watchdog without letting it signal anything (the broker is already gone).
    private func endWatchdog() {
        if let watchdog {
            watchdog.signal(SIGKILL)
            _ = watchdog.wait(timeout: 5)
        }
        if watchdogWriteEnd >= 0 {
            close(watchdogWriteEnd)
        }
        watchdog = nil
        watchdogWriteEnd = -1
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

/// A child started with `posix_spawn`, reaped by this object (never by anyone else).
///
/// Foundation's `Process` passes on the parent's signal mask (the test runner blocks SIGTERM in
/// its threads, so a broker started that way ignores SIGTERM) and leaks descriptors into the
/// child. Here the child gets an empty mask, default signal handlers and no descriptor but
/// 0, 1 and 2.
private final class ChildProcess {
    let pid: pid_t
    private(set) var waitStatus: Int32?

    init(executable: String, arguments: [String], standardInput: Int32?, outputPath: String?) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        #if os(Linux)
        // No descriptor but 0, 1 and 2 reaches the child (posix_spawn ignores EBADF on close).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        #endif

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw TestBrokerError("posix_spawn \(executable) failed: \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        signal(SIGKILL)
        _ = wait(timeout: 5)
    }

    var isRunning: Bool {
        reap()
        return waitStatus == nil
    }

    /// Sends `signal` unless the child has been reaped (its pid could belong to someone else).
    func signal(_ signal: Int32) {
        reap()
        if waitStatus == nil {
            sendSignal(pid, signal)
        }
    }

    /// Waits until the child has exited; `false` after `timeout`.
    func wait(timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while isRunning {
            if Date() >= deadline {
                return false
            }
            usleep(5_000)
        }
        return true
    }

    private func reap() {
        guard waitStatus == nil else { return }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            waitStatus = status
        } else if result < 0 && errno == ECHILD {
            waitStatus = -1
        }
    }
}
