import Foundation
import ShennongProcess

/// A shell that ends a process the tests started when the test process ends, however it
/// ends (a crash, SIGKILL, a failed `#require` that skips the cleanup): it blocks reading a
/// pipe whose only writer is this process, and runs `then` once the pipe closes.
///
/// ``end()`` stops the shell without letting it act (the process is already gone).
///
/// Invariant for @unchecked Sendable: ``end()`` is called by the owner, which holds its own
/// lock or is used from one test at a time; the shell and the file descriptor are not touched
/// elsewhere.
public final class ProcessWatchdog: @unchecked Sendable {
    private var shell: ChildProcess?
    private var writeEnd: Int32

    /// Watches `pid`: SIGKILL once the test process is gone, after `gently` (a signal name
    /// such as `TERM` or `QUIT`) and up to five seconds for it to exit, then `cleanup` (shell
    /// lines, e.g. removing the process's directory).
    public init(pid: Int32, gently: String? = nil, cleanup: String = "") throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TestBrokerError("pipe failed: \(String(cString: strerror(errno)))") }
        // Keep the write end out of every other child (Foundation's Process does not close it).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { close(fds[0]) }
        var script = "read dummy; "
        if let gently {
            script += """
                kill -\(gently) \(pid) 2>/dev/null; i=0
                while kill -0 \(pid) 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done

                """
        }
        script += "kill -KILL \(pid) 2>/dev/null; \(cleanup)\nexit 0"
        do {
            shell = try ChildProcess(executable: "/bin/sh", arguments: ["-c", script], standardInput: fds[0], outputPath: nil)
            writeEnd = fds[1]
        } catch {
            close(fds[1])
            throw error
        }
    }

    deinit { end() }

    /// Ends the shell without letting it signal anything.
    public func end() {
        if let shell {
            shell.signal(SIGKILL)
            _ = shell.wait(timeout: 5)
        }
        if writeEnd >= 0 { close(writeEnd) }
        shell = nil
        writeEnd = -1
    }

    /// `s` quoted for the shell.
    public static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
