import PostgresNIO
import ShennongCore

extension PostgresStore {
    static let rejectColumns = "id, received_at, topic, device, payload, code, reason, field"

    static func decodeReject(_ row: PostgresRow) throws -> RejectRecord {
        let (id, receivedAt, topic, device, payload, code, reason, field) = try row.decode(
            (Int64, Int64, String, String?, ByteBuffer, String, String, String?).self)
        return RejectRecord(
            id: id, receivedAt: receivedAt, topic: topic, device: device, payload: payload.bytes,
            code: RejectCode(rawValue: code) ?? .unsupportedPayload, reason: reason, field: field)
    }

    /// Rejects received at or after `since`, newest first, at most `limit`.
    public func rejects(since: Int64 = 0, limit: Int = 1000) throws -> [RejectRecord] {
        try read { s in
            try s.query(
                "SELECT \(Self.rejectColumns) FROM rejects WHERE received_at >= $1 ORDER BY received_at DESC, id DESC LIMIT $2",
                bindings(since, Int64(max(0, limit)))
            ).map(Self.decodeReject)
        }
    }

    /// Rejects a replay decodes again, oldest first, at most `limit` (see
    /// ``RejectLog/rejectsToReplay(since:reason:device:limit:)``); the text matches as SQLite's `LIKE` does
    /// (ASCII case ignored).
    public func rejectsToReplay(since: Int64, reason: String?, device: String?, limit: Int) throws -> [RejectRecord] {
        try read { s in
            try s.query(
                """
                SELECT \(Self.rejectColumns) FROM rejects
                WHERE received_at >= $1 AND code <> $2
                    AND ($3::text IS NULL OR device = $3 OR topic ILIKE '%/' || $3 || '/%')
                    AND ($4::text IS NULL OR code = $4 OR reason ILIKE '%' || $4 || '%')
                ORDER BY received_at, id LIMIT $5
                """,
                bindings(since, RejectCode.payloadTooLarge.rawValue, device, reason, Int64(max(0, limit)))
            ).map(Self.decodeReject)
        }
    }
}
