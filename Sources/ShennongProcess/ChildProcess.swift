import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
private let sendSignal = Glibc.kill
#elseif canImport(Darwin)
import Darwin
private let sendSignal = Darwin.kill
#endif

/// A child process started with `posix_spawn` and reaped by this object (never by anyone else).
///
/// Foundation's `Process` passes on the parent's blocked signal mask (swift-service-lifecycle
/// and the test runner block SIGTERM in their threads, so a child started that way ignores
/// SIGTERM) and leaks descriptors into the child. Here the child gets an empty mask, default
/// signal actions, and no descriptor but 0, 1 and 2; optionally a process group of its own,
/// so that a terminal's Ctrl-C (sent to the whole foreground group) reaches only its parent,
/// which stops it in order.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The reaped exit status; `nil` while the child runs.
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` (a path) with `arguments`.
    ///
    /// - Parameters:
    ///   - standardInput: a descriptor to use as the child's stdin; `/dev/null` when `nil`.
    ///   - outputPath: stdout and stderr are appended here; discarded when `nil`.
    ///   - environment: added to (and overriding) this process's environment.
    ///   - ownProcessGroup: put the child in a new process group.
    public init(
        executable: String, arguments: [String], standardInput: Int32? = nil, outputPath: String? = nil,
        environment: [String: String] = [:], ownProcessGroup: Bool = false
    ) throws {
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
        for fd in open.compactMap({ Int32($0) }) where fd > 2 && fd != standardInput {
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
        if ownProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0)=\($1)") } + [nil]
        defer { envp.forEach { free($0) } }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw ChildProcessError(message: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        signal(SIGKILL)
        _ = wait(timeout: 5)
    }

    /// Whether the child is still running.
    public var isRunning: Bool { exitStatus == nil }

    /// The exit code, or 128 + the signal that ended it; `nil` while it runs.
    public var exitStatus: Int32? {
        status.withLock { status in
            if status == nil {
                var raw: Int32 = 0
                let result = waitpid(pid, &raw, WNOHANG)
                if result == pid {
                    let signal = raw & 0x7f
                    status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                } else if result < 0 && errno == ECHILD {
                    status = -1
                }
            }
            return status
        }
    }

    /// Sends `signal` unless the child has been reaped (its pid could belong to someone else).
    public func signal(_ signal: Int32) {
        if isRunning { _ = sendSignal(pid, signal) }
    }

    /// Waits up to `timeout` seconds; the exit status, or `nil` if it still runs.
    @discardableResult
    public func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while isRunning && Date() < deadline { usleep(5_000) }
        return exitStatus
    }

    /// SIGTERM (or `signal`), up to `grace` seconds to exit, then SIGKILL.
    public func stop(signal: Int32 = SIGTERM, grace: TimeInterval = 10) {
        guard isRunning else { return }
        self.signal(signal)
        if wait(timeout: grace) == nil {
            self.signal(SIGKILL)
            wait(timeout: 10)
        }
    }
}

/// A child process could not be started.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
