import Foundation
import Hummingbird
import NIOCore
import ShennongAPI

/// The API's JSON answers: ``APICoding``'s encoder, `application/json; charset=utf-8`,
/// `Cache-Control: no-store`. The response encoder of ``StaffContext``.
public struct APIResponseEncoder: ResponseEncoder {
    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try Self.response(value, status: .ok)
    }

    /// `value` as a JSON answer with `status`.
    static func response(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let data = try APICoding.encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Request bodies with ``APICoding``'s decoder, the request decoder of ``StaffContext``.
///
/// A body over the context's upload limit is a 413; one that is not the expected JSON a 400
/// whose message names the field (`body: count is required`, `body inputs.0.kind: …`).
public struct APIRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "request body is larger than \(context.maxUploadSize) bytes")
        }
        return try Self.decode(type, from: Data(buffer.readableBytesView))
    }

    /// `type` from `data`, or the 400 that says what is wrong with it.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try APICoding.decoder.decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, c) {
            throw APIError(.badRequest, "body: \(path(c.codingPath + [key])) is required")
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c) {
            throw APIError(.badRequest, "body\(c.codingPath.isEmpty ? "" : " " + path(c.codingPath)): \(c.debugDescription)")
        } catch let DecodingError.dataCorrupted(c) where !c.codingPath.isEmpty {
            throw APIError(.badRequest, "body \(path(c.codingPath)): \(c.debugDescription)")
        } catch {
            throw APIError(.badRequest, "body must be JSON: \(error)")
        }
    }

    /// `inputs.0.kind`.
    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

// The contract's bodies are answers of the routes, encoded by the context's encoder.
extension API.Health: ResponseEncodable {}
extension API.DeviceList: ResponseEncodable {}
extension API.Device: ResponseEncodable {}
extension API.DeviceImport: ResponseEncodable {}
extension API.LatestList: ResponseEncodable {}
extension API.ReadingList: ResponseEncodable {}
extension API.AggregateList: ResponseEncodable {}
extension API.RejectList: ResponseEncodable {}
extension API.RejectReplay: ResponseEncodable {}
extension API.Alert: ResponseEncodable {}
extension API.AlertList: ResponseEncodable {}
extension API.AlertDetail: ResponseEncodable {}
extension API.RuleList: ResponseEncodable {}
extension API.RuleDetail: ResponseEncodable {}
extension API.LevelChangeList: ResponseEncodable {}
extension API.LoginCode: ResponseEncodable {}
extension API.BatchList: ResponseEncodable {}
extension API.TraceRecord: ResponseEncodable {}
extension API.BatchDossier: ResponseEncodable {}
extension API.Certificate: ResponseEncodable {}
extension API.IssuedCodes: ResponseEncodable {}
extension API.Recall: ResponseEncodable {}
extension API.Seal: ResponseEncodable {}
extension API.VerifyReport: ResponseEncodable {}
extension API.PublicTrace: ResponseEncodable {}
