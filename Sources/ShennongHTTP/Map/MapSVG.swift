import Foundation
import ShennongAlerts
import ShennongCore

/// The devices of a ``DeviceMap`` drawn as an inline SVG, server-side: no tiles, no script.
///
/// Longitude and latitude are projected equirectangularly around the middle latitude (x scaled
/// by its cosine, so a county keeps its shape), fitted with a margin into a fixed width. Site
/// outlines (``MapBoundary``) are drawn under the devices. Each device is a dot filled with the
/// colour of its open warning level (green without one), dashed grey rim when stale, and a link
/// to its row of the overview; its `<title>` names it for a hover and a screen reader.
struct MapSVG {
    var entries: [DeviceMap.Entry]
    var boundaries: [MapBoundary]
    var strings: StaffStrings
    var width: Double = 900
    var margin: Double = 36

    /// Fill colour of a level (the dashboard's badge colours), green for none.
    static func colour(_ level: AlertLevel?) -> String {
        switch level {
        case nil: "#2f7d32"
        case .blue: "#1565c0"
        case .yellow: "#f9a825"
        case .orange: "#ef6c00"
        case .red: "#c62828"
        }
    }

    /// The projection: degrees to SVG user units.
    struct Projection {
        var minLon: Double, maxLat: Double, scale: Double, cosLat: Double, margin: Double

        func x(_ lon: Double) -> Double { margin + (lon - minLon) * cosLat * scale }
        func y(_ lat: Double) -> Double { margin + (maxLat - lat) * scale }
    }

    /// Fits the points (devices and outlines) into `width`; returns the projection and height.
    func projection() -> (Projection, height: Double) {
        var lons = entries.map(\.longitude), lats = entries.map(\.latitude)
        for boundary in boundaries {
            for ring in boundary.rings {
                lons += ring.map(\.longitude)
                lats += ring.map(\.latitude)
            }
        }
        var minLon = lons.min() ?? 112, maxLon = lons.max() ?? 113
        var minLat = lats.min() ?? 24, maxLat = lats.max() ?? 25
        // A single point (or a line) still gets an area around it: at least ~1 km.
        if maxLon - minLon < 0.01 { minLon -= 0.005; maxLon += 0.005 }
        if maxLat - minLat < 0.01 { minLat -= 0.005; maxLat += 0.005 }
        let cosLat = max(0.05, cos((minLat + maxLat) / 2 * .pi / 180))
        let spanX = (maxLon - minLon) * cosLat, spanY = maxLat - minLat
        let inner = width - 2 * margin
        // Tall areas are fitted to a height of at most 1.2 × width.
        let scale = min(inner / spanX, (width * 1.2 - 2 * margin) / spanY)
        let height = spanY * scale + 2 * margin
        return (Projection(minLon: minLon, maxLat: maxLat, scale: scale, cosLat: cosLat, margin: margin), height)
    }

    func render() -> String {
        let (p, height) = projection()
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 \##(n(width)) \##(n(height))" width="100%" role="img" aria-label="\##(XMLText.escape(strings.mapTitle))">"##
        out += ##"<rect x="0" y="0" width="\##(n(width))" height="\##(n(height))" fill="#f6f8f4"/>"##
        for boundary in boundaries {
            for ring in boundary.rings {
                let d = ring.enumerated().map { i, pt in (i == 0 ? "M" : "L") + n(p.x(pt.longitude)) + "," + n(p.y(pt.latitude)) }.joined()
                let closed = ring.first == ring.last
                out += ##"<path class="boundary" d="\##(d)\##(closed ? "Z" : "")" fill="\##(closed ? "#e3ecd9" : "none")" stroke="#5d6b55" stroke-width="1.5"/>"##
            }
        }
        // Red last, so the gravest warnings are drawn on top.
        for e in entries.sorted(by: { ($0.level?.rawValue ?? 0, $0.device.id) < ($1.level?.rawValue ?? 0, $1.device.id) }) {
            let x = n(p.x(e.longitude)), y = n(p.y(e.latitude))
            let id = XMLText.escape(e.device.id)
            let level = e.level.map(strings.levelName) ?? strings.mapNoWarning
            let name = XMLText.escape(e.device.name ?? e.device.id)
            let site = XMLText.escape(e.device.site ?? strings.noSite)
            let rim = e.fresh ? ##"stroke="#ffffff" stroke-width="2""## : ##"stroke="#8d8d8d" stroke-width="2.5" stroke-dasharray="3 2""##
            out += ##"<a href="/dashboard#device-\##(DashboardView.query(e.device.id))" class="device" data-device="\##(id)" data-level="\##(e.levelName)">"##
            out += ##"<circle cx="\##(x)" cy="\##(y)" r="8" fill="\##(Self.colour(e.level))" \##(rim)><title>\##(name) · \##(id) · \##(site) · \##(XMLText.escape(level))</title></circle>"##
            out += ##"<text x="\##(x)" y="\##(n(p.y(e.latitude) - 12))" text-anchor="middle" font-size="11" fill="#333">\##(id)</text></a>"##
        }
        out += "</svg>"
        return out
    }
}
