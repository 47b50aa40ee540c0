import Foundation
import ShennongCore

/// A scripted episode the simulator plays instead of its steady model: every reading's
/// timestamp is fixed by the script, so hours of weather are published in seconds and the
/// rules evaluate them at their own times. Deterministic for a seed.
public enum Scenario: String, Sendable, CaseIterable {
    /// A rain gauge (`sim-rain-001`) under a rainstorm: drizzle, then 12 mm/h, 24 mm/h and
    /// 60 mm/h, reporting every 5 minutes. Its sums cross the CMA rainstorm signals in order:
    /// yellow (50 mm in 6 h), orange (50 mm in 3 h), red (100 mm in 3 h), and the torrent
    /// critical rainfall on the way.
    case rainstorm
    /// A pond (`sim-pond-001`) whose dissolved oxygen sinks from 5.5 to 1.5 mg/L at night,
    /// reporting every minute: below 3 mg/L (orange) and below 2 mg/L (red).
    case doCrash = "do-crash"

    /// One message of the script.
    public struct Message: Sendable, Hashable {
        public var device: String
        public var ts: Int64
        public var values: [String: Double]
    }

    /// The script, its last reading stamped `end` (ms).
    public func messages(seed: UInt64, end: Int64) -> [Message] {
        var rng = SplitMix(seed: seed ^ 0x5CE7_A210)
        switch self {
        case .rainstorm:
            // mm per 5-minute report: 1 h of drizzle, then 50 reports at 1 mm, 14 at 2 mm,
            // 16 at 5 mm, and half an hour of nothing. A seeded ±0.1 mm on the storm
            // reports keeps the order of the crossings (the 3 h sum stays below 44 mm until
            // the 2 mm reports).
            var rain: [Double] = (0..<12).map { _ in Double(rng.next() % 3) / 10 }
            for (count, base) in [(50, 1.0), (14, 2.0), (16, 5.0)] {
                for _ in 0..<count { rain.append(base + Double(Int(rng.next() % 3) - 1) / 10) }
            }
            rain += Array(repeating: 0, count: 6)
            let step: Int64 = 300_000
            let start = end - Int64(rain.count - 1) * step
            return rain.enumerated().map { i, mm in
                Message(device: "sim-rain-001", ts: start + Int64(i) * step, values: ["rainfall": (mm * 10).rounded() / 10])
            }
        case .doCrash:
            let step: Int64 = 60_000
            let count = 90
            let start = end - Int64(count - 1) * step
            return (0..<count).map { i in
                let fall = 5.5 - 4.0 * Double(i) / Double(count - 1)
                let noise = Double(Int(rng.next() % 5) - 2) / 100
                return Message(
                    device: "sim-pond-001", ts: start + Int64(i) * step,
                    values: ["dissolved_oxygen": ((fall + noise) * 100).rounded() / 100, "water_temp": 28.5])
            }
        }
    }
}

/// SplitMix64: a small deterministic generator for scenarios.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
