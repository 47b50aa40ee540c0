/// One rollup cell: count, min, max, sum, first and last of a series' readings in
/// `[start, start + width)`, with the timestamps of the first and last reading so that a
/// reading arriving out of order can be placed.
///
/// `sum` is accumulated in timestamp order, so a cell equals the aggregate computed from
/// its raw readings sorted by time, bit for bit.
package struct RollupCell: Sendable, Hashable {
    package var start: Int64
    package var count: Int
    package var min: Double
    package var max: Double
    package var sum: Double
    package var first: Double
    package var last: Double
    package var firstTs: Int64
    package var lastTs: Int64

    package init(
        start: Int64, count: Int, min: Double, max: Double, sum: Double, first: Double, last: Double, firstTs: Int64,
        lastTs: Int64
    ) {
        self.start = start
        self.count = count
        self.min = min
        self.max = max
        self.sum = sum
        self.first = first
        self.last = last
        self.firstTs = firstTs
        self.lastTs = lastTs
    }

    /// Adds a reading newer than every reading in the cell.
    package mutating func append(ts: Int64, value: Double) {
        count += 1
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        sum += value
        last = value
        lastTs = ts
    }

    /// Adds a reading at any place in time: count, min, max and sum (out of order), and
    /// first or last when it is the earliest or latest.
    package mutating func merge(ts: Int64, value: Double) {
        count += 1
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        sum += value
        if ts < firstTs {
            first = value
            firstTs = ts
        }
        if ts > lastTs {
            last = value
            lastTs = ts
        }
    }

    /// Adds the cell `next`, whose readings all come after this cell's (for wider intervals).
    package mutating func append(_ next: RollupCell) {
        count += next.count
        min = Swift.min(min, next.min)
        max = Swift.max(max, next.max)
        sum += next.sum
        last = next.last
        lastTs = next.lastTs
    }

    /// True when the cell holds one reading and every field is that reading's value.
    package var isSingle: Bool {
        count == 1 && min.bitPattern == first.bitPattern && max.bitPattern == first.bitPattern
            && sum.bitPattern == first.bitPattern && last.bitPattern == first.bitPattern && lastTs == firstTs
    }

    /// Cells of `width` over `points` (ascending timestamps), in order.
    package static func cells(of points: [Point], width: Int64) -> [RollupCell] {
        var cells: [RollupCell] = []
        for p in points {
            let start = floorAlign(p.ts, width)
            if cells.last?.start == start {
                cells[cells.count - 1].append(ts: p.ts, value: p.value)
            } else {
                cells.append(RollupCell(start: start, ts: p.ts, value: p.value))
            }
        }
        return cells
    }
}

extension RollupCell {
    /// A cell holding one reading.
    package init(start: Int64, ts: Int64, value: Double) {
        self.init(start: start, count: 1, min: value, max: value, sum: value, first: value, last: value, firstTs: ts, lastTs: ts)
    }
}

/// `t` rounded down to a multiple of `width` (also for negative `t`).
@inline(__always) package func floorAlign(_ t: Int64, _ width: Int64) -> Int64 {
    let r = t % width
    return r < 0 ? t - r - width : t - r
}

extension RollupCell {
    /// `cells` (of one series, oldest first) merged into intervals of `every` ms aligned to
    /// the epoch, as aggregates of `device` / `metric`: how both engines answer `aggregates`.
    package static func aggregates(_ cells: [RollupCell], every: Int64, device: String, metric: String) -> [AggregatePoint] {
        var result: [AggregatePoint] = []
        var current: RollupCell?
        for cell in cells {
            let interval = floorAlign(cell.start, every)
            if current?.start == interval {
                current!.append(cell)
            } else {
                if let c = current { result.append(c.aggregate(device: device, metric: metric)) }
                current = cell
                current!.start = interval
            }
        }
        if let c = current { result.append(c.aggregate(device: device, metric: metric)) }
        return result
    }

    /// The cell as an aggregate of `device` / `metric`.
    package func aggregate(device: String, metric: String) -> AggregatePoint {
        AggregatePoint(device: device, metric: metric, cell: self)
    }
}

extension RandomAccessCollection {
    /// The index of the first element for which `belongs` holds, in a collection where it
    /// holds for a suffix (a binary search); `endIndex` when it holds for none.
    package func partitioningIndex(where belongs: (Element) throws -> Bool) rethrows -> Index {
        var low = startIndex, count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if try belongs(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}
