import Foundation
import GRDB
import ShennongCore

/// A row of `devices`: the registered device, its attributes as a JSON object text (keys
/// sorted; NULL when there are none), and what ingest learns of its life.
struct DeviceRow: Encodable, SnakeCaseColumns, FetchableRecord, PersistableRecord {
    static let databaseTableName = "devices"

    var id: String
    var profile: String
    var domain: String
    var site: String?
    var name: String?
    var latitude: Double?
    var longitude: Double?
    var areaCode: String?
    var owner: String?
    var createdAt: Int64
    var attributes: String?

    init(_ d: Device) {
        id = d.id
        profile = d.profile
        domain = d.domain.rawValue
        site = d.site
        name = d.name
        latitude = d.latitude
        longitude = d.longitude
        areaCode = d.areaCode
        owner = d.owner
        createdAt = d.createdAt
        attributes = Self.encode(d.attributes)
    }

    /// Read by column name, not through `Decodable` (a county's registry of thousands of
    /// devices is loaded at start and every 30 s by ingest and rules).
    init(row: Row) throws {
        id = row["id"]
        profile = row["profile"]
        domain = row["domain"]
        site = row["site"]
        name = row["name"]
        latitude = row["latitude"]
        longitude = row["longitude"]
        areaCode = row["area_code"]
        owner = row["owner"]
        createdAt = row["created_at"]
        attributes = row["attributes"]
    }

    var device: Device {
        Device(
            id: id, profile: profile, domain: Domain(rawValue: domain) ?? .weather, site: site, name: name,
            latitude: latitude, longitude: longitude, areaCode: areaCode, owner: owner, createdAt: createdAt,
            attributes: Self.decode(attributes))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func encode(_ attributes: [String: Double]) -> String? {
        guard !attributes.isEmpty, let data = try? encoder.encode(attributes) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> [String: Double] {
        guard let text else { return [:] }
        return (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
    }
}

extension DeviceRow {
    /// A device with its life, from a `devices` row with `last_seen`, `presence`, `presence_at`
    /// and `metrics` (its series' metrics, comma-separated, sorted) beside its columns.
    static func record(_ row: Row) throws -> DeviceRecord {
        let metrics: String? = row["metrics"]
        return DeviceRecord(
            device: try DeviceRow(row: row).device, lastSeen: row["last_seen"], presence: row["presence"],
            presenceAt: row["presence_at"], metrics: metrics.map { $0.split(separator: ",").map(String.init) } ?? [])
    }
}
