import PostgresNIO
import ShennongCore

/// Traceability's ledger (ShennongTrace): hash-chained records, codes and scan counters.
extension PostgresStore {
    static let traceColumns =
        "chain, seq, kind, subject, batch, item, payload, content_hash, prev_hash, hash, recorded_at"

    static func decodeTraceRecord(_ row: PostgresRow) throws -> TraceRecordRow {
        let (chain, seq, kind, subject, batch, item, payload, contentHash, prevHash, hash, recordedAt) = try row.decode(
            (String, Int64, String, String, String?, String?, String, String, String, String, Int64).self)
        return TraceRecordRow(
            chain: chain, seq: seq, kind: kind, subject: subject, batch: batch, item: item, payload: payload,
            contentHash: contentHash, prevHash: prevHash, hash: hash, recordedAt: recordedAt)
    }

    /// Appends a record to `chain` in one transaction (see ``TraceLedger``); codes are
    /// inserted beside it in one statement. A taken subject or code throws `conflict` and
    /// nothing is written.
    @discardableResult
    public func appendTraceRecord(
        chain: String, uniqueSubject: (kind: String, subject: String)? = nil, codes: [String] = [],
        make: (_ seq: Int64, _ prevHash: String) throws -> TraceRecordRow
    ) throws -> TraceRecordRow {
        try write { s in
            if let unique = uniqueSubject,
                try s.query(
                    "SELECT 1 FROM trace_records WHERE kind = $1 AND subject = $2", bindings(unique.kind, unique.subject)
                ).count > 0
            {
                throw StoreError(.conflict, "\(unique.kind) \(unique.subject) exists")
            }
            let head = try s.query(
                "SELECT seq, hash FROM trace_records WHERE chain = $1 ORDER BY seq DESC LIMIT 1", bindings(chain)
            ).first.map { try $0.decode((Int64, String).self) }
            let seq = head.map { $0.0 + 1 } ?? 0
            let prev = head?.1 ?? traceGenesisHash
            let row = try make(seq, prev)
            guard row.chain == chain, row.seq == seq, row.prevHash == prev else {
                throw StoreError(.invalidArgument, "record does not continue chain \(chain) at \(seq)")
            }
            try s.query(
                """
                INSERT INTO trace_records (\(Self.traceColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """,
                bindings(
                    row.chain, row.seq, row.kind, row.subject, row.batch, row.item, row.payload, row.contentHash,
                    row.prevHash, row.hash, row.recordedAt))
            if !codes.isEmpty {
                guard let batch = row.batch else { throw StoreError(.invalidArgument, "codes need a batch") }
                do {
                    try s.query(
                        """
                        INSERT INTO trace_codes (code, batch, issue_seq, issued_at)
                        SELECT c, $2, $3, $4 FROM unnest($1::text[]) AS c
                        """, bindings(codes, batch, seq, row.recordedAt))
                } catch let error as StoreError where error.code == .conflict {
                    throw StoreError(.conflict, "a code of this issue is already issued (\(error.message))")
                }
            }
            return row
        }
    }

    public func traceRecords(chain: String) throws -> [TraceRecordRow] {
        try read { s in
            try s.query("SELECT \(Self.traceColumns) FROM trace_records WHERE chain = $1 ORDER BY seq", bindings(chain))
                .map(Self.decodeTraceRecord)
        }
    }

    public func traceRecords(kind: String, subject: String? = nil) throws -> [TraceRecordRow] {
        try read { s in
            try s.query(
                """
                SELECT \(Self.traceColumns) FROM trace_records WHERE kind = $1 AND ($2::text IS NULL OR subject = $2)
                ORDER BY chain COLLATE "C", seq
                """, bindings(kind, subject)
            ).map(Self.decodeTraceRecord)
        }
    }

    public func traceChains() throws -> [String] {
        try read { s in
            try s.query("SELECT DISTINCT chain COLLATE \"C\" AS c FROM trace_records ORDER BY c").map { try $0.decode(String.self) }
        }
    }

