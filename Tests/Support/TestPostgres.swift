import Foundation
import ShennongProcess
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a ``TestPostgres`` could not start.
public struct TestPostgresError: Error, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "TestPostgres: \(message)" }
}

/// A real PostgreSQL server for tests: `initdb` in a temporary directory, `postgres` on a
/// free loopback port, trust authentication for the user `shennong`, one fresh database per
/// ``createDatabase()``.
///
/// PostgreSQL refuses to run as root: when the tests run as root (CI), `initdb` and `postgres`
/// run as the unprivileged user `nobody` (through `setpriv`), in a directory handed to it; as
/// any other user they run as that user. Unless `durable`, the server is tuned for tests
/// (`fsync=off`, asynchronous commit): its data is thrown away.
///
/// ``shared()`` starts one server for the whole test process; it ends with the process
/// however the process ends (a watchdog shell blocks on a pipe only the test process writes,
/// then stops the server and removes its directory). ``stop()`` ends one earlier.
///
/// The binaries are `$SHENNONG_PG_BIN/{initdb,postgres,createdb}` if set, else Debian's
/// `/usr/lib/postgresql/15/bin` (or the newest `/usr/lib/postgresql/*/bin`).
public final class TestPostgres: Sendable {
    /// Always `127.0.0.1`.
    public let host = "127.0.0.1"
    public let port: Int
    /// The superuser the server was initialised with (trust authentication on loopback).
    public let user = "shennong"
    /// The temporary directory holding the data directory, the socket and `postgres.log`.
    public let directory: URL
    private let bin: String
    private let process: ChildProcess
    private let watchdog: ProcessWatchdog
    private let counter = Mutex(0)
    private let stopped = Mutex(false)

    private static let sharedServer = Mutex<Result<TestPostgres, TestPostgresError>?>(nil)

    /// The server of this test process, started on first use.
    public static func shared() throws -> TestPostgres {
        try sharedServer.withLock { server in
            if server == nil {
                do {
                    server = .success(try TestPostgres())
                } catch let error as TestPostgresError {
                    server = .failure(error)
                } catch {
                    server = .failure(TestPostgresError("\(error)"))
                }
            }
            return try server!.get()
        }
    }

