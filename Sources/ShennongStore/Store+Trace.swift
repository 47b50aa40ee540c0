import ShennongCore
import GRDB


/// Tables of traceability (ShennongTrace): records (hash-chained), codes, scans.
extension Store {
    /// The hash before the first record of every chain.
    public static let traceGenesisHash = ShennongCore.traceGenesisHash

    static func registerTraceMigrations(_ migrator: inout DatabaseMigrator) {
        // Add migrations here ("v3-trace: ..."); never edit one once registered.
        migrator.registerMigration(
            "v3-trace: records, codes, scans",
            sql: """
                CREATE TABLE trace_records (
                    id INTEGER PRIMARY KEY,
                    chain TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    batch TEXT,
                    item TEXT,
                    payload TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    UNIQUE(chain, seq)
                );
                CREATE INDEX trace_records_subject ON trace_records(kind, subject);
                CREATE INDEX trace_records_batch ON trace_records(batch, kind);
                CREATE TABLE trace_codes (
                    code TEXT PRIMARY KEY NOT NULL,
                    batch TEXT NOT NULL,
                    issue_seq INTEGER NOT NULL,
                    issued_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX trace_codes_batch ON trace_codes(batch, issue_seq);
                CREATE TABLE trace_scans (
                    code TEXT PRIMARY KEY NOT NULL,
                    count INTEGER NOT NULL,
                    first_at INTEGER NOT NULL,
                    last_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE trace_scan_networks (
                    code TEXT NOT NULL,
                    network TEXT NOT NULL,
                    PRIMARY KEY (code, network)
                ) WITHOUT ROWID;
                """)
    }

