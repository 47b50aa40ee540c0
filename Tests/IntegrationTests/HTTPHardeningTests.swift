import Foundation
import ShennongTestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Security headers, size limits and hostile requests on the real server.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HTTPHardeningTests {
    static func request(
        _ server: ServerProcess, _ path: String, method: String = "GET", body: Data? = nil, token: Bool = false
    ) async throws -> (Int, [String: String], Data) {
        var request = URLRequest(url: URL(string: server.baseURL + path)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 10
        if token { request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
        return (http.statusCode, headers, data)
    }

    @Test("every answer carries the security headers; hostile requests get clear errors and the server stays healthy")
    func headersAndHostileRequests() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()

        for (path, token, expected) in [("/healthz", false, 200), ("/api/v1/devices", false, 401), ("/api/v1/devices", true, 200), ("/no/such/page", false, 404)] {
            let (status, headers, _) = try await Self.request(server, path, token: token)
            #expect(status == expected, "\(path)")
            #expect(headers["x-content-type-options"] == "nosniff", "\(path)")
            #expect(headers["x-frame-options"] == "DENY", "\(path)")
            #expect(headers["referrer-policy"] == "no-referrer", "\(path)")
            #expect(headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(path)")
            if path.hasPrefix("/api/") { #expect(headers["cache-control"] == "no-store", "\(path)") }
        }
        // Path traversal and encoded traversal reach no file.
        for path in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/api/v1/devices/..%2F..%2Fetc%2Fpasswd"] {
            let (status, _, data) = try await Self.request(server, path, token: true)
            #expect([400, 404].contains(status), "\(path) → \(status)")
            #expect(!String(decoding: data, as: UTF8.self).contains("root:"), "\(path)")
        }
        // A body over the 1 MiB limit is refused with 413; malformed JSON with 400.
        let (big, _, _) = try await Self.request(
            server, "/api/v1/devices", method: "POST", body: Data(repeating: 0x41, count: 2 << 20), token: true)
        #expect(big == 413)
        let (bad, _, badBody) = try await Self.request(server, "/api/v1/devices", method: "POST", body: Data("{\"id\":".utf8), token: true)
        #expect(bad == 400)
        #expect(String(decoding: badBody, as: UTF8.self).contains("\"message\""))
        let (status, json) = try await server.get("/healthz", authorized: false)
        #expect(status == 200 && json["status"] as? String == "ok")
        #expect(server.terminate() == 0)
    }
}
