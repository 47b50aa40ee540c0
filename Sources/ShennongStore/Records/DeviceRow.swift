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

    /// The columns a `DeviceRow` is read from, in this order (``init(row:)`` reads them by
    /// position): every request GRDB builds for the record selects them.
    static let columns = [
        "id", "profile", "domain", "site", "name", "latitude", "longitude", "area_code", "owner", "created_at", "attributes",
    ]
    static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }
    /// ``columns`` as SQL, each qualified with `alias` (for hand-written queries).
    static func selectionSQL(_ alias: String) -> String {
        columns.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// Read by position (see ``columns``), not through `Decodable` nor by name (GRDB looks
    /// a name up case-insensitively, lowercasing it each time): a county's registry of
    /// thousands of devices is loaded at start and every 30 s by ingest and rules.
    init(row: Row) throws {
        id = row[0]
        profile = row[1]
        domain = row[2]
        site = row[3]
        name = row[4]
        latitude = row[5]
        longitude = row[6]
        areaCode = row[7]
        owner = row[8]
        createdAt = row[9]
        attributes = row[10]
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
    /// A device with its life, from a row of ``columns`` followed by `last_seen`, `presence`,
    /// `presence_at` and `metrics` (its series' metrics, comma-separated, sorted).
    static func record(_ row: Row) throws -> DeviceRecord {
        let life = columns.count
        let metrics: String? = row[life + 3]
        return DeviceRecord(
            device: try DeviceRow(row: row).device, lastSeen: row[life], presence: row[life + 1],
            presenceAt: row[life + 2], metrics: metrics.map { $0.split(separator: ",").map(String.init) } ?? [])
    }
}
