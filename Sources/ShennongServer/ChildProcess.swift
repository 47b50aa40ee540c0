import Foundation

/// A child process started with `posix_spawn` with every signal unblocked and at its
/// default action, so that SIGTERM reaches it even though the server's threads block signals
/// (a child inherits the blocked mask through exec, and Foundation's `Process` does not reset it).
final class ChildProcess: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `pid` is immutable; `exited` is only touched under `lock`.
    let pid: pid_t
    private let lock = NSLock()
    private var exited = false

    /// - Parameter ownProcessGroup: put the child in a process group of its own, so that a
    ///   terminal's Ctrl-C (sent to the whole foreground group) reaches only the server, which
    ///   then stops the child in its own time.
    init(executable: String, arguments: [String], outputPath: String = "/dev/null", ownProcessGroup: Bool = true) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw ConfigError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
    }

    /// Whether the child is still running (reaps it once it has exited).
    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exited { return false }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid || rc == -1 { exited = true }
        return !exited
    }

    /// Sends `signal`; waits up to `grace` for the child to exit, then kills it.
    func stop(signal: Int32 = SIGTERM, grace: TimeInterval = 10) {
        guard isRunning else { return }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(grace)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(10_000) }
        }
    }
}
