import ShennongCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import ShennongProcess

/// A mosquitto broker the server starts for itself on loopback (`mqtt.broker: embedded`),
/// with persistence under its data directory, and stops when the server stops.
public final class EmbeddedBroker: Service, Sendable {
    public let port: Int
    private let dataDir: String
    private let executable: String
    private let logger: Logger
    /// The running mosquitto, once ``start()`` has started it.
    private let process = Mutex<ChildProcess?>(nil)

    public init(port: Int, dataDir: String, executable: String, logger: Logger) {
        self.port = port
        self.dataDir = dataDir
        self.executable = executable
        self.logger = logger
    }

    private var pidFile: String { dataDir + "/mosquitto.pid" }
    private var logFile: String { dataDir + "/mosquitto.log" }

    /// Writes the broker's config, stops a broker left over by an earlier run that was killed,
    /// starts mosquitto and waits until it accepts connections.
    public func start() throws {
        let dir = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        stopLeftover()
        let conf = """
            # Written by shennong serve for its embedded broker; see Config/mosquitto.conf for a production broker.
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence true
            persistence_location \(dir)/
            autosave_interval 30
            max_inflight_messages 40000
            max_queued_messages 1000000
            log_dest file \(dir)/mosquitto.log
            log_type error
            log_type warning
            log_type notice
            \(geteuid() == 0 ? "# as root, mosquitto would switch to the mosquitto user, who cannot write here\nuser root" : "")
            """
        let confPath = dir + "/mosquitto.conf"
        try conf.write(toFile: confPath, atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            executable: try Self.resolve(executable), arguments: ["-c", confPath], outputPath: dir + "/mosquitto.out",
            ownProcessGroup: true)
        self.process.withLock { $0 = process }
        try? "\(process.pid)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: port) {
                logger.info("embedded broker listening", metadata: ["port": "\(port)", "data": "\(dir)"])
                return
            }
            if !process.isRunning { break }
            usleep(50_000)
        }
        let output = [dir + "/mosquitto.out", logFile].compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
        let log = output.joined(separator: "\n").split(separator: "\n").suffix(6).joined(separator: "\n")
        process.stop()
        throw ConfigError("embedded mosquitto did not start on 127.0.0.1:\(port) (is the port taken?). \(log)")
    }

    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }

    /// Stops the broker (SIGTERM; it saves its persistence file) and waits for it.
    public func stop() {
        guard let process = process.withLock({ $0 }), process.isRunning else { return }
        process.stop()
        try? FileManager.default.removeItem(atPath: pidFile)
        logger.info("embedded broker stopped")
    }

    private func stopLeftover() {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            cmdline.contains("mosquitto")
        else { return }
        logger.warning("stopping a broker left over by an earlier run", metadata: ["pid": "\(pid)"])
        kill(pid, SIGTERM)
        for _ in 0..<200 where kill(pid, 0) == 0 { usleep(25_000) }
    }

    static func resolve(_ executable: String) throws -> String {
        if executable.contains("/") { return executable }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]) {
            let candidate = dir + "/" + executable
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ConfigError("\(executable) not found; install it (apt-get install mosquitto) or set mqtt.embedded.executable")
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
