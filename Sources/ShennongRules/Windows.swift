import ShennongCore

/// A FIFO queue over an array with a moving head: O(1) amortized push and pop.
struct Queue<Element> {
    private(set) var storage: [Element] = []
    private(set) var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }
    var last: Element? { isEmpty ? nil : storage[storage.count - 1] }

    subscript(offset: Int) -> Element { storage[head + offset] }

    mutating func append(_ e: Element) { storage.append(e) }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let e = storage[head]
        head += 1
        if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return e
    }

    mutating func popLast() -> Element? {
        guard !isEmpty else { return nil }
        return storage.removeLast()
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
    }
}

/// One reading in a window.
struct Sample: Sendable, Hashable {
    var ts: Int64
    var value: Double
}

/// Sliding-window aggregates of one series over several spans at once, each `(t − span, t]`.
///
/// Sums are kept in scaled integers (the metric's precision), so a window's sum is exact and a
/// threshold like 50.0 mm is met exactly. What is kept is only what the aggregate can still
/// need, so memory follows the data, not the span:
/// - sum: the readings that are not zero at the metric's precision (a zero never changes a
///   sum, and rainfall is zero most of the time), with one start per span;
/// - mean: every reading (the count matters), with one start per span;
/// - min / max: per span a monotonic queue of the readings that can still be the extreme
///   (a reading with a newer one at least as extreme never can).
/// Every operation is O(1) amortized per sample.
struct MultiSpanWindow {
    let aggregate: WindowAggregate
    let spans: [Int64]
    let scale: Double
    /// sum / mean: the readings kept (scaled values) over the longest span, with their absolute
    /// index `base + offset`.
    private var kept = Queue<ScaledSample>()
    private var base = 0
    /// sum / mean: per span, the absolute index of its first kept reading and its scaled sum.
    private var starts: [Int]
    private var sums: [Int64]
    /// mean: readings per span.
    private var counts: [Int]
    /// min / max: per span, the readings that may yet be the extreme, oldest first.
    private var extremes: [Queue<Sample>]
    /// Whether any reading was added (the newest is always inside every span).
    private var any = false

    struct ScaledSample {
        var ts: Int64
        var scaled: Int64
    }

    init(aggregate: WindowAggregate, spans: [Int64], precision: Int) {
        self.aggregate = aggregate
        self.spans = spans
        self.scale = pow10(precision)
        starts = Array(repeating: 0, count: spans.count)
        sums = Array(repeating: 0, count: spans.count)
        counts = Array(repeating: 0, count: spans.count)
        extremes = Array(repeating: Queue<Sample>(), count: aggregate == .min || aggregate == .max ? spans.count : 0)
    }

    private var end: Int { base + kept.count }

    /// Readings held in memory (for tests and the memory benchmark).
    var heldSamples: Int {
        kept.count + extremes.reduce(0) { $0 + $1.count }
    }

    /// Adds a reading (timestamps must not go backwards) and slides every span to end at it.
    mutating func add(_ s: Sample) {
        any = true
        switch aggregate {
        case .min, .max:
            for k in spans.indices {
                if aggregate == .min {
                    while let last = extremes[k].last, last.value >= s.value { _ = extremes[k].popLast() }
                } else {
                    while let last = extremes[k].last, last.value <= s.value { _ = extremes[k].popLast() }
                }
                extremes[k].append(s)
                let cutoff = s.ts - spans[k]
                while let first = extremes[k].first, first.ts <= cutoff { extremes[k].popFirst() }
            }
        case .sum, .mean:
            let scaled = Int64((s.value * scale).rounded())
            if scaled != 0 || aggregate == .mean {
                kept.append(ScaledSample(ts: s.ts, scaled: scaled))
            }
            let index = end
            for k in spans.indices {
                sums[k] += scaled
                if aggregate == .mean { counts[k] += 1 }
                let cutoff = s.ts - spans[k]
                while starts[k] < index {
                    let old = kept[starts[k] - base]
                    guard old.ts <= cutoff else { break }
                    sums[k] -= old.scaled
                    if aggregate == .mean { counts[k] -= 1 }
                    starts[k] += 1
                }
            }
            // Drop what no span needs any more.
            let keep = starts.min() ?? end
            while base < keep {
                kept.popFirst()
                base += 1
            }
        }
    }

