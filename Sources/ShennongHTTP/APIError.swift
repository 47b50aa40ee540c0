import ShennongCore
import Foundation
import Hummingbird
import ShennongAPI

/// An error answered as JSON `{"error": {"status": 400, "message": "..."}}` (``API/ErrorBody``).
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIResponseEncoder.response(API.ErrorBody(status: status.code, message: message), status: status)
    }
}