    public func traceCode(_ code: String) throws -> TraceCodeRow? {
        try read { s in
            try s.query("SELECT code, batch, issue_seq, issued_at FROM trace_codes WHERE code = $1", bindings(code)).first
                .map { row in
                    let (code, batch, seq, at) = try row.decode((String, String, Int64, Int64).self)
                    return TraceCodeRow(code: code, batch: batch, issueSeq: seq, issuedAt: at)
                }
        }
    }

    public func traceCodes(batch: String, issueSeq: Int64? = nil) throws -> [String] {
        try read { s in
            try s.query(
                """
                SELECT code FROM trace_codes WHERE batch = $1 AND ($2::int8 IS NULL OR issue_seq = $2)
                ORDER BY code COLLATE "C"
                """, bindings(batch, issueSeq)
            ).map { try $0.decode(String.self) }
        }
    }

    public func traceCodeCounts(batch: String) throws -> [Int64: Int] {
        try read { s in
            var counts: [Int64: Int] = [:]
            for row in try s.query(
                "SELECT issue_seq, count(*)::int8 FROM trace_codes WHERE batch = $1 GROUP BY issue_seq", bindings(batch))
            {
                let (seq, n) = try row.decode((Int64, Int64).self)
                counts[seq] = Int(n)
            }
            return counts
        }
    }

    public func traceOrphanCodes() throws -> [(batch: String, issueSeq: Int64, count: Int)] {
        try read { s in
            try s.query(
                """
                SELECT c.batch, c.issue_seq, count(*)::int8 FROM trace_codes c
                WHERE NOT EXISTS (SELECT 1 FROM trace_records r
                    WHERE r.chain = 'batch:' || c.batch AND r.seq = c.issue_seq AND r.kind = 'codes')
                GROUP BY c.batch, c.issue_seq
                """
            ).map { row in
                let (batch, seq, n) = try row.decode((String, Int64, Int64).self)
                return (batch: batch, issueSeq: seq, count: Int(n))
            }
        }
    }

    public func traceScan(code: String, maxNetworks: Int = 64) throws -> TraceScanRow? {
        try read { s in
            guard
                let (count, first, last) = try s.query(
                    "SELECT count, first_at, last_at FROM trace_scans WHERE code = $1", bindings(code)
                ).first.map({ try $0.decode((Int64, Int64, Int64).self) })
            else { return nil }
            let networks = try s.query(
                "SELECT network FROM trace_scan_networks WHERE code = $1 LIMIT $2", bindings(code, Int64(max(0, maxNetworks)))
            ).map { try $0.decode(String.self) }
            return TraceScanRow(code: code, count: count, firstAt: first, lastAt: last, networks: networks)
        }
    }

    public func saveTraceScans(_ rows: [TraceScanRow]) throws {
        guard !rows.isEmpty else { return }
        // One row per code (the last given wins) for the upsert; every network is added.
        var last: [String: TraceScanRow] = [:]
        for row in rows { last[row.code] = row }
        let scans = Array(last.values)
        let pairs = rows.flatMap { row in row.networks.map { (row.code, $0) } }
        try write { s in
            try s.query(
                """
                INSERT INTO trace_scans (code, count, first_at, last_at)
                SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[])
                ON CONFLICT (code) DO UPDATE SET count = excluded.count, first_at = excluded.first_at,
                    last_at = excluded.last_at
                """, bindings(scans.map(\.code), scans.map(\.count), scans.map(\.firstAt), scans.map(\.lastAt)))
            if !pairs.isEmpty {
                try s.query(
                    """
                    INSERT INTO trace_scan_networks (code, network) SELECT * FROM unnest($1::text[], $2::text[])
                    ON CONFLICT DO NOTHING
                    """, bindings(pairs.map(\.0), pairs.map(\.1)))
            }
        }
    }
}