    /// The aggregate over span number `k`; `nil` while the window is empty.
    func value(span k: Int) -> Double? {
        guard any else { return nil }
        switch aggregate {
        case .sum: return Double(sums[k]) / scale
        case .mean: return counts[k] > 0 ? Double(sums[k]) / scale / Double(counts[k]) : nil
        case .min, .max: return extremes[k].first?.value
        }
    }
}

/// The change per unit of time across the readings of the last `span`.
struct RateWindow {
    let span: Int64
    let per: Int64
    private var samples = Queue<Sample>()

    init(span: Int64, per: Int64) {
        self.span = span
        self.per = per
    }

    mutating func add(_ s: Sample) {
        samples.append(s)
        while let first = samples.first, first.ts <= s.ts - span { samples.popFirst() }
    }

    /// Change per `per` from the oldest to the newest reading; `nil` until they span half the window.
    var value: Double? {
        guard let first = samples.first, let last = samples.last, last.ts - first.ts >= span / 2, last.ts > first.ts else {
            return nil
        }
        return (last.value - first.value) / Double(last.ts - first.ts) * Double(per)
    }
}

/// How long in the last `span` the value was good, each reading holding until the next
/// (at most `maxGap`); time not covered counts as good.
///
/// Kept as run lengths: one interval per run of bad time (readings bad one after another
/// make one interval), not one per reading.
struct FractionWindow {
    let span: Int64
    let maxGap: Int64
    let good: Comparison
    let threshold: Double
    /// Bad intervals `[start, end)`, oldest first, and their total length.
    private var bad = Queue<(start: Int64, end: Int64)>()
    private var badTotal: Int64 = 0
    private var last: Sample?
    private var now: Int64 = 0

    init(span: Int64, maxGap: Int64, good: Comparison, threshold: Double) {
        self.span = span
        self.maxGap = maxGap
        self.good = good
        self.threshold = threshold
    }

    mutating func add(_ s: Sample) {
        if let last, !good.crossed(last.value, threshold) {
            let end = min(s.ts, last.ts + maxGap)
            if end > last.ts {
                if let run = bad.last, run.end == last.ts {
                    // The bad time goes on: the run grows.
                    _ = bad.popLast()
                    bad.append((run.start, end))
                } else {
                    bad.append((last.ts, end))
                }
                badTotal += end - last.ts
            }
        }
        last = s
        now = s.ts
        let cutoff = now - span
        while let first = bad.first, first.end <= cutoff {
            badTotal -= first.end - first.start
            bad.popFirst()
        }
    }

    /// Bad runs held in memory (for tests).
    var heldRuns: Int { bad.count }

    /// Hours good in the window ending at the newest reading (the newest reading's own state
    /// counts from the next reading on).
    var goodHours: Double? {
        guard last != nil else { return nil }
        var badMs = badTotal
        if let first = bad.first, first.start < now - span { badMs -= (now - span) - first.start }
        return Double(span - badMs) / 3_600_000
    }
}

/// How many reports in a row had the same value (within a tolerance).
struct StuckCounter {
    let tolerance: Double
    private(set) var count = 0
    private var value: Double?

    init(tolerance: Double) { self.tolerance = tolerance }

    mutating func add(_ s: Sample) {
        if let value, abs(s.value - value) <= tolerance {
            count += 1
        } else {
            value = s.value
            count = 1
        }
    }
}

func pow10(_ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<max(0, min(n, 12)) { r *= 10 }
    return r
}
