import Logging
import ShennongCore
import ShennongHTTP

extension ShennongServer {
    /// The map in `shennong serve`: `GET /api/v1/map.geojson` always; the dashboard's map page
    /// with the dashboard (its session), drawing the site outlines of `map.boundaries`. A
    /// boundary file that cannot be read stops the start (as a broken template would).
    static func makeMap(
        config: ServerConfig, store: any ServerStore, profiles: [String: DeviceProfile], dashboard: [any RouteGroup],
        logger: Logger
    ) throws -> [any RouteGroup] {
        var routes: [any RouteGroup] = [
            MapAPI(store: store, profiles: { profiles }, offsetMinutes: config.localOffsetMinutes)
        ]
        guard let pages = dashboard.lazy.compactMap({ $0 as? DashboardPages }).first else { return routes }
        var boundaries: [String: MapBoundary] = [:]
        for (site, path) in config.map.boundaries {
            boundaries[site] = try MapBoundary.load(path: path)
            logger.info("map boundary loaded", metadata: ["site": "\(site)", "file": "\(path)"])
        }
        routes.append(DashboardMap(pages: pages, boundaries: boundaries))
        return routes
    }
}
