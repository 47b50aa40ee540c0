import ShennongCore

extension API {
    /// A registered device, with when it was last heard and the metrics it reported: what was
    /// registered (a ``NewDevice``, its domain resolved) and what the store knows of its life,
    /// as one JSON object. The registration's fields read as the device's own (`device.site`).
    @dynamicMemberLookup
    public struct Device: APIObject, Hashable {
        /// id, profile, domain, site, name, latitude, longitude, area code, owner and attributes
        /// (absent when there are none).
        public var registration: NewDevice
        /// RFC 3339 local time with its offset.
        public var createdAt: String?
        /// Receive time of its newest message, RFC 3339 local time with its offset.
        public var lastSeen: String?
        /// `online` / `offline` as last reported on `agri/{device}/status`.
        public var presence: String?
        public var metrics: [String]?

        /// A field of the registration (`device.id`, `device.site`, …).
        public subscript<T>(dynamicMember path: WritableKeyPath<NewDevice, T>) -> T {
            get { registration[keyPath: path] }
            set { registration[keyPath: path] = newValue }
        }

        enum CodingKeys: String, CodingKey {
            case presence, metrics
            case createdAt = "created_at"
            case lastSeen = "last_seen"
        }

        public func encode(to encoder: any Encoder) throws {
            try registration.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(createdAt, forKey: .createdAt)
            try c.encodeIfPresent(lastSeen, forKey: .lastSeen)
            try c.encodeIfPresent(presence, forKey: .presence)
            try c.encodeIfPresent(metrics, forKey: .metrics)
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

extension API.Device {
    // In an extension, so that the memberwise initializer stays.
    public init(from decoder: any Decoder) throws {
        registration = try API.NewDevice(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt)
        lastSeen = try c.decodeIfPresent(String.self, forKey: .lastSeen)
        presence = try c.decodeIfPresent(String.self, forKey: .presence)
        metrics = try c.decodeIfPresent([String].self, forKey: .metrics)
    }

    /// The API's view of a registered device, its times in local time at `offsetMinutes` to
    /// the millisecond.
    public init(_ r: DeviceRecord, offsetMinutes: Int = 480) {
        self.init(
            registration: API.NewDevice(r.device), createdAt: LocalTime.precise(r.device.createdAt, offsetMinutes: offsetMinutes),
            lastSeen: r.lastSeen.map { LocalTime.precise($0, offsetMinutes: offsetMinutes) }, presence: r.presence,
            metrics: r.metrics)
    }
}

extension API.NewDevice {
    /// The registration of `d`, its domain named (attributes absent when there are none).
    public init(_ d: Device) {
        self.init(
            id: d.id, profile: d.profile, domain: d.domain.rawValue, site: d.site, name: d.name, latitude: d.latitude,
            longitude: d.longitude, areaCode: d.areaCode, owner: d.owner, attributes: d.attributes.isEmpty ? nil : d.attributes)
    }
}

extension Device {
    /// The device `registration` registers in `domain` (its own or its profile's), at `createdAt`.
    public init(_ registration: API.NewDevice, domain: Domain, createdAt: Int64) {
        let r = registration
        self.init(
            id: r.id, profile: r.profile, domain: domain, site: r.site, name: r.name, latitude: r.latitude,
            longitude: r.longitude, areaCode: r.areaCode, owner: r.owner, createdAt: createdAt, attributes: r.attributes ?? [:])
    }
}
