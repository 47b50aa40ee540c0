import Foundation
import ShennongTestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Per-client token buckets on the public routes (default: a burst of 120, then 120 a minute).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RateLimitTests {
    /// One HTTP/1.0 GET over a socket bound to `source` (another loopback address is another
    /// client); the status code and the raw answer.
    static func get(port: Int, path: String, from source: String) throws -> (Int, String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestBrokerError("socket failed") }
        defer { close(fd) }
        func address(_ host: String, _ port: Int) -> sockaddr_in {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &a.sin_addr)
            return a
        }
        var local = address(source, 0)
        var remote = address("127.0.0.1", port)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw TestBrokerError("bind \(source) failed: errno \(errno)") }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw TestBrokerError("connect failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        let text = String(decoding: answer, as: UTF8.self)
        let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, text)
    }

    @Test("a burst above the limit gets 429 with Retry-After (zh-CN on consumer pages); others are unaffected; no token in the log")
    func burstAboveTheLimit() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        // Staff traffic with the token first: it must not end up in the log.
        let (devices, _) = try await server.get("/api/v1/devices")
        #expect(devices == 200)

        var statuses: [Int] = []
        for _ in 0..<160 {
            let (status, _) = try Self.get(port: server.httpPort, path: "/.well-known/shennong-trace-key", from: "127.0.0.1")
            statuses.append(status)
        }
        let ok = statuses.filter { $0 == 200 }.count
        let limited = statuses.filter { $0 == 429 }.count
        #expect(ok >= 120 && ok < 160, "burst of 120 (plus refill) then 429: \(ok) ok")
        #expect(limited == 160 - ok, "every other answer is 429: \(Set(statuses))")
        #expect(statuses.prefix(120).allSatisfy { $0 == 200 }, "the first 120 are within the burst")

        // The consumer page answers in Chinese, with Retry-After; the JSON route with a JSON error.
        let (page, pageText) = try Self.get(port: server.httpPort, path: "/t/ABCDEFGHJKMNPQRS", from: "127.0.0.1")
        #expect(page == 429)
        #expect(pageText.lowercased().contains("retry-after: "))
        #expect(pageText.contains("查询过于频繁"))
        let (json, jsonText) = try Self.get(port: server.httpPort, path: "/api/v1/trace/ABCDEFGHJKMNPQRS", from: "127.0.0.1")
        #expect(json == 429 && jsonText.contains("\"status\":429"))

        // Another client address is unaffected, /healthz is never limited, the server is healthy.
        let (other, _) = try Self.get(port: server.httpPort, path: "/.well-known/shennong-trace-key", from: "127.0.0.2")
        #expect(other == 200)
        let (health, _) = try Self.get(port: server.httpPort, path: "/healthz", from: "127.0.0.1")
        #expect(health == 200)
        let metrics = try await server.text("/metrics")
        #expect(metrics.contains("shennong_http_rate_limited_total"))
        #expect(server.log().contains("public rate limit reached"))
        #expect(!server.log().contains(server.token), "the bearer token appears in the server log")
        #expect(server.terminate() == 0)
    }
}
