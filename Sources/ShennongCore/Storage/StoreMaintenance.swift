import Foundation

/// Sizes and counts for `shennong db stats`.
public struct StoreStats: Sendable, Codable {
    public var devices: Int
    public var series: Int
    public var readings: Int
    public var rejects: Int
    public var fileBytes: Int64
    /// Time buckets registered (with any table left).
    public var buckets: Int = 0
    /// Readings in raw bucket tables (not yet compacted, or late ones).
    public var rawReadings: Int = 0
    /// Readings inside compacted blocks.
    public var compactedReadings: Int = 0
    /// Bytes of free pages inside the file (`fileBytes` includes them): reused by later
    /// writes, or returned to the file system by maintenance where the engine can.
    public var freeBytes: Int64 = 0

    public init(
        devices: Int, series: Int, readings: Int, rejects: Int, fileBytes: Int64, buckets: Int = 0, rawReadings: Int = 0,
        compactedReadings: Int = 0
    ) {
        self.buckets = buckets
        self.rawReadings = rawReadings
        self.compactedReadings = compactedReadings
        self.devices = devices
        self.series = series
        self.readings = readings
        self.rejects = rejects
        self.fileBytes = fileBytes
    }
}

/// Size and state of one time bucket, for `shennong db stats`.
public struct BucketStats: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable {
        /// Still receiving readings (or within the compaction grace).
        case open
        /// Closed, waiting for compaction.
        case closed
        /// Compacted: blocks only.
        case compacted
        /// Compacted, with late readings in a raw table again.
        case reopened
        /// Raw readings dropped by retention; packed rollups remain.
        case retired
    }

    public var start: Int64
    public var until: Int64
    public var state: State
    /// Readings in the raw table.
    public var rawReadings: Int
    /// Readings in compacted blocks.
    public var compactedReadings: Int
    /// Bytes of the raw and block tables (SQLite pages, from `dbstat`), or `nil` if the
    /// SQLite library lacks `dbstat`.
    public var readingBytes: Int64?
    /// Bytes of the packed 1 m and 1 h cells of this bucket.
    public var rollupBytes: Int64?

    public var readings: Int { rawReadings + compactedReadings }

    /// Bytes a reading takes here (raw and block tables), or `nil`.
    public var bytesPerReading: Double? {
        guard let readingBytes, readings > 0 else { return nil }
        return Double(readingBytes) / Double(readings)
    }

    /// 16 bytes (an 8-byte timestamp and an 8-byte double) over ``bytesPerReading``: above 1
    /// is smaller than a bare pair; a SQLite row of the raw layout costs about 20–25 bytes.
    public var compressionRatio: Double? { bytesPerReading.map { 16 / $0 } }

    public init(
        start: Int64, until: Int64, state: State, rawReadings: Int, compactedReadings: Int, readingBytes: Int64?,
        rollupBytes: Int64?
    ) {
        self.start = start
        self.until = until
        self.state = state
        self.rawReadings = rawReadings
        self.compactedReadings = compactedReadings
        self.readingBytes = readingBytes
        self.rollupBytes = rollupBytes
    }
}

/// Size of one rollup tier, for `shennong db stats`.
public struct TierStats: Sendable, Hashable, Codable {
    public var tier: StorageTier
    /// Cells in the live table.
    public var liveCells: Int
    /// Cells packed into per-bucket tables.
    public var packedCells: Int
    /// Bytes of the live table and the packed tables, or `nil` without `dbstat`.
    public var bytes: Int64?

    public init(tier: StorageTier, liveCells: Int, packedCells: Int, bytes: Int64?) {
        self.tier = tier
        self.liveCells = liveCells
        self.packedCells = packedCells
        self.bytes = bytes
    }
}

/// What a compaction run did.
public struct CompactionReport: Sendable, Hashable, Codable {
    /// Buckets whose raw table was emptied and dropped.
    public var buckets = 0
    /// Series-buckets written as blocks.
    public var series = 0
    /// Raw readings moved into blocks.
    public var readings = 0
    /// Write transactions used.
    public var transactions = 0

