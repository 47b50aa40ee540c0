import Foundation
import GRDB
import ShennongCore

/// Seals of compacted buckets on SQLite (``SealLedger``): one row per seal in
/// `bucket_seals`, written in the transaction that closes the bucket.
extension Store: SealLedger {
    static func registerSealMigrations(_ migrator: inout DatabaseMigrator) {
        // Never edit one once registered; add another.
        migrator.registerMigration(
            "seals-v1: bucket seals",
            sql: """
                CREATE TABLE bucket_seals (
                    seq INTEGER PRIMARY KEY,
                    bucket INTEGER NOT NULL,
                    until INTEGER NOT NULL,
                    series INTEGER NOT NULL,
                    readings INTEGER NOT NULL,
                    root TEXT NOT NULL,
                    prev TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    sealed_at INTEGER NOT NULL,
                    public_key TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    leaves BLOB NOT NULL
                );
                CREATE INDEX bucket_seals_bucket ON bucket_seals (bucket, seq);
                """)
    }

    static let sealColumns = "seq, bucket, until, series, readings, root, prev, hash, sealed_at, public_key, signature"

    static func seal(_ row: Row) -> BucketSeal {
        BucketSeal(
            sequence: row[0], bucketStart: row[1], bucketUntil: row[2], series: row[3], readings: row[4], root: row[5],
            previous: row[6], hash: row[7], sealedAt: row[8], publicKey: row[9], signature: row[10])
    }

    public func seals(after sequence: Int64, limit: Int) throws -> [BucketSeal] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.sealColumns) FROM bucket_seals WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [sequence, max(0, limit)]
            ).map(Self.seal)
        }
    }

    public func sealLeaves(sequence: Int64) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT leaves FROM bucket_seals WHERE seq = ?", arguments: [sequence]).map { [UInt8]($0) }
        }
    }

    public func sealBlocks(bucketStart start: Int64) throws -> [SealBlock]? {
        try pool.read { db in
            guard let bucket = try Self.bucket(start: start, in: db), bucket.hasBlocks else { return nil }
            return try Self.sealBlocks(bucket, in: db)
        }
    }

    public func sealableBuckets() throws -> [SealedBucketState] {
        try pool.read { db in
            try Self.allBuckets(in: db).map(\.sealState)
        }
    }

    public func sealRetentionHorizon() throws -> Int64 {
        try pool.read { db in try Self.rawHorizon(in: db) }
    }

    public func sealNextPending(with sealer: any BucketSealing, now: Int64?) throws -> BucketSeal? {
        let now = now ?? nowMillis()
        return try pool.write { db in
            guard let start = try Int64.fetchOne(db, sql: Self.unsealedSQL + " LIMIT 1"),
                let bucket = try Self.bucket(start: start, in: db)
            else { return nil }
            return try Self.sealBucket(bucket, sealer: sealer, now: now, in: db)
        }
    }

    /// Compacted buckets without raw readings waiting whose blocks no seal covers: none
    /// yet, or compacted again after the latest.
    static let unsealedSQL = """
        SELECT b.start FROM buckets b WHERE b.has_blocks = 1 AND b.has_raw = 0 AND NOT EXISTS (
            SELECT 1 FROM bucket_seals s WHERE s.bucket = b.start AND s.sealed_at >= coalesce(b.compacted_at, 0))
        ORDER BY b.start
        """

    /// The blocks of `bucket` with their series keys (`device/metric`).
    static func sealBlocks(_ bucket: BucketInfo, in db: Database) throws -> [SealBlock] {
        var blocks: [SealBlock] = []
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT coalesce(s.device || '/' || s.metric, '#' || b.series_id), b.data, b.count
                FROM \(bucket.blockTable) b LEFT JOIN series s ON s.id = b.series_id
                """)
        while let row = try rows.next() {
            blocks.append(SealBlock(seriesKey: row[0], data: [UInt8](row[1] as Data), count: row[2]))
        }
        return blocks
    }

    /// Seals `bucket` (its blocks as they are now) after the latest seal, inside the caller's
    /// write transaction. Nothing when the bucket has no blocks.
    @discardableResult
    static func sealBucket(_ bucket: BucketInfo, sealer: any BucketSealing, now: Int64, in db: Database) throws -> BucketSeal? {
        guard bucket.hasBlocks else { return nil }
        let blocks = try sealBlocks(bucket, in: db)
        let previous = try Row.fetchOne(db, sql: "SELECT \(sealColumns) FROM bucket_seals ORDER BY seq DESC LIMIT 1").map(seal)
        let record = try sealer.seal(
            bucketStart: bucket.start, bucketUntil: bucket.until, blocks: blocks, previous: previous, sealedAt: now)
        let s = record.seal
        try db.execute(
            sql: """
                INSERT INTO bucket_seals (\(sealColumns), leaves) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                s.sequence, s.bucketStart, s.bucketUntil, s.series, s.readings, s.root, s.previous, s.hash, s.sealedAt,
                s.publicKey, s.signature, Data(record.leaves),
            ])
        return s
    }
}
