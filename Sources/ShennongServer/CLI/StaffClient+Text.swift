import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension StaffClient {
    /// GETs `path` and returns the body as text (for XML answers such as CAP); non-2xx throws
    /// with the server's error message.
    public func getText(_ path: String) async throws -> String {
        var request = URLRequest(url: server.appendingPathComponent(path))
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ClientError("cannot reach \(server.absoluteString): \(error.localizedDescription) (is `shennong serve` running?)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            let message = ((object?["error"] as? [String: Any])?["message"] as? String) ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw ClientError("HTTP \(status): \(message)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
