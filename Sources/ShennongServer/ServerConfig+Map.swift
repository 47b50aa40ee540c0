import Foundation

extension ServerConfig {
    /// The `map:` section: the dashboard's map (一图) and `GET /api/v1/map.geojson`.
    ///
    /// ```yaml
    /// map:
    ///   boundaries:                 # site name → GeoJSON file of its outline (county, town)
    ///     东陂村: Config/maps/dongpi.geojson
    /// ```
    public struct Map: Sendable, Decodable {
        /// Per site, a GeoJSON file (Polygon, MultiPolygon or lines, bare or in a Feature or
        /// FeatureCollection) whose outline the dashboard's map draws under that site's devices.
        /// Relative paths are from the working directory.
        public var boundaries: [String: String] = [:]

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            try c.update(&boundaries, "boundaries")
        }
    }
}