    public init() {}

    /// Adds the counts of `other` (a later batch) to these.
    public mutating func add(_ other: CompactionReport) {
        buckets += other.buckets
        series += other.series
        readings += other.readings
        transactions += other.transactions
    }
}

/// One thing retention drops: a bucket's tables of one tier, or a tier's live rollup rows
/// older than its cutoff.
public struct RetentionItem: Sendable, Hashable, Codable {
    public var tier: StorageTier
    /// Start of the bucket (ms), or `nil` for live rollup rows not in a bucket table.
    public var bucketStart: Int64?
    /// End of the bucket, or the cutoff for live rows: everything dropped is older.
    public var until: Int64
    /// The tables dropped (for live rows: the table rows are deleted from).
    public var tables: [String]
    /// Readings (raw tier) or rollup cells (other tiers) dropped.
    public var rows: Int

    public init(tier: StorageTier, bucketStart: Int64?, until: Int64, tables: [String], rows: Int) {
        self.tier = tier
        self.bucketStart = bucketStart
        self.until = until
        self.tables = tables
        self.rows = rows
    }
}

/// What a retention run dropped, or with `dryRun` would drop.
public struct RetentionReport: Sendable, Hashable, Codable {
    public var dryRun: Bool
    /// The time the cutoffs were computed from.
    public var now: Int64
    /// Per tier with a retention: data older than this goes.
    public var cutoffs: [StorageTier: Int64]
    public var items: [RetentionItem]

    public init(dryRun: Bool, now: Int64, cutoffs: [StorageTier: Int64], items: [RetentionItem]) {
        self.dryRun = dryRun
        self.now = now
        self.cutoffs = cutoffs
        self.items = items
    }
}





/// The door for keeping a store in shape: the maintenance service (compaction, retention) and
/// the `db` admin commands. `now` is the time the work is judged from (`nil`: the clock).
public protocol StoreMaintenance: Sendable {
    /// The clock `now` defaults to.
    var clock: WallClock { get }
    /// Compacts every closed bucket in short transactions, asking `shouldContinue` between them.
    @discardableResult
    func compact(now: Int64?, shouldContinue: () -> Bool) throws -> CompactionReport
    /// Compacts at most one batch of series (one transaction); an empty report when nothing is left.
    func compactBatch(now: Int64?) throws -> CompactionReport
    /// Drops what each tier's retention no longer keeps; with `dryRun`, only lists it.
    @discardableResult
    func retention(now: Int64?, dryRun: Bool) throws -> RetentionReport
    /// Sizes and counts of the whole store.
    func stats() throws -> StoreStats
    /// Per bucket: state, readings and bytes, oldest first (an admin query, slow on a big store).
    func bucketStats(now: Int64?) throws -> [BucketStats]
    /// Size of each rollup tier.
    func tierStats() throws -> [TierStats]
}

extension StoreMaintenance {
    /// Compacts every closed bucket (one whose end is at least `options.compactionGrace`
    /// before `now`) with ``compactBatch(now:)`` until it has nothing left to do, so ingest
    /// goes on between the transactions; `shouldContinue` is asked before each (for
    /// shutdown). `now` (default: the store's clock) is fixed for the whole run.
    ///
    /// Per series and bucket this writes one block row (count, min, max, sum, first, last and
    /// the encoded points) and packs the bucket's 1 m and 1 h rollup cells. Each block is
    /// decoded and compared with its input before the raw rows go.
    @discardableResult
    public func compact(now: Int64? = nil, shouldContinue: () -> Bool = { true }) throws -> CompactionReport {
        let now = now ?? clock.now()
        var total = CompactionReport()
        while shouldContinue() {
            let step = try compactBatch(now: now)
            guard step.transactions > 0 else { break }
            total.add(step)
        }
        return total
    }
}

/// A cheap check that the store answers (for `/healthz`).
public protocol StoreHealth: Sendable {
    /// Throws when the store cannot be read.
    func checkHealth() throws
}
