import ShennongCore
import Hummingbird
import HummingbirdAuth
import NIOCore

/// The request context of every route: the core context plus the staff token (its
/// `identity`), once the bearer middleware has checked it. JSON bodies go through the API's one coding
/// configuration (``APIRequestDecoder``, ``APIResponseEncoder``).
public struct StaffContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated staff token (hummingbird-auth's identity, set by
    /// ``BearerAuthMiddleware``); `nil` on public routes.
    public var identity: TokenInfo?
    /// The peer's address (public trace pages count scans and rate-limit misses by it).
    public var remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies larger than this are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }

    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
}
