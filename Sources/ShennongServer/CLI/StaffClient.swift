import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The CLI's HTTP client of a running server's staff API.
public struct StaffClient: Sendable {
    public var server: URL
    public var token: String?

    public init(server: String, token: String?) throws {
        guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
            throw ClientError("--server must be an http(s) URL, not \(server)")
        }
        self.server = url
        self.token = token
    }

    /// GETs `path` with `query` and returns the decoded JSON object; non-2xx answers throw
    /// with the server's error message.
    public func get(_ path: String, query: [String: String?] = [:]) async throws -> [String: Any] {
        try await send("GET", path, query: query, body: nil)
    }

    /// POSTs `body` as JSON to `path`.
    public func post(_ path: String, body: [String: Any]) async throws -> [String: Any] {
        try await send("POST", path, query: [:], body: try JSONSerialization.data(withJSONObject: body))
    }

    public func send(_ method: String, _ path: String, query: [String: String?], body: Data?) async throws
        -> [String: Any]
    {
        var components = URLComponents(url: server.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        if !items.isEmpty { components.queryItems = items.sorted { $0.name < $1.name } }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ClientError("cannot reach \(server.absoluteString): \(error.localizedDescription) (is `shennong serve` running?)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard (200..<300).contains(status) else {
            let message = ((object?["error"] as? [String: Any])?["message"] as? String)
                ?? String(decoding: data.prefix(300), as: UTF8.self)
            if status == 401 {
                throw ClientError("HTTP 401: \(message). Pass --token or set SHENNONG_TOKEN (create one with `shennong tokens create`).")
            }
            throw ClientError("HTTP \(status): \(message)")
        }
        guard let object else { throw ClientError("the server answered with something that is not a JSON object") }
        return object
    }
}

/// A CLI error, said in one sentence.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
