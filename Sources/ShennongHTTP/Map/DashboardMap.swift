import Foundation
import Hummingbird
import ShennongAlerts
import ShennongCore

/// The dashboard's map (一图), in the dashboard's session:
///
/// - `GET /dashboard/map[?site=]`: every device of the session's scope with coordinates, drawn
///   server-side as an inline SVG (``MapSVG``: no tiles, no script), each dot coloured by its
///   open warning level and linked to its row of the overview; under them the outline of each
///   site that has a boundary file (`map.boundaries`); a legend with the count per level; the
///   devices without coordinates listed.
public struct DashboardMap: RouteGroup {
    let pages: DashboardPages
    /// Site outlines by site name (``MapBoundary``), drawn when the site has a device on the map.
    let boundaries: [String: MapBoundary]

    public init(pages: DashboardPages, boundaries: [String: MapBoundary] = [:]) {
        self.pages = pages
        self.boundaries = boundaries
    }

    public func register(on router: Router<StaffContext>) {
        router.get("dashboard/map") { request, _ in try self.map(request) }
    }

    struct Page {
        struct LegendEntry {
            var name: String
            var label: String
            var count: Int
        }
        struct Unplaced {
            var id: String
        }
        var svg: String
        var hasDevices: Bool
        var countText: String
        var legend: [LegendEntry]
        var unplaced: [Unplaced]
        var hasUnplaced: Bool
    }

    private func map(_ request: Request) throws -> Response {
        guard let signedIn = pages.signedIn(request) else { return DashboardPages.redirect("/dashboard/login") }
        let t = signedIn.t
        let site = request.uri.queryParameters["site"].map(String.init)
        let map = try DeviceMap.build(
            store: pages.store, profiles: pages.profiles(), scope: signedIn.session.token.scope, now: signedIn.now, site: site)
        let sites = Set(map.entries.compactMap(\.device.site))
        let outlines = boundaries.filter { sites.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
        let svg = MapSVG(entries: map.entries, boundaries: outlines, strings: t).render()
        let counts = Dictionary(grouping: map.entries, by: \.levelName).mapValues(\.count)
        var legend = [Page.LegendEntry(name: "none", label: t.mapNoWarning, count: counts["none"] ?? 0)]
        legend += AlertLevel.allCases.map { Page.LegendEntry(name: $0.name, label: t.levelName($0), count: counts[$0.name] ?? 0) }
        let model = Page(
            svg: svg, hasDevices: !map.entries.isEmpty, countText: t.deviceCount(map.entries.count), legend: legend,
            unplaced: map.unplaced.map { Page.Unplaced(id: $0.device.id) }, hasUnplaced: !map.unplaced.isEmpty)
        return pages.page("map", model, for: signedIn)
    }
}
