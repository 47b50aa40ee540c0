import Foundation
import HTTPTypes
import ShennongAPI
import ShennongCore
import Testing

@testable import ShennongHTTP

/// RFC 7946 structure, checked on the JSON itself (not through the contract's types): what a GIS
/// client relies on.
enum GeoJSONCheck {
    /// One line per violation of RFC 7946 in `value` (a FeatureCollection of Point features).
    static func violations(_ value: JSONValue) -> [String] {
        var problems: [String] = []
        guard case .object(let collection) = value else { return ["the document is not an object"] }
        if collection["type"] != .string("FeatureCollection") { problems.append("type is not FeatureCollection (§3.3)") }
        if collection["crs"] != nil { problems.append("crs is not part of RFC 7946 (§4)") }
        guard case .array(let features)? = collection["features"] else { return problems + ["features is not an array (§3.3)"] }
        for (i, feature) in features.enumerated() {
            guard case .object(let f) = feature else {
                problems.append("feature \(i) is not an object")
                continue
            }
            if f["type"] != .string("Feature") { problems.append("feature \(i): type is not Feature (§3.2)") }
            switch f["id"] {
            case .string?, .number?, nil: break
            default: problems.append("feature \(i): id is neither a string nor a number (§3.2)")
            }
            switch f["properties"] {
            case .object?, .null?: break
            default: problems.append("feature \(i): properties is neither an object nor null (§3.2)")
            }
            guard case .object(let geometry)? = f["geometry"] else {
                problems.append("feature \(i): geometry is not an object (§3.2)")
                continue
            }
            if geometry["type"] != .string("Point") { problems.append("feature \(i): geometry is not a Point") }
            guard case .array(let position)? = geometry["coordinates"], (2...3).contains(position.count) else {
                problems.append("feature \(i): coordinates is not a position of 2 or 3 numbers (§3.1.1)")
                continue
            }
            let numbers = position.compactMap { v -> Double? in if case .number(let n) = v { return n } else { return nil } }
            guard numbers.count == position.count else {
                problems.append("feature \(i): a coordinate is not a number")
                continue
            }
            if !(-180...180).contains(numbers[0]) { problems.append("feature \(i): longitude \(numbers[0]) out of range (§3.1.1)") }
            if !(-90...90).contains(numbers[1]) { problems.append("feature \(i): latitude \(numbers[1]) out of range (§3.1.1)") }
        }
        return problems
    }
}

extension RouteTests {
    @Test("map: GeoJSON of the devices with coordinates (RFC 7946), levels and latest values; the dashboard's SVG map coloured by level")
    func map() async throws {
        let fixture = try RouteFixture()
        let t0 = RouteFixture.t0
        try fixture.store.upsertDevices([
            Device(id: "aws-2", profile: "generic", domain: .weather, site: "东陂村", latitude: 24.80, longitude: 112.40, createdAt: t0),
            Device(id: "no-place", profile: "generic", domain: .soil, site: "东陂村", createdAt: t0),
            Device(id: "bad-place", profile: "generic", domain: .soil, latitude: 95, longitude: 112.4, createdAt: t0),
        ])
        try await fixture.test { api in
            #expect(try await api.call(.get, "/api/v1/map.geojson").status == .unauthorized)
            let answer = try await api.call(.get, "/api/v1/map.geojson", token: fixture.viewer)
            #expect(answer.status == .ok && answer.headers[.contentType]?.hasPrefix("application/geo+json") == true)
            let problems = GeoJSONCheck.violations(try JSONParser.parse(answer.body))
            #expect(problems.isEmpty, "not RFC 7946: \(problems)")
            let map = try answer.decode(API.MapFeatureCollection.self)
            #expect(map.features.map(\.id) == ["aws-2", "pond-1"], "only valid coordinates are placed")
            let pond = try #require(map.features.first { $0.id == "pond-1" })
            #expect(pond.geometry.coordinates == [112.38, 24.78], "[longitude, latitude]")
            #expect(pond.properties.level == "orange" && pond.properties.openAlerts == 1)
            #expect(pond.properties.site == "东陂村" && pond.properties.domain == "water" && pond.properties.areaCode == "441882")
            #expect(Set(pond.properties.latest.map(\.metric)) == ["dissolved_oxygen", "ph"])
            #expect(pond.properties.fresh == false && pond.properties.link == "/dashboard#device-pond-1")
            #expect(map.features.first { $0.id == "aws-2" }?.properties.level == "none")

            let water = try await api.call(.get, "/api/v1/map.geojson", "/api/v1/map.geojson?domain=water", token: fixture.viewer)
            #expect(try water.decode(API.MapFeatureCollection.self).features.map(\.id) == ["pond-1"])
            #expect(try await api.call(.get, "/api/v1/map.geojson", "/api/v1/map.geojson?domain=sea", token: fixture.viewer).status == .badRequest)

            // The dashboard's map, in a session.
            #expect(try await api.call(.get, "/dashboard/map").status == .seeOther)
            let login = try await api.call(.post, "/dashboard/login", raw: "token=\(fixture.viewer)", contentType: "application/x-www-form-urlencoded")
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let page = try await api.call(.get, "/dashboard/map", headers: [.cookie: cookie])
            #expect(page.status == .ok)
            #expect(page.text.contains(#"data-device="pond-1" data-level="orange""#) && page.text.contains(##"fill="#ef6c00""##))
            #expect(page.text.contains(#"data-device="aws-2" data-level="none""#) && page.text.contains(##"fill="#2f7d32""##))
            #expect(page.text.contains(#"href="/dashboard#device-pond-1""#))
            #expect(page.text.contains("no-place") && page.text.contains("bad-place"), "devices without coordinates are listed")
            #expect(!page.text.contains("<script"), "no script on the map")
        }
        let made = fixture.log.operations.subtracting(["POST /dashboard/login"])
        #expect(made == Set(Self.manifest["map"] ?? []))
    }
}

