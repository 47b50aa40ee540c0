import Foundation
import GRDB
import ShennongCore

/// A row of `rejects` as listings read it (ingest writes rejects with its own prepared
/// statement inside the burst's transaction).
struct RejectRow: Decodable, SnakeCaseColumns, FetchableRecord, TableRecord {
    static let databaseTableName = "rejects"

    var id: Int64
    var receivedAt: Int64
    var topic: String
    var device: String?
    var payload: Data
    var code: String
    var reason: String
    var field: String?

    var record: RejectRecord {
        RejectRecord(
            id: id, receivedAt: receivedAt, topic: topic, device: device, payload: [UInt8](payload),
            code: RejectCode(rawValue: code) ?? .unsupportedPayload, reason: reason, field: field)
    }
}
