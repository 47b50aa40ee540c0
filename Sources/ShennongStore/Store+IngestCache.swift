import ShennongCore
import GRDB

/// What ingest remembers of each series between bursts, so that a burst in time order
/// writes its rollups without reading them back first: the newest stored timestamp of each
/// series, and per rollup tier the last cell it wrote for the series (its "head"), with the
/// exact content that row has in the database.
///
/// The cache is a copy of rows, so it is only trusted while nothing else changes them:
/// - another process's commit (a `shennong db` command) changes `PRAGMA data_version` on the
///   writer connection, which each burst checks before it uses the cache;
/// - this process's own writers of readings, rollups and `latest` (compaction, retention)
///   call ``Store/invalidateIngestCache()``;
/// - a burst takes the cache out for its transaction and puts it back only after the commit,
///   so a rolled-back burst leaves no trace in it (the cache starts empty again).
struct IngestCache: Sendable {
    /// What the cache knows of one series.
    struct SeriesEntry: Sendable {
        /// Newest stored timestamp (what `latest` holds); `nil`: the series has no `latest` row.
        var newest: Int64?
        /// Per rollup tier (index in ``StorageTier/rollups``): a cell whose row in the tier's
        /// live table is exactly this.
        private var minute: RollupCell?
        private var hour: RollupCell?
        private var day: RollupCell?

        subscript(head tier: Int) -> RollupCell? {
            get { tier == 0 ? minute : tier == 1 ? hour : day }
            set {
                switch tier {
                case 0: minute = newValue
                case 1: hour = newValue
                default: day = newValue
                }
            }
        }
    }

    /// `PRAGMA data_version` of the writer connection when the cache was last valid.
    var dataVersion: Int64?
    /// Per series: its newest stored timestamp and head cells, once read.
    var series: [Int64: SeriesEntry] = [:]
    /// The raw horizon (``Store/rawHorizon(in:)``), once read.
    var rawHorizon: Int64?

    /// Series beyond which the cache starts over instead of growing (about 250 bytes each;
    /// 200,000 series is far beyond a county).
    static let maxSeries = 200_000

    var isOversized: Bool { series.count > Self.maxSeries }

    /// The entry of `series`, its newest read from `latest` when the cache does not know it.
    /// Put it back with `series[id] = entry` after the burst's writes.
    func entry(_ id: Int64, latest select: Statement, in db: Database) throws -> SeriesEntry {
        var entry = series[id] ?? SeriesEntry()
        if entry.newest != nil { return entry }
        select.resetForBinding()
        try select.bind(1, id)
        entry.newest = try select.fetchInt64(in: db)
        return entry
    }
}

extension Store {
    /// Forgets what ingest remembers of the newest rows; call after changing readings,
    /// rollups or `latest` outside an ingest burst.
    func invalidateIngestCache() {
        ingestCache.withLock { $0 = IngestCache() }
    }

    /// Takes the cache out for one burst's transaction, emptied if another connection has
    /// committed since it was last used.
    func takeIngestCache(in db: Database) throws -> IngestCache {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        var cache = ingestCache.withLock { cache in
            let taken = cache
            cache = IngestCache()
            return taken
        }
        if cache.dataVersion != version || cache.isOversized {
            cache = IngestCache()
            cache.dataVersion = version
        }
        return cache
    }

    /// Puts the cache back after the burst's transaction has committed.
    func returnIngestCache(_ cache: IngestCache) {
        ingestCache.withLock { $0 = cache }
    }
}
