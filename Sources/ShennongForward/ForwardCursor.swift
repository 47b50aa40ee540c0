import ShennongCore

/// Where a target stands in what this server committed, persisted after every delivery.
///
/// Every feed entry with `seq <= seq` is delivered; of the entry `partial.seq` (the next one),
/// ranges before `partial.range` are delivered and range `partial.range` up to `partial.ts`.
/// Alert transitions up to `alertTransition` are delivered.
public struct ForwardCursor: Sendable, Hashable, Codable {
    public struct Partial: Sendable, Hashable, Codable {
        public var seq: Int64
        public var range: Int
        public var ts: Int64

        public init(seq: Int64, range: Int, ts: Int64) {
            self.seq = seq
            self.range = range
            self.ts = ts
        }
    }

    public var seq: Int64
    public var partial: Partial?
    public var alertTransition: Int64
    /// Seals up to this chain sequence are delivered (0: none yet; a new target sends every
    /// seal from the first, so the upstream holds the whole chain).
    public var sealSequence: Int64

    public init(seq: Int64, partial: Partial? = nil, alertTransition: Int64 = 0, sealSequence: Int64 = 0) {
        self.seq = seq
        self.partial = partial
        self.alertTransition = alertTransition
        self.sealSequence = sealSequence
    }

    enum CodingKeys: String, CodingKey {
        case seq, partial, alertTransition, sealSequence
    }

    /// A cursor stored before seals were forwarded decodes with `sealSequence` 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(Int64.self, forKey: .seq)
        partial = try c.decodeIfPresent(Partial.self, forKey: .partial)
        alertTransition = try c.decode(Int64.self, forKey: .alertTransition)
        sealSequence = try c.decodeIfPresent(Int64.self, forKey: .sealSequence) ?? 0
    }
}

/// One read the planner asks for: readings of a series in `[from, to]`, at most `limit`.
public struct RangeRead: Sendable, Hashable {
    public var device: String
    public var metric: String
    public var from: Int64
    /// Inclusive.
    public var to: Int64
    public var limit: Int
}

/// Builds one bounded batch of readings from feed entries, and the cursor after it: a value,
/// no I/O. The driver asks ``nextRead()``, reads the store, hands the result to
/// ``take(_:)``, and repeats until `nextRead()` is `nil`.
///
/// Ranges of devices the target does not want are stepped over (the cursor passes them).
/// A range cut by the batch bound leaves a ``ForwardCursor/Partial`` so the next batch
/// resumes after the last reading taken: in order per series, nothing skipped.
public struct ReadingBatchPlanner: Sendable {
    public private(set) var cursor: ForwardCursor
    public private(set) var readings: [Reading] = []
    private let entries: [CommitFeedEntry]
    private let capacity: Int
    private let wants: @Sendable (String) -> Bool
    private var entry = 0
    private var range = 0
    /// The first timestamp still to take of the current range (after a partial).
    private var resumeAfter: Int64?
    private var pending: RangeRead?

    /// - Parameters:
    ///   - entries: the feed after `cursor.seq`, oldest first.
    ///   - capacity: most readings in the batch (at least 1).
    ///   - wants: whether a device's readings go to the target.
    public init(cursor: ForwardCursor, entries: [CommitFeedEntry], capacity: Int, wants: @escaping @Sendable (String) -> Bool) {
        self.cursor = cursor
        self.entries = entries.filter { $0.seq > cursor.seq }
        self.capacity = max(1, capacity)
        self.wants = wants
        if let partial = cursor.partial, let first = self.entries.first, first.seq == partial.seq {
            range = partial.range
            resumeAfter = partial.ts
        } else {
            self.cursor.partial = nil
        }
    }

    /// The next read, or `nil` when the batch is full or the entries are exhausted.
    public mutating func nextRead() -> RangeRead? {
        if let pending { return pending }
        while entry < entries.count {
            let current = entries[entry]
            guard range < current.ranges.count else {
                // The whole entry is taken.
                cursor.seq = current.seq
                cursor.partial = nil
                entry += 1
                range = 0
                resumeAfter = nil
                continue
            }
            guard readings.count < capacity else { return nil }
            let r = current.ranges[range]
            let from = max(r.from, resumeAfter.map { $0 + 1 } ?? r.from)
            if !wants(r.device) || from > r.to {
                advanceRange()
                continue
            }
            let read = RangeRead(device: r.device, metric: r.metric, from: from, to: r.to, limit: capacity - readings.count)
            pending = read
            return read
        }
        return nil
    }

    /// The readings of the read ``nextRead()`` gave, oldest first.
    public mutating func take(_ got: [Reading]) {
        guard let read = pending else { return }
        pending = nil
        let taken = got.prefix(read.limit)
        readings += taken
        if taken.count >= read.limit, let last = taken.last, last.timestamp < read.to {
            // Cut by the batch bound: the rest of this range in the next batch.
            resumeAfter = last.timestamp
            cursor.partial = ForwardCursor.Partial(seq: entries[entry].seq, range: range, ts: last.timestamp)
        } else {
            advanceRange()
        }
    }

    private mutating func advanceRange() {
        range += 1
        resumeAfter = nil
        if entry < entries.count {
            if range >= entries[entry].ranges.count {
                cursor.seq = entries[entry].seq
                cursor.partial = nil
                entry += 1
                range = 0
            } else {
                cursor.partial = ForwardCursor.Partial(seq: entries[entry].seq, range: range, ts: .min)
            }
        }
    }
}
