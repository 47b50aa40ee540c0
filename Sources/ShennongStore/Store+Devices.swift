import Foundation
import GRDB
import ShennongCore

extension Store {
    /// Registers `device`. Throws `conflict` if the id is taken.
    public func addDevice(_ device: Device) throws {
        try pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM devices WHERE id = ?", arguments: [device.id]) == true {
                throw StoreError(.conflict, "device \(device.id) is already registered")
            }
            try insertDevice(device, in: db, ignoreExisting: false)
        }
    }

    /// Registers `device`, or updates its profile, domain and descriptive fields if it exists.
    public func upsertDevice(_ device: Device) throws {
        try upsertDevices([device])
    }

    /// Insert or update of one device row (created_at kept from the first registration).
    static let upsertDeviceSQL = """
        INSERT INTO devices
            (id, profile, domain, site, name, latitude, longitude, area_code, owner, created_at, attributes)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET profile = excluded.profile, domain = excluded.domain,
            site = excluded.site, name = excluded.name, latitude = excluded.latitude,
            longitude = excluded.longitude, area_code = excluded.area_code, owner = excluded.owner,
            attributes = excluded.attributes
        """

    /// Registers or updates every device of `devices` in one transaction (all or nothing):
    /// a bulk import. Returns how many were new.
    @discardableResult
    public func upsertDevices(_ devices: [Device]) throws -> Int {
        try pool.write { db in
            let exists = try db.cachedStatement(sql: "SELECT 1 FROM devices WHERE id = ?")
            var created = 0
            for device in devices {
                if try Bool.fetchOne(exists, arguments: [device.id]) != true { created += 1 }
                try db.execute(sql: Self.upsertDeviceSQL, arguments: Self.arguments(of: device))
            }
            return created
        }
    }

    func insertDevice(_ device: Device, in db: Database, ignoreExisting: Bool) throws {
        try db.execute(
            sql: """
                INSERT \(ignoreExisting ? "OR IGNORE " : "")INTO devices
                    (id, profile, domain, site, name, latitude, longitude, area_code, owner, created_at, attributes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: Self.arguments(of: device))
    }

    private static func arguments(of d: Device) -> StatementArguments {
        let row = DeviceRow(d)
        return [
            row.id, row.profile, row.domain, row.site, row.name, row.latitude, row.longitude, row.areaCode, row.owner,
            row.createdAt, row.attributes,
        ]
    }

    /// Every registered device, ordered by id.
    public func devices() throws -> [Device] {
        try pool.read { db in try DeviceRow.order(Column("id")).fetchAll(db).map(\.device) }
    }

    /// Registered devices with last-seen, presence and metrics, filtered by site and domain.
    public func deviceRecords(site: String? = nil, domain: Domain? = nil, id: String? = nil) throws -> [DeviceRecord] {
        try pool.read { db in
            // A cursor: rows read in place, not copied first.
            try Array(
                Row.fetchCursor(
                    db,
                    sql: """
                        SELECT \(DeviceRow.selectionSQL("d")), d.last_seen, d.presence, d.presence_at, (SELECT group_concat(metric, ',') FROM
                            (SELECT metric FROM series s WHERE s.device = d.id ORDER BY metric)) AS metrics
                        FROM devices d
                        WHERE (?1 IS NULL OR d.site = ?1) AND (?2 IS NULL OR d.domain = ?2) AND (?3 IS NULL OR d.id = ?3)
                        ORDER BY d.id
                        """,
                    arguments: [site, domain?.rawValue, id]
                ).map(DeviceRow.record))
        }
    }

    /// The device with `id`, or `nil`.
    public func device(id: String) throws -> Device? {
        try pool.read { db in try DeviceRow.fetchOne(db, key: id)?.device }
    }
}
