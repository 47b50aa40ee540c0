// TraceBench (`make bench`): the consumer trace page under concurrent load on loopback.
//
// A real `shennong serve` (release build) on a real mosquitto, with a producer, a plot, a
// batch with its certificate, inspection and stage events, and `--codes` issued codes. N
// client threads, each with one keep-alive HTTP/1.1 connection over a plain socket, send
// requests back to back for `--seconds` after a warm-up: first GET /healthz (the floor: no
// database work), then GET /t/{code} on random issued codes (HMAC check, code lookup, chain
// decode, scan count, Mustache render), then GET /api/v1/trace/{code}. Reported per target:
// requests per second, p50 / p99 / max latency, errors; and the trace page beside /healthz.
// `--postgres`: the same again on the PostgreSQL engine, and the trace page's rate beside SQLite's.
import Foundation
import ShennongTestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Options {
    var shennong: String?
    var clients = 16
    var seconds = 10.0
    var warmup = 2.0
    var codes = 100_000
    /// Also run the same on the PostgreSQL engine (a server the bench starts), after SQLite.
    var postgres = false

    init(_ arguments: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw BenchError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--shennong": shennong = try value()
            case "--clients": clients = Int(try value()) ?? clients
            case "--seconds": seconds = Double(try value()) ?? seconds
            case "--warmup": warmup = Double(try value()) ?? warmup
            case "--codes": codes = Int(try value()) ?? codes
            case "--postgres": postgres = true
            default:
                throw BenchError("unknown argument \(arguments[i]) (--shennong PATH --clients N --seconds S --warmup S --codes N --postgres)")
            }
            i += 1
        }
    }
}