/// The SVG map and boundary files as values.
struct MapSVGTests {
    @Test("a boundary GeoJSON (Feature, FeatureCollection, MultiPolygon) gives its rings; junk is refused")
    func boundaries() throws {
        let polygon = #"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[112.0,24.5],[112.6,24.5],[112.6,25.0],[112.0,24.5]]]}}"#
        #expect(try MapBoundary.parse(Data(polygon.utf8)).rings.map(\.count) == [4])
        let multi = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":null,"geometry":{"type":"MultiPolygon","coordinates":[[[[1,2],[3,4],[5,6],[1,2]]],[[[7,8],[9,10],[11,12],[7,8]]]]}}]}"#
        #expect(try MapBoundary.parse(Data(multi.utf8)).rings.count == 2)
        #expect(throws: MapBoundary.Failure.self) { try MapBoundary.parse(Data(#"{"type":"Point","coordinates":[1,2]}"#.utf8)) }
        #expect(throws: MapBoundary.Failure.self) { try MapBoundary.parse(Data("nope".utf8)) }
        #expect(throws: MapBoundary.Failure.self) { try MapBoundary.parse(Data(#"{"type":"LineString","coordinates":[[500,2],[3,4]]}"#.utf8)) }
    }

    @Test("the projection keeps every device and outline inside the picture, north up, east right")
    func projection() throws {
        func entry(_ id: String, _ lat: Double, _ lon: Double) -> DeviceMap.Entry {
            DeviceMap.Entry(
                record: DeviceRecord(
                    device: Device(id: id, profile: "generic", domain: .water, latitude: lat, longitude: lon, createdAt: 0), lastSeen: nil,
                    presence: nil, presenceAt: nil, metrics: []),
                latitude: lat, longitude: lon, level: nil, openAlerts: 0, latest: [], fresh: true, age: nil)
        }
        let boundary = try MapBoundary.parse(Data(#"{"type":"LineString","coordinates":[[112.0,24.5],[112.9,25.1]]}"#.utf8))
        let svg = MapSVG(entries: [entry("a", 24.6, 112.1), entry("b", 25.0, 112.8)], boundaries: [boundary], strings: .zh)
        let (p, height) = svg.projection()
        for (lat, lon) in [(24.6, 112.1), (25.0, 112.8), (24.5, 112.0), (25.1, 112.9)] {
            #expect((0...svg.width).contains(p.x(lon)) && (0...height).contains(p.y(lat)))
        }
        #expect(p.x(112.8) > p.x(112.1) && p.y(25.0) < p.y(24.6))
        let drawn = svg.render()
        #expect(drawn.contains(#"<path class="boundary" d="M"#) && drawn.contains(#"data-device="a""#) && drawn.contains(#"data-device="b""#))
        let one = MapSVG(entries: [entry("solo", 24.6, 112.1)], boundaries: [], strings: .en).render()
        #expect(one.contains(#"data-device="solo""#) && !one.contains("nan") && !one.contains("inf"))
    }
}
