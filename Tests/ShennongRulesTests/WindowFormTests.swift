import Foundation
import ShennongCore
import Testing

@testable import ShennongRules

/// The rule windows keep only what their aggregate still needs (issue 19: memory at county
/// scale). Each new form against the form it replaced (kept below as the reference: every
/// sample of the longest span, one bad interval per reading) on the same reading sequences:
/// the same answer after every reading, bit for bit, and less held.
struct WindowFormTests {
    /// SplitMix64: deterministic sequences.
    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Readings of one series: mostly a minute apart with jitter, gaps and repeated
    /// timestamps; values from a walk, long runs of zeros (rainfall), or random decimals.
    static func sequence(_ seed: UInt64) -> [Sample] {
        var rng = Rng(state: seed)
        let n = Int.random(in: 1...3_000, using: &rng)
        var t: Int64 = 1_763_700_000_000
        var walk = Double.random(in: 0...10, using: &rng)
        let kind = seed % 3
        return (0..<n).map { _ in
            switch Int.random(in: 0..<20, using: &rng) {
            case 0: t += Int64.random(in: 0...7_200_000, using: &rng)
            case 1: break  // same timestamp again
            case 2: t += Int64.random(in: 1...5_000, using: &rng)
            default: t += 60_000
            }
            let value: Double
            switch kind {
            case 0:
                walk += Double.random(in: -0.5...0.5, using: &rng)
                value = (walk * 100).rounded() / 100
            case 1:
                value = Int.random(in: 0..<10, using: &rng) < 8 ? 0 : Double(Int.random(in: 1...50, using: &rng)) / 10
            default:
                value = Double(Int.random(in: -5_000...5_000, using: &rng)) / 1000
            }
            return Sample(ts: t, value: value)
        }
    }

    static let spanSets: [[Int64]] = [[3_600_000], [600_000, 3_600_000, 86_400_000], [86_400_000, 21_600_000]]

    @Test("sum, mean, min, max: the same value as every-sample windows after each reading", arguments: 0..<40)
    func multiSpanMatchesTheReference(seed: Int) {
        let samples = Self.sequence(UInt64(seed))
        for aggregate in [WindowAggregate.sum, .mean, .min, .max] {
            for spans in Self.spanSets {
                var new = MultiSpanWindow(aggregate: aggregate, spans: spans, precision: 1)
                var old = ReferenceMultiSpanWindow(aggregate: aggregate, spans: spans, precision: 1)
                #expect(new.value(span: 0) == nil)
                var held = (new: 0, old: 0)
                for s in samples {
                    new.add(s)
                    old.add(s)
                    for k in spans.indices where new.value(span: k)?.bitPattern != old.value(span: k)?.bitPattern {
                        Issue.record("\(aggregate) span \(spans[k]) at \(s.ts): \(String(describing: new.value(span: k))) != \(String(describing: old.value(span: k)))")
                        return
                    }
                    held.new = max(held.new, new.heldSamples)
                    held.old = max(held.old, old.heldSamples)
                }
                #expect(held.new <= held.old, "\(aggregate): holds more than every sample")
            }
        }
    }

    @Test("a day of rainfall a minute apart, mostly dry: the sum keeps the wet readings only")
    func sumKeepsOnlyWhatCounts() {
        var window = MultiSpanWindow(aggregate: .sum, spans: [3_600_000, 86_400_000], precision: 1)
        var old = ReferenceMultiSpanWindow(aggregate: .sum, spans: [3_600_000, 86_400_000], precision: 1)
        for i in 0..<(3 * 1440) {
            let s = Sample(ts: Int64(i) * 60_000, value: i % 100 == 0 ? 2.5 : 0)
            window.add(s)
            old.add(s)
            #expect(window.value(span: 1) == old.value(span: 1))
        }
        #expect(old.heldSamples == 1440)
        #expect(window.heldSamples == 15)
        #expect(window.value(span: 1) == 37.5 && window.value(span: 0) == 2.5)
    }

    @Test("a steadily rising temperature: the maximum holds one reading, not a day of them")
    func extremesHoldOnlyCandidates() {
        var maxima = MultiSpanWindow(aggregate: .max, spans: [86_400_000], precision: 1)
        for i in 0..<1440 { maxima.add(Sample(ts: Int64(i) * 60_000, value: Double(i) / 10)) }
        #expect(maxima.heldSamples == 1)
        #expect(maxima.value(span: 0) == 143.9)
    }