/// One keep-alive HTTP/1.1 connection on a blocking socket.
final class Connection {
    let fd: Int32
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw BenchError("connect: \(errno)") }
    }

    deinit { close(fd) }

    /// Sends one GET and reads the whole response; returns the status code.
    func get(_ path: String) throws -> Int {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: TraceBench\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchError("send: \(errno)") }
            sent += n
        }
        // Headers.
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = find([13, 10, 13, 10], in: pending)
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: pending[..<headerEnd!], as: UTF8.self)
        pending.removeFirst(headerEnd! + 4)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
            let status = Int(statusLine.split(separator: " ")[1])
        else { throw BenchError("bad status line: \(head.prefix(80))") }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) }
            if lower.hasPrefix("transfer-encoding:") && lower.contains("chunked") { chunked = true }
        }
        if let length {
            while pending.count < length { try fill() }
            pending.removeFirst(length)
        } else if chunked {
            while true {
                var lineEnd = find([13, 10], in: pending)
                while lineEnd == nil {
                    try fill()
                    lineEnd = find([13, 10], in: pending)
                }
                let size = Int(String(decoding: pending[..<lineEnd!], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
                pending.removeFirst(lineEnd! + 2)
                while pending.count < size + 2 { try fill() }
                pending.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            throw BenchError("response without length")
        }
        return status
    }

    private func fill() throws {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw BenchError("connection closed (\(errno))") }
        pending.append(contentsOf: buffer[..<n])
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

struct Result {
    var name: String
    var requests: Int
    var errors: Int
    var seconds: Double
    var latencies: [UInt64]

    var rate: Double { Double(requests) / seconds }
    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let i = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
        return Double(latencies[max(i, 0)]) / 1e6
    }
}

/// N threads, each on its own connection, requesting `paths(i)` back to back; latencies of
/// requests started after the warm-up and before the end.
func load(name: String, port: Int, clients: Int, warmup: Double, seconds: Double, path: @escaping @Sendable (Int) -> String) throws
    -> Result
{
    let collected = Mutex<(latencies: [UInt64], errors: Int, failure: String?)>(([], 0, nil))
    let start = nowNanos()
    let measureFrom = start + UInt64(warmup * 1e9)
    let end = measureFrom + UInt64(seconds * 1e9)
    let done = DispatchGroup()
    for c in 0..<clients {
        done.enter()
        let thread = Thread {
            defer { done.leave() }
            var latencies: [UInt64] = []
            latencies.reserveCapacity(200_000)
            var errors = 0
            do {
                let connection = try Connection(port: port)
                var i = c
                while true {
                    let t = nowNanos()
                    if t >= end { break }
                    let status = try connection.get(path(i))
                    let elapsed = nowNanos() - t
                    if t >= measureFrom {
                        if status == 200 { latencies.append(elapsed) } else { errors += 1 }
                    }
                    i += clients
                }
            } catch {
                collected.withLock { $0.failure = "\(error)" }
            }
            collected.withLock {
                $0.latencies += latencies
                $0.errors += errors
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    done.wait()
    let (latencies, errors, failure) = collected.withLock { ($0.latencies, $0.errors, $0.failure) }
    if let failure { throw BenchError("\(name): \(failure)") }
    return Result(name: name, requests: latencies.count, errors: errors, seconds: seconds, latencies: latencies.sorted())
}

func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

func run() async throws {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    if let shennong = options.shennong { setenv("SHENNONG_BIN", shennong, 1) }
    print("TraceBench: \(options.clients) keep-alive clients, \(fmt(options.warmup, 0)) s warm-up + \(fmt(options.seconds, 0)) s per target, \(options.codes) codes; server \(ShennongBinary.path)")
    let broker = try TestBroker(persistence: false)
    let sqlite = try await measure(options, broker: broker, databaseYAML: "")
    guard options.postgres else { return }
    let database = try TestPostgres(durable: true)
    defer { database.stop() }
    print("")
    print("PostgreSQL engine (postgres \(database.version), loopback, durable commits):")
    let postgres = try await measure(options, broker: broker, databaseYAML: "url: \(try database.createDatabase())")
    print("")
    print("trace page on PostgreSQL / on SQLite: \(fmt(postgres.page.rate / sqlite.page.rate)) of the requests per second (\(fmt(postgres.page.rate, 0)) / \(fmt(sqlite.page.rate, 0))), p99 \(fmt(postgres.page.percentile(0.99) / sqlite.page.percentile(0.99))) x")
    print("trace JSON on PostgreSQL / on SQLite: \(fmt(postgres.json.rate / sqlite.json.rate)) of the requests per second")
}

/// One server on the engine `databaseYAML` names (empty: SQLite), set up and measured.
func measure(_ options: Options, broker: TestBroker, databaseYAML: String) async throws -> (healthz: Result, page: Result, json: Result) {
    let templates = ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/trace").path
    let server = try ServerProcess(
        brokerPort: broker.port,
        extraYAML: "trace:\n  public_base_url: https://trace.example.cn\n  templates_dir: \(templates)\n  clone_scan_limit: 1000000000",
        // The bench is one client hammering the public pages: no per-client rate limit.
        httpYAML: "rate_limit:\n  per_minute: 0", databaseYAML: databaseYAML)
    if !databaseYAML.isEmpty {
        // The server's admin token was created in a SQLite file: one in the server's database instead.
        let created = try ShennongBinary.run(["tokens", "create", "--role", "admin", "--name", "trace-bench", "--config", server.configPath])
        guard created.status == 0, let secret = created.output.split(separator: "\n").last(where: { $0.hasPrefix("snk_") }) else {
            throw BenchError("tokens create: \(created.output)")
        }
        server.token = String(secret)
    }
    try await server.start()

    func cli(_ arguments: [String]) throws {
        let result = try server.cli(arguments)
        guard result.status == 0 else { throw BenchError("\(arguments.prefix(3).joined(separator: " ")): \(result.output)") }
    }
    try cli([
        "trace", "producer", "add", "--id", "P1", "--name", "连州市丰收蔬菜专业合作社", "--credit-code", "91350100M000100Y43",
        "--area-code", "441882", "--contact", "陈伟", "--phone", "13812341234", "--address", "清远市连州市保安镇",
    ])
    try cli([
        "trace", "plot", "add", "--id", "PLOT1", "--producer", "P1", "--name", "卿罡村3号地", "--location", "广东省清远市连州市保安镇卿罡村",
        "--area-code", "441882", "--area", "12.5", "--device", "soil-1", "--device", "wx-1",
    ])
    try cli([
        "trace", "batch", "create", "--id", "B1", "--plot", "PLOT1", "--product", "连州菜心", "--quantity", "500", "--planted",
        "2025-09-01", "--gtin", "09521234543213",
    ])
    try cli(["trace", "certificate", "--batch", "B1", "--basis", "自行检测合格"])
    try cli([
        "trace", "inspection", "add", "--batch", "B1", "--sample", "菜心", "--item", "农药残留速测", "--result", "合格", "--lab",
        "连州市农产品质量检测站", "--date", "2025-11-03",
    ])
    for (i, input) in ["fertiliser:复合肥::30 kg/亩", "pesticide:阿维菌素:7:30 mL/亩", "fertiliser:有机肥::200 kg/亩"].enumerated() {
        try cli([
            "trace", "event", "add", "--batch", "B1", "--stage", "production", "--action", "input", "--party", "陈伟", "--time",
            "2025-10-0\(i + 1)", "--place", "卿罡村3号地", "--input", input,
        ])
    }
    for (action, stage, day) in [("harvest", "production", "05"), ("packing", "processing", "06"), ("shipping", "distribution", "06"), ("receiving", "distribution", "07"), ("retail_selling", "sales", "07")] {
        try cli([
            "trace", "event", "add", "--batch", "B1", "--stage", stage, "--action", action, "--party", "连州农产品公司", "--time",
            "2025-11-\(day)", "--place", "连州",
        ])
    }
    let csv = server.directory.appendingPathComponent("codes.csv").path
    let issueStart = Date()
    try cli(["trace", "issue", "--batch", "B1", "--count", String(options.codes), "--out", csv])
    let issueSeconds = Date().timeIntervalSince(issueStart)
    let codes = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
    guard codes.count == options.codes else { throw BenchError("issued \(codes.count) codes") }
    print("set-up: batch with 13 records; \(codes.count) codes issued through the CLI in \(fmt(issueSeconds)) s")

    let port = server.httpPort
    let healthz = try load(name: "GET /healthz", port: port, clients: options.clients, warmup: options.warmup, seconds: options.seconds) { _ in "/healthz" }
    let page = try load(name: "GET /t/{code}", port: port, clients: options.clients, warmup: options.warmup, seconds: options.seconds) {
        "/t/" + codes[($0 &* 7919) % codes.count]
    }
    let json = try load(name: "GET /api/v1/trace/{code}", port: port, clients: options.clients, warmup: options.warmup, seconds: options.seconds) {
        "/api/v1/trace/" + codes[($0 &* 104_729) % codes.count]
    }

    print("")
    print("target                      requests    req/s   p50 ms   p99 ms   max ms  errors")
    for r in [healthz, page, json] {
        print(
            r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(r.requests).leftPad(10) + fmt(r.rate, 0).leftPad(9) + fmt(r.percentile(0.5)).leftPad(9)
                + fmt(r.percentile(0.99)).leftPad(9) + fmt(r.percentile(1.0)).leftPad(9) + String(r.errors).leftPad(8))
    }
    print("")
    print("trace page / healthz: \(fmt(page.rate / healthz.rate)) of the requests per second, p99 \(fmt(page.percentile(0.99) / healthz.percentile(0.99))) x")
    print("trace JSON / healthz: \(fmt(json.rate / healthz.rate)) of the requests per second, p99 \(fmt(json.percentile(0.99) / healthz.percentile(0.99))) x")
    // Every page view was counted: the scan total is at least the requests measured.
    let (_, sample) = try await server.get("/api/v1/trace/codes/\(codes[0])")
    print("scan counter of one code after the run: \((sample["scans"] as? [String: Any])?["count"] ?? "?")")
    _ = server.terminate()
    if page.errors > 0 || healthz.errors > 0 || json.errors > 0 { throw BenchError("requests failed") }
    return (healthz, page, json)
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("TraceBench failed: \(error)\n".utf8))
    exit(1)
}
