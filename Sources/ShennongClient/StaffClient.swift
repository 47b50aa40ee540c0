import Foundation
import ShennongAPI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The CLI's HTTP client of a running server's staff API: typed bodies of the contract
/// (``API``) both ways, coded with ``APICoding``.
///
/// A non-2xx answer throws ``ClientError`` with the server's message; a 401 adds how to get
/// a token.
public struct StaffClient: Sendable {
    public var server: URL
    public var token: String?

    public init(server: String, token: String?) throws {
        guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
            throw ClientError(CLIStrings.current.serverNotHTTP(server))
        }
        self.server = url
        self.token = token
    }

    /// GETs `path` with `query` (absent values left out) as `type`.
    public func get<T: Decodable>(_ type: T.Type, _ path: String, query: [String: String?] = [:]) async throws -> T {
        try decode(type, "GET", path, try await send("GET", path, query: query))
    }

    /// POSTs `body` (JSON) to `path`; the answer as `type`.
    public func post<T: Decodable>(_ type: T.Type, _ path: String, body: some Encodable) async throws -> T {
        let data = try APICoding.encode(body)
        return try decode(type, "POST", path, try await send("POST", path, body: data, contentType: "application/json"))
    }

    /// POSTs to `path` without a body; the answer as `type`.
    public func post<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        try decode(type, "POST", path, try await send("POST", path))
    }

    /// POSTs `data` as `contentType` (a CSV, say); the answer as `type`.
    public func post<T: Decodable>(_ type: T.Type, _ path: String, data: Data, contentType: String) async throws -> T {
        try decode(type, "POST", path, try await send("POST", path, body: data, contentType: contentType))
    }

    /// GETs `path` as text (CAP XML).
    public func getText(_ path: String) async throws -> String {
        String(decoding: try await send("GET", path), as: UTF8.self)
    }

    func decode<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, _ data: Data) throws -> T {
        do {
            return try APICoding.decode(type, from: data)
        } catch {
            throw ClientError(
                CLIStrings.current.unexpectedAnswer("\(method) /\(path)", "\(error)", String(decoding: data.prefix(300), as: UTF8.self)))
        }
    }

    /// The one HTTP exchange: the bearer token, the body, the answer's bytes or its error.
    func send(
        _ method: String, _ path: String, query: [String: String?] = [:], body: Data? = nil, contentType: String? = nil
    ) async throws -> Data {
        var components = URLComponents(url: server.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        if !items.isEmpty { components.queryItems = items.sorted { $0.name < $1.name } }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue(contentType ?? "application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ClientError(CLIStrings.current.cannotReach(server.absoluteString, error.localizedDescription))
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? APICoding.decode(API.ErrorBody.self, from: data))?.error.message
                ?? String(decoding: data.prefix(300), as: UTF8.self)
            if status == 401 {
                throw ClientError(CLIStrings.current.unauthorized(message))
            }
            throw ClientError(CLIStrings.current.httpError(status, message))
        }
        return data
    }
}

/// A CLI error, said in one sentence.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
