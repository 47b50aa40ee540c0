import Foundation
import GRDB
import ShennongCore

extension Store {
    /// Rejects received at or after `since`, newest first, at most `limit`.
    public func rejects(since: Int64 = 0, limit: Int = 1000) throws -> [RejectRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM rejects WHERE received_at >= ? ORDER BY received_at DESC, id DESC LIMIT ?
                    """,
                arguments: [since, limit]
            ).map { row in
                let code: String = row["code"]
                let payload: Data = row["payload"]
                return RejectRecord(
                    id: row["id"], receivedAt: row["received_at"], topic: row["topic"], device: row["device"],
                    payload: [UInt8](payload), code: RejectCode(rawValue: code) ?? .unsupportedPayload,
                    reason: row["reason"], field: row["field"])
            }
        }
    }
}
