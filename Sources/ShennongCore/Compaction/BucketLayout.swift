/// Where readings go: buckets of `width` ms aligned on the Unix epoch (UTC), each with its
/// own tables named after the bucket's start (`raw_20251121`, or `raw_20251121_06` for
/// buckets narrower than a day).
package struct BucketLayout: Sendable, Hashable {
    package let width: Int64

    package init(width: Int64) { self.width = width }

    package func start(of ts: Int64) -> Int64 { floorAlign(ts, width) }

    /// The table-name suffix of the bucket starting at `start`: `yyyyMMdd`, plus `_HH`
    /// when buckets are not whole days.
    package func stamp(of start: Int64) -> String {
        let day = StorageTier.day.width
        let days = floorAlign(start, day) / day
        let (y, m, d) = civilDate(daysSinceEpoch: days)
        var s = pad(y, 4) + pad(m, 2) + pad(d, 2)
        if width % day != 0 {
            s += "_" + pad(Int((start - days * day) / StorageTier.hour.width), 2)
        }
        return s
    }

    private func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(abs(n))
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A bucket as the `buckets` table records it: which of its tables exist.
package struct BucketInfo: Sendable, Hashable {
    package var start: Int64
    package var until: Int64
    package var stamp: String
    /// `raw_X` exists: readings not yet compacted (or late ones that reopened the bucket).
    package var hasRaw: Bool
    /// `blk_X` exists: compacted blocks, one row a series.
    package var hasBlocks: Bool
    /// `m1_X` exists: packed 1-minute cells.
    package var hasMinute: Bool
    /// `h1_X` exists: packed 1-hour cells.
    package var hasHour: Bool

    package init(start: Int64, until: Int64, stamp: String, hasRaw: Bool, hasBlocks: Bool, hasMinute: Bool, hasHour: Bool) {
        self.start = start
        self.until = until
        self.stamp = stamp
        self.hasRaw = hasRaw
        self.hasBlocks = hasBlocks
        self.hasMinute = hasMinute
        self.hasHour = hasHour
    }

    package var rawTable: String { "raw_\(stamp)" }
    package var blockTable: String { "blk_\(stamp)" }

    package func packedTable(_ tier: StorageTier) -> String? { tier.packedPrefix.map { $0 + stamp } }

    package func hasPacked(_ tier: StorageTier) -> Bool {
        switch tier {
        case .minute: hasMinute
        case .hour: hasHour
        case .raw, .day: false
        }
    }

    /// Records that the packed table of `tier` (1 m or 1 h) exists.
    package mutating func markPacked(_ tier: StorageTier) {
        switch tier {
        case .minute: hasMinute = true
        case .hour: hasHour = true
        case .raw, .day: preconditionFailure("only 1 m and 1 h cells are packed")
        }
    }

    /// True when something of this bucket is compacted (a late reading must reopen it).
    package var hasCompacted: Bool { hasBlocks || hasMinute || hasHour }

    /// Where the bucket stands at `now` (``BucketStats/State``): open until its end plus
    /// the compaction `grace` has passed, then closed, compacted, reopened or retired.
    package func state(now: Int64, grace: Int64) -> BucketStats.State {
        switch (hasRaw, hasBlocks) {
        case (true, false): until + grace > now ? .open : .closed
        case (true, true): .reopened
        case (false, true): .compacted
        case (false, false): .retired
        }
    }

    /// The bucket as the seals see it.
    package var sealState: SealedBucketState {
        SealedBucketState(start: start, until: until, hasBlocks: hasBlocks, hasRaw: hasRaw)
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
package func civilDate(daysSinceEpoch: Int64) -> (Int, Int, Int) {
    let z = daysSinceEpoch + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
}
