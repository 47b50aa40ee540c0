/// How a store lays out and keeps reading data: bucket width, compaction and retention.
///
/// `bucketWidth` applies when a database is created (or upgraded from the single-table
/// layout); an existing database keeps the width it was created with, since buckets of
/// different widths would overlap. Durations are milliseconds.
public struct StoreOptions: Sendable, Hashable {
    /// Width of one raw bucket (one table per bucket): a whole number of hours, at most 31
    /// days. Buckets are aligned on the Unix epoch, so day buckets are UTC days.
    public var bucketWidth: Int64 = StorageTier.day.width
    /// A bucket is "closed", and may be compacted, this long after its end.
    public var compactionGrace: Int64 = StorageTier.hour.width
    /// About how many readings one compaction transaction handles (at least one series):
    /// bounds how long compaction holds the writer.
    public var compactionBatchRows = 50_000
    /// How long each tier is kept; `nil` keeps it forever.
    public var retention = Retention()
    /// Page cache of the writing connection, in MiB. Ingest touches the newest page of every
    /// series in the open raw and rollup tables; about 8 KiB a series keeps them cached
    /// (a county of 25,000 series: 200 MiB).
    public var writerCacheMiB = 64
    /// Seals each bucket in the transaction that closes it (``SealLedger``); `nil`: none
    /// (`shennong db seal` seals them later).
    public var sealer: StoreSealer?

    public init() {}

    /// Per tier, how long data is kept (ms), or `nil` for ever.
    public struct Retention: Sendable, Hashable {
        public var raw: Int64? = 90 * StorageTier.day.width
        public var minute: Int64? = 365 * StorageTier.day.width
        public var hour: Int64?
        public var day: Int64?

        public init() {}

        /// The retention of `tier`.
        public subscript(tier: StorageTier) -> Int64? {
            get {
                switch tier {
                case .raw: raw
                case .minute: minute
                case .hour: hour
                case .day: day
                }
            }
            set {
                switch tier {
                case .raw: raw = newValue
                case .minute: minute = newValue
                case .hour: hour = newValue
                case .day: day = newValue
                }
            }
        }
    }

    /// Throws `invalid_argument` for a width that is not a whole number of hours up to 31
    /// days, a negative grace, a batch below one, or a retention that is not positive.
    public func validate() throws {
        let hour = StorageTier.hour.width
        guard bucketWidth >= hour, bucketWidth % hour == 0, bucketWidth <= 31 * StorageTier.day.width else {
            throw StoreError(.invalidArgument, "bucket width must be a whole number of hours between 1 h and 31 d")
        }
        guard compactionGrace >= 0 else { throw StoreError(.invalidArgument, "compaction grace must not be negative") }
        guard writerCacheMiB >= 1 else { throw StoreError(.invalidArgument, "writer cache must be at least 1 MiB") }
        guard compactionBatchRows >= 1 else { throw StoreError(.invalidArgument, "compaction batch must be at least 1") }
        for tier in StorageTier.allCases {
            if let keep = retention[tier], keep <= 0 {
                throw StoreError(.invalidArgument, "retention of \(tier.rawValue) must be positive (or forever)")
            }
        }
    }
}
