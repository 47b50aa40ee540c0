import Hummingbird
import ShennongStore

/// The request context of every route: the core context plus the staff token, once the
/// bearer middleware has checked it.
public struct StaffContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated token; `nil` on public routes.
    public var token: TokenInfo?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.token = nil
    }

    /// Request bodies larger than this are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }
}
