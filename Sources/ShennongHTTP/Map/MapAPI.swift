import Foundation
import Hummingbird
import NIOCore
import ShennongAPI
import ShennongAlerts
import ShennongCore

/// `GET /api/v1/map.geojson[?site=&domain=]` (bearer token, viewer): every device of the
/// token's scope with coordinates as a GeoJSON FeatureCollection (RFC 7946), served as
/// `application/geo+json` for GIS platforms (QGIS, a province's 一张图).
public struct MapAPI: RouteGroup {
    let store: any AlertStore & StaffStore
    let profiles: @Sendable () -> [String: DeviceProfile]
    let clock: WallClock
    let offsetMinutes: Int

    public init(
        store: any AlertStore & StaffStore, profiles: @escaping @Sendable () -> [String: DeviceProfile], clock: WallClock = .system,
        offsetMinutes: Int = 480
    ) {
        self.store = store
        self.profiles = profiles
        self.clock = clock
        self.offsetMinutes = offsetMinutes
    }

    public func register(on router: Router<StaffContext>) {
        let api = router.group("api/v1").add(middleware: BearerAuthMiddleware(store: store))
        api.get("map.geojson") { request, context in try self.map(request, context) }
    }

    private func map(_ request: Request, _ context: StaffContext) throws -> Response {
        try context.require(.viewer)
        let q = request.uri.queryParameters
        var domain: Domain?
        if let text = q["domain"] {
            guard let d = Domain(rawValue: String(text)) else {
                let known = Domain.deviceDomains.map(\.rawValue).joined(separator: ", ")
                throw APIError(.badRequest, "unknown domain \(text); known: \(known)")
            }
            domain = d
        }
        let map = try DeviceMap.build(
            store: store, profiles: profiles(), scope: context.scope, now: clock.now(), site: q["site"].map(String.init),
            domain: domain)
        let data = try APICoding.encode(map.geoJSON(offsetMinutes: offsetMinutes))
        return Response(
            status: .ok, headers: [.contentType: "application/geo+json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
