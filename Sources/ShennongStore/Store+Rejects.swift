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
}