    /// Appends a record to `chain` in one transaction: `make` receives the next seq and the
    /// hash of the chain's head (``traceGenesisHash`` for a new chain) and returns the row;
    /// `codes`, if any, are inserted beside it (one prepared statement, same transaction).
    ///
    /// With `uniqueSubject`, a record of the same kind and subject must not exist (throws
    /// `conflict`). A code already issued throws `conflict` and nothing is written.
    @discardableResult
    public func appendTraceRecord(
        chain: String, uniqueSubject: (kind: String, subject: String)? = nil, codes: [String] = [],
        make: (_ seq: Int64, _ prevHash: String) throws -> TraceRecordRow
    ) throws -> TraceRecordRow {
        try pool.write { db in
            if let unique = uniqueSubject,
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM trace_records WHERE kind = ? AND subject = ?",
                    arguments: [unique.kind, unique.subject]) == true
            {
                throw StoreError(.conflict, "\(unique.kind) \(unique.subject) exists")
            }
            let head = try Row.fetchOne(
                db, sql: "SELECT seq, hash FROM trace_records WHERE chain = ? ORDER BY seq DESC LIMIT 1",
                arguments: [chain])
            let seq: Int64 = head.map { $0[0] + 1 } ?? 0
            let prev: String = head?[1] ?? Self.traceGenesisHash
            let row = try make(seq, prev)
            guard row.chain == chain, row.seq == seq, row.prevHash == prev else {
                throw StoreError(.invalidArgument, "record does not continue chain \(chain) at \(seq)")
            }
            try CoreRecord(row).insert(db)
            if !codes.isEmpty {
                guard let batch = row.batch else { throw StoreError(.invalidArgument, "codes need a batch") }
                let insert = try db.makeStatement(
                    sql: "INSERT INTO trace_codes (code, batch, issue_seq, issued_at) VALUES (?, ?, ?, ?)")
                for code in codes {
                    do {
                        try insert.execute(arguments: [code, batch, seq, row.recordedAt])
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                        throw StoreError(.conflict, "code \(code) is already issued")
                    }
                }
            }
            return row
        }
    }

    /// The records of `chain`, in order.
    public func traceRecords(chain: String) throws -> [TraceRecordRow] {
        try pool.read { db in
            try CoreRecord<TraceRecordRow>.filter(Column("chain") == chain).order(Column("seq")).fetchAll(db).map(\.value)
        }
    }

    /// Records of one kind (every subject, or one), in chain order.
    public func traceRecords(kind: String, subject: String? = nil) throws -> [TraceRecordRow] {
        try pool.read { db in
            var request = CoreRecord<TraceRecordRow>.filter(Column("kind") == kind)
            if let subject { request = request.filter(Column("subject") == subject) }
            return try request.order(Column("chain"), Column("seq")).fetchAll(db).map(\.value)
        }
    }

    /// Every chain name, sorted.
    public func traceChains() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT chain FROM trace_records ORDER BY chain") }
    }

    /// The issued code `code` (canonical), or `nil`.
    ///
    /// Every public page view asks this: one cached statement (prepared once per reader, so
    /// neither SQLite's parser nor GRDB's authorizer runs per view), no transaction (a single
    /// SELECT reads one snapshot by itself), columns read by position.
    public func traceCode(_ code: String) throws -> TraceCodeRow? {
        try pool.unsafeRead { db in
            let statement = try db.cachedStatement(sql: "SELECT code, batch, issue_seq, issued_at FROM trace_codes WHERE code = ?")
            return try Row.fetchOne(statement, arguments: [code]).map {
                TraceCodeRow(code: $0[0], batch: $0[1], issueSeq: $0[2], issuedAt: $0[3])
            }
        }
    }

    /// Codes of `batch` (of one issue, or all), sorted.
    public func traceCodes(batch: String, issueSeq: Int64? = nil) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT code FROM trace_codes WHERE batch = ?1 AND (?2 IS NULL OR issue_seq = ?2) ORDER BY code",
                arguments: [batch, issueSeq])
        }
    }

    /// Per issue seq, how many codes of `batch` the table holds.
    public func traceCodeCounts(batch: String) throws -> [Int64: Int] {
        try pool.read { db in
            var counts: [Int64: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT issue_seq, count(*) FROM trace_codes WHERE batch = ? GROUP BY issue_seq",
                arguments: [batch])
            {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    /// Batches that have codes whose issue record is missing from their chain: a code slipped
    /// into the table. Returns (batch, issue seq, count).
    public func traceOrphanCodes() throws -> [(batch: String, issueSeq: Int64, count: Int)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.batch, c.issue_seq, count(*) FROM trace_codes c
                    WHERE NOT EXISTS (SELECT 1 FROM trace_records r
                        WHERE r.chain = 'batch:' || c.batch AND r.seq = c.issue_seq AND r.kind = 'codes')
                    GROUP BY c.batch, c.issue_seq
                    """
            ).map { (batch: $0[0], issueSeq: $0[1], count: $0[2]) }
        }
    }

    /// Stored scan counters of `code`, with at most `maxNetworks` of its networks.
    public func traceScan(code: String, maxNetworks: Int = 64) throws -> TraceScanRow? {
        try pool.read { db in
            // Cached statements: a page view's first scan of a code asks this.
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT count, first_at, last_at FROM trace_scans WHERE code = ?"), arguments: [code])
            else {
                return nil
            }
            let networks = try String.fetchAll(
                db.cachedStatement(sql: "SELECT network FROM trace_scan_networks WHERE code = ? LIMIT ?"), arguments: [code, maxNetworks])
            return TraceScanRow(
                code: code, count: row["count"], firstAt: row["first_at"], lastAt: row["last_at"], networks: networks)
        }
    }

    /// Writes the scan counters of `rows` (absolute values; networks are added) in one transaction.
    public func saveTraceScans(_ rows: [TraceScanRow]) throws {
        guard !rows.isEmpty else { return }
        try pool.write { db in
            let scans = try db.makeStatement(
                sql: """
                    INSERT INTO trace_scans (code, count, first_at, last_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(code) DO UPDATE SET count = excluded.count, first_at = excluded.first_at,
                        last_at = excluded.last_at
                    """)
            let networks = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO trace_scan_networks (code, network) VALUES (?, ?)")
            for row in rows {
                try scans.execute(arguments: [row.code, row.count, row.firstAt, row.lastAt])
                for network in row.networks { try networks.execute(arguments: [row.code, network]) }
            }
        }
    }
}
