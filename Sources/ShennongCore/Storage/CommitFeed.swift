import Foundation

/// The readings one committed burst inserted into one series: their timestamp range and count.
///
/// Not a copy of the readings: a reader reads them back from the store
/// (``ReadingQueries/readings(device:metric:from:to:limit:)``), so `[from, to]` may also hold
/// readings of other bursts (forwarded again: at least once).
public struct CommittedRange: Sendable, Hashable, Codable {
    public var device: String
    public var metric: String
    /// Oldest and newest timestamp inserted (ms, both inclusive).
    public var from: Int64
    public var to: Int64
    /// How many readings the burst inserted into the series.
    public var count: Int

    public init(device: String, metric: String, from: Int64, to: Int64, count: Int) {
        self.device = device
        self.metric = metric
        self.from = from
        self.to = to
        self.count = count
    }
}

/// One committed burst in the feed: its commit sequence number, when it committed, and the
/// ranges of the series it inserted readings into (in a fixed order).
public struct CommitFeedEntry: Sendable, Hashable, Codable {
    /// Increases with commit order (gap-free is not promised).
    public var seq: Int64
    /// Wall clock of the commit, ms.
    public var committedAt: Int64
    public var ranges: [CommittedRange]

    public init(seq: Int64, committedAt: Int64, ranges: [CommittedRange]) {
        self.seq = seq
        self.committedAt = committedAt
        self.ranges = ranges
    }

    /// Readings inserted by this burst.
    public var readingCount: Int { ranges.reduce(0) { $0 + $1.count } }
}

/// The door to what was committed, for those who follow it (forwarding to an upstream
/// centre): a commit sequence kept in each burst's own transaction, and durable per-consumer
/// state beside it.
///
/// The feed is off until ``enableCommitFeed()``: a server without forwarding targets pays
/// nothing on its ingest path. Once on, every burst that inserts readings appends one
/// ``CommitFeedEntry`` in the transaction of the readings, so an entry exists exactly when its
/// readings are committed, and sequence order is commit order. Entries are kept until
/// ``pruneCommitFeed(through:)``.
public protocol CommitFeed: Sendable {
    /// From now on, bursts that insert readings append to the feed (for this process).
    func enableCommitFeed()
    /// The newest sequence number in the feed, or the newest ever pruned; 0 for an empty feed.
    func commitFeedHead() throws -> Int64
    /// Entries with `seq > after`, oldest first, at most `limit`.
    func commitFeed(after: Int64, limit: Int) throws -> [CommitFeedEntry]
    /// How many entries and readings are in the feed after `after`, and the commit time of the
    /// oldest of them (`nil` when none): a consumer's lag.
    func commitFeedBacklog(after: Int64) throws -> CommitFeedBacklog
    /// Deletes the entries with `seq <= seq` (every consumer is past them).
    func pruneCommitFeed(through seq: Int64) throws
    /// Bounds the feed while consumers are behind (an upstream away for days): merges the
    /// entries after the first one following `seq` into one entry, per series the union of
    /// their ranges, carrying the newest merged seq and the oldest commit time. Returns how
    /// many entries were merged away.
    ///
    /// Safe when `seq` is the furthest any consumer has delivered: no consumer has taken any
    /// of the merged entries, and the entry a consumer may be part-way through (the first
    /// after its position) is never merged. A merged range may hold readings of other bursts:
    /// forwarded again, at least once, in timestamp order per series.
    func compactCommitFeed(after seq: Int64) throws -> Int
    /// A consumer's durable state under `key` (a cursor as JSON, say), or `nil`.
    func feedState(consumer: String, key: String) throws -> String?
    /// Stores a consumer's state under `key`, replacing what was there.
    func setFeedState(consumer: String, key: String, value: String) throws
}

/// What a consumer of the feed has not taken yet.
public struct CommitFeedBacklog: Sendable, Hashable {
    public var entries: Int
    public var readings: Int
    /// Commit time of the oldest entry not taken (ms), `nil` when none.
    public var oldestCommittedAt: Int64?

    public init(entries: Int, readings: Int, oldestCommittedAt: Int64?) {
        self.entries = entries
        self.readings = readings
        self.oldestCommittedAt = oldestCommittedAt
    }
}

/// The packed form of one entry's ranges as both engines store it: per range the series id,
/// from, to (Int64) and count (Int32), little-endian, 28 bytes each.
public enum CommitFeedRanges {
    public static let stride = 28

    /// A builder fed with the inserted readings in (series, ts) order.
    public struct Builder: Sendable {
        public private(set) var bytes: [UInt8] = []
        private var series: Int64 = .min
        private var from: Int64 = 0
        private var to: Int64 = 0
        private var count: Int32 = 0

        public init() {}

        public var isEmpty: Bool { count == 0 && bytes.isEmpty }

        /// Adds one inserted reading; readings must come in (series, ts) order.
        public mutating func add(series: Int64, ts: Int64) {
            if series != self.series || count == .max {
                flush()
                self.series = series
                from = ts
                count = 0
            }
            to = ts
            count += 1
        }

        /// The packed ranges.
        public mutating func finish() -> [UInt8] {
            flush()
            return bytes
        }

        private mutating func flush() {
            guard count > 0 else { return }
            CommitFeedRanges.append(series: series, from: from, to: to, count: count, into: &bytes)
            count = 0
        }
    }

    static func append(series: Int64, from: Int64, to: Int64, count: Int32, into bytes: inout [UInt8]) {
        for v in [series, from, to] { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        withUnsafeBytes(of: count.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Packed ranges merged: per series id the widest range and the summed count, by id.
    public static func merge(_ packed: [[UInt8]]) -> [UInt8] {
        var merged: [Int64: (from: Int64, to: Int64, count: Int)] = [:]
        for bytes in packed {
            for r in decode(bytes) {
                if let m = merged[r.series] {
                    merged[r.series] = (min(m.from, r.from), max(m.to, r.to), m.count + r.count)
                } else {
                    merged[r.series] = (r.from, r.to, r.count)
                }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(merged.count * stride)
        for (series, m) in merged.sorted(by: { $0.key < $1.key }) {
            append(series: series, from: m.from, to: m.to, count: Int32(clamping: m.count), into: &out)
        }
        return out
    }

    /// The (series id, from, to, count) of packed ranges; a malformed tail is ignored.
    public static func decode(_ bytes: some Collection<UInt8>) -> [(series: Int64, from: Int64, to: Int64, count: Int)] {
        let array = Array(bytes)
        var out: [(series: Int64, from: Int64, to: Int64, count: Int)] = []
        out.reserveCapacity(array.count / stride)
        var i = 0
        func int64(_ at: Int) -> Int64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(array[at + k]) << (8 * k) }
            return Int64(bitPattern: v)
        }
        while i + stride <= array.count {
            var c: UInt32 = 0
            for k in 0..<4 { c |= UInt32(array[i + 24 + k]) << (8 * k) }
            out.append((int64(i), int64(i + 8), int64(i + 16), Int(Int32(bitPattern: c))))
            i += stride
        }
        return out
    }
}
