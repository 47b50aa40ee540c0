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
/// Samples are kept for the longest span. Sums are kept in scaled integers (the metric's
/// precision), so a window's sum is exact and a threshold like 50.0 mm is met exactly;
/// minima and maxima by monotonic queues. Every operation is O(1) amortized per sample.
struct MultiSpanWindow {
    let aggregate: WindowAggregate
    let spans: [Int64]
    let scale: Double
    /// Samples of the longest span, with their absolute index `base + offset`.
    private var samples = Queue<Sample>()
    private var base = 0
    /// Per span: absolute index of its first sample, scaled sum, and the monotonic queue.
    private var starts: [Int]
    private var sums: [Int64]
    private var extremes: [Queue<Int>]

    init(aggregate: WindowAggregate, spans: [Int64], precision: Int) {
        self.aggregate = aggregate
        self.spans = spans
        self.scale = pow10(precision)
        starts = Array(repeating: 0, count: spans.count)
        sums = Array(repeating: 0, count: spans.count)
        extremes = Array(repeating: Queue<Int>(), count: spans.count)
    }

    private var end: Int { base + samples.count }
    private func sample(_ absolute: Int) -> Sample { samples[absolute - base] }

    /// Adds a reading (timestamps must not go backwards) and slides every span to end at it.
    mutating func add(_ s: Sample) {
        let index = end
        samples.append(s)
        let scaled = Int64((s.value * scale).rounded())
        for k in spans.indices {
            switch aggregate {
            case .sum, .mean:
                sums[k] += scaled
            case .min:
                while let last = extremes[k].last, sample(last).value >= s.value { _ = extremes[k].popLast() }
                extremes[k].append(index)
            case .max:
                while let last = extremes[k].last, sample(last).value <= s.value { _ = extremes[k].popLast() }
                extremes[k].append(index)
            }
            let cutoff = s.ts - spans[k]
            while starts[k] < index && sample(starts[k]).ts <= cutoff {
                if aggregate == .sum || aggregate == .mean {
                    sums[k] -= Int64((sample(starts[k]).value * scale).rounded())
                }
                if extremes[k].first == starts[k] { extremes[k].popFirst() }
                starts[k] += 1
            }
        }
        // Drop what no span needs any more.
        let keep = starts.min() ?? end
        while base < keep {
            samples.popFirst()
            base += 1
        }
    }

    /// The aggregate over span number `k`; `nil` while the window is empty.
    func value(span k: Int) -> Double? {
        let count = end - starts[k]
        guard count > 0 else { return nil }
        switch aggregate {
        case .sum: return Double(sums[k]) / scale
        case .mean: return Double(sums[k]) / scale / Double(count)
        case .min, .max: return extremes[k].first.map { sample($0).value }
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
                bad.append((last.ts, end))
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
