import Crypto
import Foundation
import GRDB
import Logging
import ShennongCore
import Synchronization

/// The database of one Shennong server: devices, series, readings, rejects and tokens in one
/// SQLite file (WAL mode, GRDB `DatabasePool`).
///
/// The only type that touches SQL. Writes come from one ingest thread at a time; reads may
/// come from any thread. Reading storage is idempotent on (device, metric, timestamp): a
/// redelivered reading is ignored. The inside of reading storage (buckets, compression,
/// rollups) may change; callers only see this API.
public final class Store: Sendable {
    /// `PRAGMA application_id` of a Shennong database ("SHNG").
    public static let applicationID: Int32 = 0x5348_4E47
    /// WAL pages between automatic checkpoints on the writer (4 KiB pages: about 40 MiB).
    static let walAutocheckpointPages = 10_000
    /// What the WAL file is cut back to when a checkpoint lets it start over.
    static let walSizeLimitBytes = 4 * 1_048_576

    public let path: String
    let pool: DatabasePool
    let logger: Logger
    /// Bucket width, compaction and retention settings in force (the width is the database's own).
    public let options: StoreOptions
    /// Where the store reads the time (creation times, "now" of maintenance and alert transitions).
    public let clock: WallClock
    let layout: BucketLayout
    /// Series ids by (device, metric). Holds only ids of committed series rows.
    /// Device -> metric -> id: a burst looks its device up once per message, not per reading.
    private let seriesIDs = Mutex<[String: [String: Int64]]>([:])
    /// The newest timestamp and rollup cells of each series, between ingest bursts.
    let ingestCache = Mutex<IngestCache>(IngestCache())
    /// Whether bursts append to the commit feed (Store+CommitFeed.swift); off until a consumer asks.
    let commitFeedEnabled = Mutex(false)

    struct SeriesKey: Hashable, Sendable {
        var device: String
        var metric: String
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A database of the single-table layout (migration v1) is upgraded in place: its readings
    /// move into buckets of `options.bucketWidth` and the rollups are built. A database that
    /// already has buckets keeps its own bucket width, whatever `options` says.
    ///
    /// Throws ``StoreError`` with code `not_a_database` for a file that is not SQLite,
    /// `foreign_database` for a SQLite file of another application and `invalid_argument` for
    /// options that ``StoreOptions/validate()`` refuses.
    public init(
        path: String, durable: Bool = true, options: StoreOptions = StoreOptions(),
        clock: WallClock = .system, logger: Logger = Logger(label: "shennong.store")
    ) throws {
        try options.validate()
        self.path = path
        self.clock = clock
        self.logger = logger
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let writerCache = options.writerCacheMiB
        configuration.prepareDatabase { db in
            // FULL: a commit is on disk before the PUBACKs it covers leave (power-cut safe).
            try db.execute(sql: durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            // Ingest touches the newest page of every series in the open bucket and rollup
            // tables each minute: keep them in the writer's cache (64 MiB by default), and map
            // the file for reads, instead of coming back through pread.
            if !db.configuration.readonly {
                // A new file (no page yet; before the pool switches it to WAL, which writes its
                // header): pages freed by compaction and retention are returned to the file
                // system a few at a time (``returnFreePages(maxPages:)``) instead of by a
                // VACUUM that holds the writer for the whole file.
                if try Int.fetchOne(db, sql: "PRAGMA page_count") == 0 {
                    try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                }
                // A checkpoint that lets the WAL start over also cuts the file back to this
                // size: the WAL does not keep its largest size on disk between bursts.
                try db.execute(sql: "PRAGMA journal_size_limit = \(Store.walSizeLimitBytes)")
                try db.execute(sql: "PRAGMA cache_size = -\(writerCache * 1024)")
                // Checkpoint the WAL into the database every ~40 MiB instead of SQLite's 4 MiB:
                // each burst rewrites the same hot pages (newest raw, rollup and latest rows),
                // and a checkpoint copies a page once however often it was rewritten since.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Store.walAutocheckpointPages)")
            }
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
        }
        do {
            // Refuse a file that is not ours before the pool touches it (opening a pool switches
            // the file to WAL, which rewrites its header).
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
                var readOnly = Configuration()
                readOnly.readonly = true
                let probe = try DatabaseQueue(path: path, configuration: readOnly)
                defer { try? probe.close() }
                try Self.checkOwnership(probe, path: path)
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.checkOwnership(pool, path: path)
            try Self.migrator(options: options, logger: logger).migrate(pool)
            let width = try pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'bucket_width'")
            }
            guard let width, width > 0 else { throw StoreError(.corrupt, "\(path) has no bucket width") }
            if width != options.bucketWidth {
                logger.info(
                    "database keeps its own bucket width",
                    metadata: ["bucket_width_ms": "\(width)", "configured_ms": "\(options.bucketWidth)"])
            }
            var effective = options
            effective.bucketWidth = width
            self.options = effective
            layout = BucketLayout(width: width)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError(.notADatabase, "\(path) is not a SQLite database")
        } catch let error as DatabaseError {
            throw StoreError(.io, "cannot open \(path): \(error.message ?? error.description)")
        }
        // Every series id at once: a restarted server's first bursts would otherwise look each
        // of a county's series up (and try to insert it) inside their transactions.
        let known = try pool.read { db in
            var ids: [String: [String: Int64]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT id, device, metric FROM series")
            while let row = try rows.next() { ids[row[1], default: [:]][row[2]] = row[0] as Int64 }
            return ids
        }
        seriesIDs.withLock { $0 = known }
    }

    private static func checkOwnership(_ pool: some DatabaseReader, path: String) throws {
        try pool.read { db in
            let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
            if appID != Store.applicationID && (appID != 0 || tables > 0) {
                throw StoreError(
                    .foreignDatabase,
                    "\(path) is a SQLite database of another application (application_id \(appID), \(tables) tables); refusing to touch it"
                )
            }
        }
    }

    /// The committed series ids as they are now (a copy-on-write snapshot, taken once a burst).
    func seriesIDSnapshot() -> [String: [String: Int64]] {
        seriesIDs.withLock { $0 }
    }

    func seriesIDsMerge(_ created: [SeriesKey: Int64]) {
        seriesIDs.withLock { ids in
            for (key, id) in created where ids[key.device]?[key.metric] == nil {
                ids[key.device, default: [:]][key.metric] = id
            }
        }
    }

    func forgetSeriesIDs() {
        seriesIDs.withLock { $0.removeAll() }
    }

    /// Closes the database. Later calls fail.
    public func close() throws {
        try pool.close()
    }

    /// The schema version names applied to this database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator(options: options, logger: logger).appliedMigrations(db) }
    }
}

extension Store {
    /// Milliseconds since the epoch, now, by the store's clock.
    func nowMillis() -> Int64 { clock.now() }
}

/// The SQLite engine behind every store door of ShennongCore.
extension Store: ReadingIngest, ReadingQueries, DeviceRegistry, TokenStore, RejectLog, TraceLedger, StoreMaintenance,
    StoreHealth
{
    /// The database file.
    public var location: String { path }

    /// Reads the schema version (one small query).
    public func checkHealth() throws {
        _ = try appliedMigrations()
    }
}
