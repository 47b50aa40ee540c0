import ShennongCore
import Hummingbird
import NIOCore
import ShennongStore

/// The request context of every route: the core context plus the staff token, once the
/// bearer middleware has checked it. JSON bodies go through the API's one coding
/// configuration (``APIRequestDecoder``, ``APIResponseEncoder``).
public struct StaffContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated token; `nil` on public routes.
    public var token: TokenInfo?
    /// The peer's address (public trace pages count scans and rate-limit misses by it).
    public var remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.token = nil
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies larger than this are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }

    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
}
