extension API {
    /// A registered device, with when it was last heard and the metrics it reported.
    public struct Device: APIObject, Hashable {
        public var id: String
        public var profile: String
        public var domain: String
        public var site: String?
        public var name: String?
        public var latitude: Double?
        public var longitude: Double?
        /// GB/T 2260 area code.
        public var areaCode: String?
        public var owner: String?
        /// RFC 3339 local time with its offset.
        public var createdAt: String?
        /// Receive time of its newest message, RFC 3339 local time with its offset.
        public var lastSeen: String?
        /// `online` / `offline` as last reported on `agri/{device}/status`.
        public var presence: String?
        public var metrics: [String]?
        /// Numeric attributes (a gauge's `warning_stage`, say); absent when there are none.
        public var attributes: [String: Double]?

        public init(
            id: String, profile: String, domain: String, site: String? = nil, name: String? = nil, latitude: Double? = nil,
            longitude: Double? = nil, areaCode: String? = nil, owner: String? = nil, createdAt: String? = nil,
            lastSeen: String? = nil, presence: String? = nil, metrics: [String]? = nil, attributes: [String: Double]? = nil
        ) {
            self.id = id
            self.profile = profile
            self.domain = domain
            self.site = site
            self.name = name
            self.latitude = latitude
            self.longitude = longitude
            self.areaCode = areaCode
            self.owner = owner
            self.createdAt = createdAt
            self.lastSeen = lastSeen
            self.presence = presence
            self.metrics = metrics
            self.attributes = attributes
        }

        enum CodingKeys: String, CodingKey {
            case id, profile, domain, site, name, latitude, longitude, owner, presence, metrics, attributes
            case areaCode = "area_code"
            case createdAt = "created_at"
            case lastSeen = "last_seen"
        }
    }

    /// `GET /api/v1/devices`.
    public struct DeviceList: APIObject, Hashable {
        public var devices: [Device]
        public init(devices: [Device]) { self.devices = devices }
    }

    /// The body of `POST /api/v1/devices`.
    public struct NewDevice: APIObject, Hashable {
        /// `[A-Za-z0-9_.-]{1,64}`.
        public var id: String
        /// A device profile (`devices/*.yaml`).
        public var profile: String
        /// The profile's domain when absent.
        public var domain: String?
        public var site: String?
        public var name: String?
        public var latitude: Double?
        public var longitude: Double?
        public var areaCode: String?
        public var owner: String?
        public var attributes: [String: Double]?

        public init(
            id: String, profile: String, domain: String? = nil, site: String? = nil, name: String? = nil,
            latitude: Double? = nil, longitude: Double? = nil, areaCode: String? = nil, owner: String? = nil,
            attributes: [String: Double]? = nil
        ) {
            self.id = id
            self.profile = profile
            self.domain = domain
            self.site = site
            self.name = name
            self.latitude = latitude
            self.longitude = longitude
            self.areaCode = areaCode
            self.owner = owner
            self.attributes = attributes
        }

        enum CodingKeys: String, CodingKey {
            case id, profile, domain, site, name, latitude, longitude, owner, attributes
            case areaCode = "area_code"
        }
    }

    /// `POST /api/v1/devices/import`: how many devices the CSV had, of which created and updated.
    public struct DeviceImport: APIObject, Hashable {
        public var imported: Int
        public var created: Int
        public var updated: Int

        public init(imported: Int, created: Int, updated: Int) {
            self.imported = imported
            self.created = created
            self.updated = updated
        }
    }
}
