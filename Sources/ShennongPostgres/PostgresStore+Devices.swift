import PostgresNIO
import ShennongCore

extension PostgresStore {
    static let deviceColumns = "id, profile, domain, site, name, latitude, longitude, area_code, owner, created_at, attributes"

    static func decodeDevice(_ row: PostgresRow) throws -> Device {
        let (id, profile, domain, site, name, latitude, longitude, areaCode, owner, createdAt, attributes) = try row.decode(
            (String, String, String, String?, String?, Double?, Double?, String?, String?, Int64, String?).self)
        return Device(
            id: id, profile: profile, domain: Domain(rawValue: domain) ?? .weather, site: site, name: name,
            latitude: latitude, longitude: longitude, areaCode: areaCode, owner: owner, createdAt: createdAt,
            attributes: DeviceAttributes.decode(attributes))
    }

    /// Registers `device`. Throws `conflict` if the id is taken.
    public func addDevice(_ device: Device) throws {
        try write { s in
            if try s.query("SELECT 1 FROM devices WHERE id = $1", bindings(device.id)).count > 0 {
                throw StoreError(.conflict, "device \(device.id) is already registered")
            }
            try Self.insertDevices([device], onConflict: "DO NOTHING", in: s)
        }
    }

    /// Registers or updates every device of `devices` in one transaction (all or nothing);
    /// returns how many were new. An update keeps the first registration's `created_at`.
    @discardableResult
    public func upsertDevices(_ devices: [Device]) throws -> Int {
        guard !devices.isEmpty else { return 0 }
        return try write { s in
            let ids = devices.map(\.id)
            let existing = try s.query("SELECT count(DISTINCT id)::int8 FROM devices WHERE id = ANY($1)", bindings(ids))
                .first?.decode(Int64.self) ?? 0
            // One row per id (the last given wins), so that one statement never updates a row twice.
            var last: [String: Int] = [:]
            for (i, d) in devices.enumerated() { last[d.id] = i }
            let unique = devices.enumerated().filter { last[$0.element.id] == $0.offset }.map(\.element)
            try Self.insertDevices(
                unique,
                onConflict: """
                    DO UPDATE SET profile = excluded.profile, domain = excluded.domain, site = excluded.site,
                        name = excluded.name, latitude = excluded.latitude, longitude = excluded.longitude,
                        area_code = excluded.area_code, owner = excluded.owner, attributes = excluded.attributes
                    """, in: s)
            return Set(ids).count - Int(existing)
        }
    }

    /// Every registered device, ordered by id.
    public func devices() throws -> [Device] {
        try read { s in
            try s.query("SELECT \(Self.deviceColumns) FROM devices ORDER BY id COLLATE \"C\"").map(Self.decodeDevice)
        }
    }

    /// Registered devices with last-seen, presence and metrics, filtered by site, domain and id.
    public func deviceRecords(site: String? = nil, domain: Domain? = nil, id: String? = nil) throws -> [DeviceRecord] {
        try read { s in
            try s.query(
                """
                SELECT \(Self.deviceColumns), last_seen, presence, presence_at,
                    array(SELECT metric FROM series s WHERE s.device = d.id ORDER BY metric COLLATE "C")
                FROM devices d
                WHERE ($1::text IS NULL OR d.site = $1) AND ($2::text IS NULL OR d.domain = $2)
                    AND ($3::text IS NULL OR d.id = $3)
                ORDER BY d.id COLLATE "C"
                """, bindings(site, domain?.rawValue, id)
            ).map { row in
                let r = row.makeRandomAccess()
                return DeviceRecord(
                    device: try Self.decodeDevice(row), lastSeen: try r[11].decode(Int64?.self),
                    presence: try r[12].decode(String?.self), presenceAt: try r[13].decode(Int64?.self),
                    metrics: try r[14].decode([String].self))
            }
        }
    }

    /// The device with `id`, or `nil`.
    public func device(id: String) throws -> Device? {
        try read { s in
            try s.query("SELECT \(Self.deviceColumns) FROM devices WHERE id = $1", bindings(id)).first.map(Self.decodeDevice)
        }
    }
}