    /// Initialises a cluster and starts its server; returns once it accepts connections.
    /// `durable`: commits are fsynced as in production (benchmarks); tests leave it off.
    public init(durable: Bool = false, startupTimeout: TimeInterval = 30) throws {
        guard let bin = Self.findBinaries() else {
            throw TestPostgresError(
                "PostgreSQL server binaries not found (install postgresql-15, or set SHENNONG_PG_BIN to their directory)")
        }
        self.bin = bin
        port = freeLoopbackPort()
        // As root the server runs as `nobody`, which must reach the directory: /tmp, not $TMPDIR.
        let temporary = geteuid() == 0 ? URL(fileURLWithPath: "/tmp") : FileManager.default.temporaryDirectory
        directory = temporary.appendingPathComponent("shennong-pg-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = directory.appendingPathComponent("data").path
        let log = directory.appendingPathComponent("postgres.log").path
        // As root, hand the directory to `nobody` and run the server as it.
        var asUser = ""
        if geteuid() == 0 {
            guard let nobody = getpwnam("nobody") else { throw TestPostgresError("no user nobody to run PostgreSQL as") }
            let uid = nobody.pointee.pw_uid
            let gid = nobody.pointee.pw_gid
            guard chown(directory.path, uid, gid) == 0 else {
                throw TestPostgresError("cannot hand \(directory.path) to nobody: \(String(cString: strerror(errno)))")
            }
            // The directory's parents must be searchable by nobody (the temp dir is).
            asUser = "/usr/bin/setpriv --reuid=\(uid) --regid=\(gid) --clear-groups -- "
        }
        let dir = Self.quote(directory.path)
        let initdb = try ChildProcess(
            executable: "/bin/sh",
            arguments: [
                "-c",
                "cd \(dir) && exec \(asUser)\(Self.quote(bin + "/initdb")) -D \(Self.quote(data)) -U \(user) "
                    + "--auth=trust --encoding=UTF8 --locale=C -N",
            ],
            outputPath: directory.appendingPathComponent("initdb.log").path)
        guard initdb.wait(timeout: 120) == 0 else {
            initdb.signal(SIGKILL)
            let output = (try? String(contentsOf: directory.appendingPathComponent("initdb.log"), encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: directory)
            throw TestPostgresError("initdb failed:\n\(output)")
        }
        var options = [
            "listen_addresses=127.0.0.1", "unix_socket_directories=\(directory.path)", "max_connections=300",
            "shared_buffers=128MB", "log_min_messages=warning",
        ]
        if !durable { options += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] }
        let settings = options.map { "-c \(Self.quote($0))" }.joined(separator: " ")
        process = try ChildProcess(
            executable: "/bin/sh",
            arguments: [
                "-c", "cd \(dir) && exec \(asUser)\(Self.quote(bin + "/postgres")) -D \(Self.quote(data)) -p \(port) \(settings)",
            ],
            outputPath: log)
        // When the test process dies, however it dies, the server goes (SIGQUIT: immediate
        // shutdown, then SIGKILL) and its directory with it.
        watchdog = try ProcessWatchdog(pid: process.pid, gently: "QUIT", cleanup: "rm -rf \(Self.quote(directory.path))")

        let deadline = Date(timeIntervalSinceNow: startupTimeout)
        while Date() < deadline {
            if !process.isRunning {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw TestPostgresError("postgres exited (status \(process.exitStatus ?? -1)):\n\(output)")
            }
            if loopbackPortAcceptsConnections(port), (try? run("createdb", ["shennong_ready"])) != nil {
                return
            }
            usleep(50_000)
        }
        stop()
        throw TestPostgresError("postgres did not accept connections on port \(port) within \(startupTimeout) s")
    }

    /// Creates a new empty database and returns its URL (`postgres://shennong@127.0.0.1:PORT/NAME`).
    public func createDatabase() throws -> String {
        let n = counter.withLock { n in
            n += 1
            return n
        }
        let name = "t\(n)_\(UUID().uuidString.prefix(8).lowercased())"
        try run("createdb", [name])
        return "postgres://\(user)@\(host):\(port)/\(name)"
    }

    /// The server's major version (`PG_VERSION` of its data directory).
    public var version: String {
        ((try? String(contentsOf: directory.appendingPathComponent("data/PG_VERSION"), encoding: .utf8)) ?? "?")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The server's log so far.
    public func log() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("postgres.log"), encoding: .utf8)) ?? ""
    }

    /// Stops the server (fast shutdown) and removes its directory.
    public func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        process.signal(SIGINT)
        if process.wait(timeout: 10) == nil {
            process.signal(SIGKILL)
            _ = process.wait(timeout: 5)
        }
        watchdog.end()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a client program of the server's (`createdb`, `psql`) against it; throws unless it exits 0.
    @discardableResult
    public func run(_ program: String, _ arguments: [String]) throws -> String {
        let output = directory.appendingPathComponent("client-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let client = try ChildProcess(
            executable: bin + "/" + program, arguments: ["-h", host, "-p", "\(port)", "-U", user] + arguments,
            outputPath: output)
        let status = client.wait(timeout: 60)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            client.signal(SIGKILL)
            throw TestPostgresError("\(program) \(arguments.joined(separator: " ")) failed (\(status ?? -1)): \(text)")
        }
        return text
    }

    private static func quote(_ s: String) -> String { ProcessWatchdog.quote(s) }

    private static func findBinaries() -> String? {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["SHENNONG_PG_BIN"], !explicit.isEmpty {
            return fm.isExecutableFile(atPath: explicit + "/postgres") ? explicit : nil
        }
        if fm.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/postgres") { return "/usr/lib/postgresql/15/bin" }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        return versions.reversed().map { "/usr/lib/postgresql/\($0)/bin" }
            .first { fm.isExecutableFile(atPath: $0 + "/postgres") }
    }
}
