import Foundation
import Logging
import PostgresNIO
import ShennongAlerts
import ShennongCore
import Synchronization

/// The PostgreSQL engine behind every store door of ShennongCore (and ShennongAlerts'
/// ``AlertStore``), with the SQLite engine's semantics: readings idempotent on (series, ts)
/// in time buckets that are native range partitions of one parent table, closed buckets
/// compacted into the same blocks, 1 m / 1 h / 1 d rollups written in the readings'
/// transaction, retention that detaches and drops whole partitions.
///
/// The doors are synchronous: each call waits on postgres-nio from the calling thread (see
/// ``PostgresSession``), on a connection of the store's small pool. Every write transaction
/// first takes one transaction-scoped advisory lock (``writerLockKey``), so writers are
/// serialized as on SQLite, across processes and nodes too: a compaction never races a late
/// reading into the bucket it compacts.
public final class PostgresStore: Sendable {
    /// The advisory lock every write transaction holds ("SHNG").
    public static let writerLockKey: Int64 = 0x5348_4E47
    /// The advisory lock held while migrations run (two nodes starting together).
    static let migrationLockKey: Int64 = 0x5348_4E48

    public let settings: PostgresSettings
    /// Bucket width, compaction and retention in force (the width is the database's own).
    public let options: StoreOptions
    let layout: BucketLayout
    /// Where the store reads the time (creation times, "now" of maintenance and alert transitions).
    public let clock: WallClock
    let logger: Logger
    let connections: PostgresConnections
    /// Series ids by device and metric: only ids of committed series rows (series are never deleted).
    let seriesIDs = Mutex<[String: [String: Int64]]>([:])
    /// Whether bursts append to the commit feed (PostgresStore+CommitFeed.swift); off until a consumer asks.
    let commitFeedEnabled = Mutex(false)
    /// The leader lease's connection and fencing epoch (PostgresStore+Cluster.swift).
    let lease = PostgresLease()

    /// Connects to the database `settings` names and brings its schema up to date (versioned
    /// migrations, each in its own transaction, under an advisory lock). A new database takes
    /// `options.bucketWidth`; an existing one keeps its own.
    ///
    /// Throws ``StoreError`` `io` when the server cannot be reached or refuses, `foreign_database`
    /// when the database holds tables of something else, `invalid_argument` for bad options.
    public init(
        settings: PostgresSettings, options: StoreOptions = StoreOptions(), clock: WallClock = .system,
        logger: Logger = Logger(label: "shennong.postgres")
    ) throws {
        try options.validate()
        self.settings = settings
        self.clock = clock
        self.logger = logger
        let connections = try PostgresConnections(settings: settings, logger: logger)
        self.connections = connections
        do {
            let width = try connections.withSession { s in
                try Self.migrate(s, options: options, logger: logger)
            }
            var effective = options
            effective.bucketWidth = width
            if width != options.bucketWidth {
                logger.info(
                    "database keeps its own bucket width",
                    metadata: ["bucket_width_ms": "\(width)", "configured_ms": "\(options.bucketWidth)"])
            }
            self.options = effective
            layout = BucketLayout(width: width)
        } catch {
            connections.close()
            throw error
        }
    }

    /// Connects to `url` (see ``PostgresSettings/init(url:password:)``).
    public convenience init(
        url: String, password: String? = nil, options: StoreOptions = StoreOptions(), clock: WallClock = .system,
        logger: Logger = Logger(label: "shennong.postgres")
    ) throws {
        try self.init(settings: PostgresSettings(url: url, password: password), options: options, clock: clock, logger: logger)
    }

    deinit {
        connections.close()
    }

    /// Closes the connections. Later calls fail.
    public func close() throws {
        connections.close()
    }

    func nowMillis() -> Int64 { clock.now() }

    /// Runs `body` on a connection, outside any transaction (reads).
    func read<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try connections.withSession(body)
    }

    /// Runs `body` in one write transaction holding ``writerLockKey``; commits when it
    /// returns, rolls back when it throws. Returns once the commit is durable.
    func write<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try connections.withSession { s in
            try s.execute("BEGIN")
            do {
                try s.query("SELECT pg_advisory_xact_lock(\(Self.writerLockKey))")
                let result = try body(s)
                try s.execute("COMMIT")
                return result
            } catch {
                try? s.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// The schema version names applied to this database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try read { s in
            try s.query("SELECT name FROM schema_migrations ORDER BY seq").map { try $0.decode(String.self) }
        }
    }

    func seriesIDsMerge(_ created: [SeriesKey: Int64]) {
        seriesIDs.withLock { ids in
            for (key, id) in created where ids[key.device]?[key.metric] == nil {
                ids[key.device, default: [:]][key.metric] = id
            }
        }
    }

    struct SeriesKey: Hashable, Sendable {
        var device: String
        var metric: String
    }
}

/// Every door of the SQLite engine, on PostgreSQL.
extension PostgresStore: ReadingIngest, ReadingQueries, DeviceRegistry, TokenStore, RejectLog, TraceLedger,
    StoreMaintenance, StoreHealth
{
    /// The database URL without its password.
    public var location: String { settings.location }

    /// Reads the schema version (one small query).
    public func checkHealth() throws {
        _ = try read { s in try s.query("SELECT 1") }
    }
}
