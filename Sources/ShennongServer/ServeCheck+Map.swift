import ShennongHTTP

extension ServeCheck {
    /// The site outlines of `map.boundaries`: each file must be GeoJSON with a line or polygon.
    static func checkMaps(_ config: ServerConfig, into report: inout Report) {
        for (site, path) in config.map.boundaries.sorted(by: { $0.key < $1.key }) {
            do {
                let boundary = try MapBoundary.load(path: path)
                report.checked.append("map boundary of \(site): \(path) (\(boundary.rings.count) rings)")
            } catch {
                report.errors.append("map.boundaries.\(site): \(error)")
            }
        }
    }
}
