import Foundation
import GRDB
import ShennongCore

extension Store {
    /// Rejects received at or after `since`, newest first, at most `limit`.
    public func rejects(since: Int64 = 0, limit: Int = 1000) throws -> [RejectRecord] {
        try pool.read { db in
            try RejectRow
                .filter(Column("received_at") >= since)
                .order(Column("received_at").desc, Column("id").desc)
                .limit(limit)
                .fetchAll(db)
                .map(\.record)
        }
    }

    /// Rejects a replay decodes again, oldest first, at most `limit` (see
    /// ``RejectLog/rejectsToReplay(since:reason:device:limit:)``).
    public func rejectsToReplay(since: Int64, reason: String?, device: String?, limit: Int) throws -> [RejectRecord] {
        try pool.read { db in
            var request = RejectRow
                .filter(Column("received_at") >= since)
                .filter(Column("code") != RejectCode.payloadTooLarge.rawValue)
            if let device {
                request = request.filter(Column("device") == device || Column("topic").like("%/\(device)/%"))
            }
            if let reason {
                request = request.filter(Column("code") == reason || Column("reason").like("%\(reason)%"))
            }
            return try request
                .order(Column("received_at").asc, Column("id").asc)
                .limit(limit)
                .fetchAll(db)
                .map(\.record)
        }
    }
}
