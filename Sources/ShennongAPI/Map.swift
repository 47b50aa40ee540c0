extension API {
    /// `GET /api/v1/map.geojson`: a GeoJSON FeatureCollection (RFC 7946 §3.3) of the devices
    /// with coordinates, served as `application/geo+json`.
    public struct MapFeatureCollection: APIObject, Hashable {
        /// Always `FeatureCollection`.
        public var type: String
        public var features: [MapFeature]

        public init(features: [MapFeature]) {
            self.type = "FeatureCollection"
            self.features = features
        }
    }

    /// One device as a GeoJSON Feature (RFC 7946 §3.2); `id` is the device id.
    public struct MapFeature: APIObject, Hashable {
        /// Always `Feature`.
        public var type: String
        public var id: String
        public var geometry: MapPoint
        public var properties: MapDeviceProperties

        public init(id: String, geometry: MapPoint, properties: MapDeviceProperties) {
            self.type = "Feature"
            self.id = id
            self.geometry = geometry
            self.properties = properties
        }
    }

    /// A GeoJSON Point (RFC 7946 §3.1.2): `[longitude, latitude]`, WGS 84 degrees.
    public struct MapPoint: APIObject, Hashable {
        /// Always `Point`.
        public var type: String
        public var coordinates: [Double]

        public init(longitude: Double, latitude: Double) {
            self.type = "Point"
            self.coordinates = [longitude, latitude]
        }
    }

    /// What the map says about a device.
    public struct MapDeviceProperties: APIObject, Hashable {
        public var device: String
        public var name: String?
        public var site: String?
        public var domain: String
        public var domainZh: String
        public var profile: String
        public var areaCode: String?
        /// `none`, `blue`, `yellow`, `orange` or `red`: the highest open or acknowledged warning.
        public var level: String
        public var openAlerts: Int
        /// Reported within three of its expected intervals.
        public var fresh: Bool
        public var lastSeen: String?
        public var ageSeconds: Int64?
        public var presence: String?
        public var latest: [Latest]
        /// The device's row on the dashboard.
        public var link: String

        public init(
            device: String, name: String? = nil, site: String? = nil, domain: String, domainZh: String, profile: String,
            areaCode: String? = nil, level: String, openAlerts: Int, fresh: Bool, lastSeen: String? = nil,
            ageSeconds: Int64? = nil, presence: String? = nil, latest: [Latest], link: String
        ) {
            self.device = device
            self.name = name
            self.site = site
            self.domain = domain
            self.domainZh = domainZh
            self.profile = profile
            self.areaCode = areaCode
            self.level = level
            self.openAlerts = openAlerts
            self.fresh = fresh
            self.lastSeen = lastSeen
            self.ageSeconds = ageSeconds
            self.presence = presence
            self.latest = latest
            self.link = link
        }

        enum CodingKeys: String, CodingKey {
            case device, name, site, domain, profile, level, fresh, presence, latest, link
            case domainZh = "domain_zh"
            case areaCode = "area_code"
            case openAlerts = "open_alerts"
            case lastSeen = "last_seen"
            case ageSeconds = "age_seconds"
        }
    }
}
