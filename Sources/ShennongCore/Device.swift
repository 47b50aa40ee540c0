/// A registered field device: a sonde, probe, station, node or gauge that publishes telemetry.
public struct Device: Sendable, Hashable, Codable {
    /// The id used in the MQTT topic; matches ``Device/isValidID(_:)``.
    public var id: String
    /// The name of the device profile (devices/*.yaml) that decodes its payloads.
    public var profile: String
    public var domain: Domain
    /// The site (pond, plot, station, river reach) the device belongs to.
    public var site: String?
    public var name: String?
    public var latitude: Double?
    public var longitude: Double?
    /// The administrative area code (行政区划代码) of the site.
    public var areaCode: String?
    public var owner: String?
    /// Milliseconds since the epoch when the device was registered.
    public var createdAt: Int64
    /// Numeric attributes of this device that rules and summaries use: a gauge's
    /// `warning_stage` (警戒水位), `guaranteed_stage` (保证水位) and `historical_max_stage` in m,
    /// a soil probe's `depth_cm` or `field_capacity`, and the like.
    public var attributes: [String: Double] = [:]

    public init(
        id: String, profile: String, domain: Domain, site: String? = nil, name: String? = nil,
        latitude: Double? = nil, longitude: Double? = nil, areaCode: String? = nil,
        owner: String? = nil, createdAt: Int64, attributes: [String: Double] = [:]
    ) {
        self.attributes = attributes
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
    }

    /// Whether `id` is a valid device id: `[A-Za-z0-9_.-]{1,64}`.
    public static func isValidID(_ id: some StringProtocol) -> Bool {
        let utf8 = id.utf8
        guard !utf8.isEmpty, utf8.count <= 64 else { return false }
        return utf8.allSatisfy(isIDByte)
    }

    /// The same for a `String` (once per ingested message: no generic call per byte).
    public static func isValidID(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { bytes in
            !bytes.isEmpty && bytes.count <= 64 && bytes.allSatisfy(isIDByte)
        }
    }

    @inline(__always)
    private static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == 0x5F || b == 0x2E || b == 0x2D
    }
}
