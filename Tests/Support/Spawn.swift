import Foundation

/// A child process for tests, started with `posix_spawn` with signals unblocked and at
/// their defaults (so SIGTERM and SIGKILL behave as they would from a shell), its output
/// appended to a file.
public final class Spawned: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `pid` is immutable; `status` is only touched under `lock`.
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    public init(_ executable: String, _ arguments: [String], output: String, environment: [String: String] = [:]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let envp = env.map { strdup("\($0)=\($1)") } + [nil]
        defer { envp.forEach { free($0) } }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw TestBrokerError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    deinit {
        if isRunning {
            Glibc.kill(pid, SIGKILL)
            _ = wait(timeout: 5)
        }
    }

    /// Whether the process is still running (reaps it once it has exited).
    public var isRunning: Bool { poll() == nil }

    /// The exit status (or 128 + signal) once exited, `nil` while running.
    public func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        let rc = waitpid(pid, &raw, WNOHANG)
        guard rc == pid else { return nil }
        let signal = raw & 0x7f
        status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return status
    }

    /// Waits up to `timeout` seconds for the exit status.
    public func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = poll() { return status }
            usleep(10_000)
        }
        return poll()
    }

    public func signal(_ signal: Int32) { Glibc.kill(pid, signal) }
}

/// The result of one CLI run.
public struct CLIResult: Sendable {
    public var status: Int32
    public var output: String
}

/// Where the `shennong` binary under test is: `SHENNONG_BIN` (set by `make test`), else the
/// debug build of this package.
public enum ShennongBinary {
    public static var path: String {
        if let path = ProcessInfo.processInfo.environment["SHENNONG_BIN"], !path.isEmpty { return path }
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/shennong").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return ".build/debug/shennong"
    }

    /// The repository root (where `devices/` lives).
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("devices/generic.yaml").path) {
                return url
            }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// Runs the CLI with `arguments` and waits (at most `timeout` seconds) for it to finish.
    public static func run(_ arguments: [String], timeout: TimeInterval = 60, environment: [String: String] = [:]) throws
        -> CLIResult
    {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-cli-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try Spawned(path, arguments, output: output, environment: environment)
        guard let status = process.wait(timeout: timeout) else {
            process.signal(SIGKILL)
            throw TestBrokerError("shennong \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
        }
        return CLIResult(status: status, output: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