    @Test("fraction of a window: the same good hours after each reading, one run per bad spell", arguments: 0..<40)
    func fractionMatchesTheReference(seed: Int) {
        let samples = Self.sequence(UInt64(seed) + 1000)
        for (span, gap) in [(Int64(86_400_000), Int64(1_800_000)), (3_600_000, 300_000)] {
            var new = FractionWindow(span: span, maxGap: gap, good: .above, threshold: 5)
            var old = ReferenceFractionWindow(span: span, maxGap: gap, good: .above, threshold: 5)
            for s in samples {
                new.add(s)
                old.add(s)
                guard new.goodHours?.bitPattern == old.goodHours?.bitPattern else {
                    Issue.record("at \(s.ts): \(String(describing: new.goodHours)) != \(String(describing: old.goodHours))")
                    return
                }
                #expect(new.heldRuns <= old.heldRuns)
            }
        }
        // Twelve hours bad a minute apart: one run, not 720 intervals.
        var window = FractionWindow(span: 86_400_000, maxGap: 1_800_000, good: .above, threshold: 5)
        for i in 0...720 { window.add(Sample(ts: Int64(i) * 60_000, value: 3)) }
        #expect(window.heldRuns == 1)
        #expect(window.goodHours == 12)
    }
}

// MARK: The forms replaced (reference only)

/// The every-sample multi-span window as it was before issue 19.
struct ReferenceMultiSpanWindow {
    let aggregate: WindowAggregate
    let spans: [Int64]
    let scale: Double
    private var samples: [Sample] = []
    private var head = 0
    private var starts: [Int]
    private var sums: [Int64]
    private var extremes: [[Int]]

    init(aggregate: WindowAggregate, spans: [Int64], precision: Int) {
        self.aggregate = aggregate
        self.spans = spans
        scale = pow10(precision)
        starts = Array(repeating: 0, count: spans.count)
        sums = Array(repeating: 0, count: spans.count)
        extremes = Array(repeating: [], count: spans.count)
    }

    var heldSamples: Int { samples.count - head }

    mutating func add(_ s: Sample) {
        let index = samples.count
        samples.append(s)
        let scaled = Int64((s.value * scale).rounded())
        for k in spans.indices {
            switch aggregate {
            case .sum, .mean:
                sums[k] += scaled
            case .min:
                while let last = extremes[k].last, samples[last].value >= s.value { extremes[k].removeLast() }
                extremes[k].append(index)
            case .max:
                while let last = extremes[k].last, samples[last].value <= s.value { extremes[k].removeLast() }
                extremes[k].append(index)
            }
            let cutoff = s.ts - spans[k]
            while starts[k] < index && samples[starts[k]].ts <= cutoff {
                if aggregate == .sum || aggregate == .mean {
                    sums[k] -= Int64((samples[starts[k]].value * scale).rounded())
                }
                if extremes[k].first == starts[k] { extremes[k].removeFirst() }
                starts[k] += 1
            }
        }
        head = starts.min() ?? samples.count
    }

    func value(span k: Int) -> Double? {
        let count = samples.count - starts[k]
        guard count > 0 else { return nil }
        switch aggregate {
        case .sum: return Double(sums[k]) / scale
        case .mean: return Double(sums[k]) / scale / Double(count)
        case .min, .max: return extremes[k].first.map { samples[$0].value }
        }
    }
}

/// The one-interval-per-reading fraction window as it was before issue 19.
struct ReferenceFractionWindow {
    let span: Int64
    let maxGap: Int64
    let good: Comparison
    let threshold: Double
    private var bad: [(start: Int64, end: Int64)] = []
    private var head = 0
    private var badTotal: Int64 = 0
    private var last: Sample?
    private var now: Int64 = 0

    init(span: Int64, maxGap: Int64, good: Comparison, threshold: Double) {
        self.span = span
        self.maxGap = maxGap
        self.good = good
        self.threshold = threshold
    }

    var heldRuns: Int { bad.count - head }

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
        while head < bad.count, bad[head].end <= cutoff {
            badTotal -= bad[head].end - bad[head].start
            head += 1
        }
    }

    var goodHours: Double? {
        guard last != nil else { return nil }
        var badMs = badTotal
        if head < bad.count, bad[head].start < now - span { badMs -= (now - span) - bad[head].start }
        return Double(span - badMs) / 3_600_000
    }
}
