import PostgresNIO
import ShennongCore

/// Seals of compacted buckets on PostgreSQL (``SealLedger``): one row per seal in
/// `bucket_seals`, written in the transaction that closes the bucket, as on SQLite.
extension PostgresStore: SealLedger {
    static let sealSchema: [String] = [
        """
        CREATE TABLE bucket_seals (
            seq bigint PRIMARY KEY,
            bucket bigint NOT NULL,
            until bigint NOT NULL,
            series integer NOT NULL,
            readings bigint NOT NULL,
            root text NOT NULL,
            prev text NOT NULL,
            hash text NOT NULL,
            sealed_at bigint NOT NULL,
            public_key text NOT NULL,
            signature text NOT NULL,
            leaves bytea NOT NULL)
        """,
        "CREATE INDEX bucket_seals_bucket ON bucket_seals (bucket, seq)",
    ]

    static let sealColumns = "seq, bucket, until, series, readings, root, prev, hash, sealed_at, public_key, signature"

    static func seal(_ row: PostgresRow) throws -> BucketSeal {
        let r = row.makeRandomAccess()
        return BucketSeal(
            sequence: try r[0].decode(Int64.self), bucketStart: try r[1].decode(Int64.self),
            bucketUntil: try r[2].decode(Int64.self), series: Int(try r[3].decode(Int32.self)),
            readings: try r[4].decode(Int64.self), root: try r[5].decode(String.self), previous: try r[6].decode(String.self),
            hash: try r[7].decode(String.self), sealedAt: try r[8].decode(Int64.self), publicKey: try r[9].decode(String.self),
            signature: try r[10].decode(String.self))
    }

    public func seals(after sequence: Int64, limit: Int) throws -> [BucketSeal] {
        try read { s in
            try s.query(
                "SELECT \(Self.sealColumns) FROM bucket_seals WHERE seq > $1 ORDER BY seq LIMIT $2",
                bindings(sequence, Int64(max(0, limit)))
            ).map(Self.seal)
        }
    }

    public func sealLeaves(sequence: Int64) throws -> [UInt8]? {
        try read { s in
            try s.query("SELECT leaves FROM bucket_seals WHERE seq = $1", bindings(sequence)).first?.decode(ByteBuffer.self).bytes
        }
    }

    public func sealBlocks(bucketStart start: Int64) throws -> [SealBlock]? {
        try read { s in
            guard let bucket = try Self.bucket(start: start, in: s), bucket.hasBlocks else { return nil }
            return try Self.sealBlocks(bucket, in: s)
        }
    }

    public func sealableBuckets() throws -> [SealedBucketState] {
        try read { s in
            try Self.allBuckets(in: s).map(\.sealState)
        }
    }

    public func sealRetentionHorizon() throws -> Int64 {
        try read { s in
            try s.query("SELECT value FROM store_meta WHERE key = 'raw_horizon'").first?.decode(Int64.self) ?? .min
        }
    }

    public func sealNextPending(with sealer: any BucketSealing, now: Int64?) throws -> BucketSeal? {
        let now = now ?? nowMillis()
        return try write { s in
            guard let start = try s.query(Self.unsealedSQL + " ORDER BY b.start LIMIT 1").first?.decode(Int64.self),
                let bucket = try Self.bucket(start: start, in: s)
            else { return nil }
            return try Self.sealBucket(bucket, sealer: sealer, now: now, in: s)
        }
    }

    /// Compacted buckets without raw readings waiting whose blocks no seal covers: none
    /// yet, or compacted again after the latest.
    static let unsealedSQL = """
        SELECT b.start FROM buckets b WHERE b.has_blocks AND NOT b.has_raw AND NOT EXISTS (
            SELECT 1 FROM bucket_seals s WHERE s.bucket = b.start AND s.sealed_at >= coalesce(b.compacted_at, 0))
        """

    /// The blocks of `bucket` with their series keys (`device/metric`).
    static func sealBlocks(_ bucket: BucketInfo, in s: PostgresSession) throws -> [SealBlock] {
        try s.query(
            """
            SELECT coalesce(s.device || '/' || s.metric, '#' || b.series_id::text), b.data, b.count
            FROM blk b LEFT JOIN series s ON s.id = b.series_id WHERE b.bucket = $1
            """, bindings(bucket.start)
        ).map { row in
            let (key, data, count) = try row.decode((String, ByteBuffer, Int64).self)
            return SealBlock(seriesKey: key, data: data.bytes, count: count)
        }
    }

    /// Seals `bucket` (its blocks as they are now) after the latest seal, inside the caller's
    /// write transaction (which holds the writer lock). Nothing when the bucket has no blocks.
    @discardableResult
    static func sealBucket(_ bucket: BucketInfo, sealer: any BucketSealing, now: Int64, in s: PostgresSession) throws
        -> BucketSeal?
    {
        guard bucket.hasBlocks else { return nil }
        let blocks = try sealBlocks(bucket, in: s)
        let previous = try s.query("SELECT \(sealColumns) FROM bucket_seals ORDER BY seq DESC LIMIT 1").first.map(seal)
        let record = try sealer.seal(
            bucketStart: bucket.start, bucketUntil: bucket.until, blocks: blocks, previous: previous, sealedAt: now)
        let v = record.seal
        try s.query(
            "INSERT INTO bucket_seals (\(sealColumns), leaves) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            bindings(
                v.sequence, v.bucketStart, v.bucketUntil, Int32(v.series), v.readings, v.root, v.previous, v.hash, v.sealedAt,
                v.publicKey, v.signature, ByteBuffer(bytes: record.leaves)))
        return v
    }
}
