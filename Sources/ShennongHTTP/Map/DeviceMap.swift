import Foundation
import ShennongAPI
import ShennongAlerts
import ShennongCore

/// The devices of a scope that can be put on a map (一图): each with valid WGS 84 coordinates,
/// its latest values, freshness and the highest level of its open or acknowledged warnings.
/// Shared by `GET /api/v1/map.geojson` and the dashboard's SVG map, so both show the same.
struct DeviceMap {
    struct Entry {
        var record: DeviceRecord
        var latitude: Double
        var longitude: Double
        /// The highest open or acknowledged warning, `nil` without one.
        var level: AlertLevel?
        var openAlerts: Int
        var latest: [LatestValue]
        /// Reported within ``DashboardView/staleFactor`` expected intervals.
        var fresh: Bool
        var age: Int64?

        var device: Device { record.device }
        /// `none`, `blue` … `red`.
        var levelName: String { level?.name ?? "none" }
    }

    /// Devices with coordinates, by site then id.
    var entries: [Entry]
    /// Devices of the scope without (valid) coordinates.
    var unplaced: [DeviceRecord]

    /// Whether `latitude`/`longitude` are a point on Earth (RFC 7946: WGS 84 degrees).
    static func isValid(latitude: Double?, longitude: Double?) -> Bool {
        guard let latitude, let longitude, latitude.isFinite, longitude.isFinite else { return false }
        return (-90...90).contains(latitude) && (-180...180).contains(longitude)
    }

    /// The map of what `scope` admits (optionally one site or domain).
    static func build(
        store: any AlertStore & StaffStore, profiles: [String: DeviceProfile], scope: AccessScope, now: Int64,
        site: String? = nil, domain: Domain? = nil
    ) throws -> DeviceMap {
        let records = try store.deviceRecords(site: site, domain: domain).filter { scope.contains($0.device) }
        let ids = Set(records.map(\.device.id))
        let latest = Dictionary(grouping: try store.latest(site: site, domain: domain).filter { ids.contains($0.device) }, by: \.device)
        let live = try store.alerts(AlertQuery(statuses: [.open, .acknowledged], limit: 100_000)).filter { ids.contains($0.device) }
        let alerts = Dictionary(grouping: live, by: \.device)
        var entries: [Entry] = []
        var unplaced: [DeviceRecord] = []
        for record in records {
            let device = record.device
            guard isValid(latitude: device.latitude, longitude: device.longitude), let lat = device.latitude, let lon = device.longitude
            else {
                unplaced.append(record)
                continue
            }
            let interval = Int64(profiles[device.profile]?.expectedInterval ?? 300) * 1000
            let age = record.lastSeen.map { max(0, now - $0) }
            let own = alerts[device.id] ?? []
            entries.append(
                Entry(
                    record: record, latitude: lat, longitude: lon, level: own.map(\.level).max(), openAlerts: own.count,
                    latest: latest[device.id] ?? [], fresh: age.map { $0 <= interval * DashboardView.staleFactor } ?? false, age: age))
        }
        entries.sort { ($0.device.site ?? "", $0.device.id) < ($1.device.site ?? "", $1.device.id) }
        return DeviceMap(entries: entries, unplaced: unplaced)
    }

    /// The map as GeoJSON (RFC 7946): one Point feature per placed device.
    func geoJSON(offsetMinutes: Int) -> API.MapFeatureCollection {
        API.MapFeatureCollection(
            features: entries.map { e in
                let d = e.device
                return API.MapFeature(
                    id: d.id, geometry: API.MapPoint(longitude: e.longitude, latitude: e.latitude),
                    properties: API.MapDeviceProperties(
                        device: d.id, name: d.name, site: d.site, domain: d.domain.rawValue, domainZh: d.domain.chineseName,
                        profile: d.profile, areaCode: d.areaCode, level: e.levelName, openAlerts: e.openAlerts, fresh: e.fresh,
                        lastSeen: e.record.lastSeen.map { LocalTime.precise($0, offsetMinutes: offsetMinutes) },
                        ageSeconds: e.age.map { $0 / 1000 }, presence: e.record.presence,
                        latest: e.latest.map { API.Latest($0, offsetMinutes: offsetMinutes) },
                        link: "/dashboard#device-\(d.id)"))
            })
    }
}
