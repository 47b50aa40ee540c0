import ShennongCore
import PropertyBased
import Testing

@testable import ShennongStore

/// The block codec on its own: every encoding round-trips bit for bit, including edge values.
struct BlockCodecTests {
    static let edgeInts: [Int64] = [0, 1, -1, 59_999, 60_000, -60_000, .max, .min, .max - 1, .min + 1, 1_763_700_000_000]
    static let edgeDoubles: [Double] = [
        0, -0.0, 1, -1, 0.1, -0.1, 7.25, -273.15, 1e-300, -1e-300, 1e300, -1e300, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 9_007_199_254_740_993, 123_456.789,
        .pi, 1.0 / 3.0,
    ]

    /// Timestamp sequences: arbitrary Int64s (differences that overflow), edge values, and
    /// mostly regular series with jitter, gaps and repeats.
    static let timestamps = Generator<[Int64], Shrink.None<[Int64]>> { rng in
        let n = Int.random(in: 0...200, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            return (0..<n).map { _ in Int64.random(in: .min ... .max, using: &rng) }
        case 1:
            return (0..<n).map { _ in edgeInts.randomElement(using: &rng)! }
        default:
            var t = Int64.random(in: 1_700_000_000_000...1_800_000_000_000, using: &rng)
            let step = [1000, 60_000, 600_000].randomElement(using: &rng)!
            return (0..<n).map { _ in
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: t += Int64.random(in: 0...3_600_000, using: &rng)  // gap
                case 1: t -= Int64.random(in: 0...120_000, using: &rng)  // out of order
                case 2: t += Int64.random(in: -500...500, using: &rng)  // jitter
                default: t += Int64(step)
                }
                return t
            }
        }
    }

    /// Doubles (never NaN): edge values, sensor-like decimals, arbitrary bit patterns.
    static let double = Generator<Double, Shrink.None<Double>> { rng in
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return edgeDoubles.randomElement(using: &rng)!
        case 1: return Double.random(in: -1e6...1e6, using: &rng)
        case 2: return Double(Int.random(in: -100_000...100_000, using: &rng)) / 100
        default:
            var d = Double.nan
            while d.isNaN { d = Double(bitPattern: UInt64.random(in: .min ... .max, using: &rng)) }
            return d
        }
    }

    static let doubles = Generator<[Double], Shrink.None<[Double]>> { rng in
        let n = Int.random(in: 1...200, using: &rng)
        // Either all sensor-like (scaled path) or a mix (XOR path).
        if Bool.random(using: &rng) {
            let p = Double([1, 10, 100, 1000].randomElement(using: &rng)!)
            return (0..<n).map { _ in Double(Int.random(in: -50_000...50_000, using: &rng)) / p }
        }
        return (0..<n).map { _ in double.run(using: &rng) }
    }

    @Test("a long run of one value at a steady interval (a rain gauge at 0 all day) decodes: a few bytes hold it")
    func steadyConstantSeriesRoundTrips() throws {
        for (count, step) in [(2_880, 30_000), (86_400, 1_000)] as [(Int, Int64)] {
            let points = (0..<count).map { Point(ts: 1_763_700_000_000 + Int64($0) * step, value: 0) }
            let block = BlockCodec.encode(points: points, maxPrecision: 3)
            #expect(block.count * 64 < count, "the run takes \(block.count) bytes")
            #expect(try BlockCodec.decodePoints(block) == points)
        }
        // A claim above the bound is refused, not allocated.
        var w = ByteWriter(capacity: 16)
        w.byte(BlockCodec.version)
        w.uvarint(UInt64(BlockCodec.maxElements + 1))
        #expect(throws: (any Error).self) { try BlockCodec.decodePoints(w.bytes) }
    }

    @Test func deltaOfDeltaTimestampsRoundTripForAnyInt64s() async throws {
        await propertyCheck(count: 300, input: Self.timestamps) { ts in
            var w = ByteWriter()
            BlockCodec.encodeTimestamps(ts, count: ts.count, into: &w)
            var r = ByteReader(w.bytes)
            let decoded = try BlockCodec.decodeTimestamps(count: ts.count, from: &r)
            #expect(decoded == ts)
            #expect(r.isAtEnd)
        }
    }

    @Test func valuesRoundTripBitForBitAtAnyPrecision() async throws {
        await propertyCheck(count: 300, input: Self.doubles, Gen.int(in: 0...6)) { values, p in
            var w = ByteWriter()
            BlockCodec.encodeValues(values, maxPrecision: p, into: &w)
            var r = ByteReader(w.bytes)
            let decoded = try BlockCodec.decodeValues(count: values.count, from: &r)
            #expect(decoded.map(\.bitPattern) == values.map(\.bitPattern))
            #expect(r.isAtEnd)
        }
    }

    @Test func gorillaXORRoundTripsAnyDoubles() async throws {
        await propertyCheck(count: 300, input: Self.doubles) { values in
            var bits = BitWriter()
            BlockCodec.gorilla(values, into: &bits)
            var reader = BitReader(bits.finish(), byteOffset: 0)
            let decoded = try BlockCodec.ungorilla(count: values.count, from: &reader)
            #expect(decoded.map(\.bitPattern) == values.map(\.bitPattern))
        }
    }

    @Test func gorillaXORRoundTripsEdgeValues() throws {
        // Forced XOR (no scaled precision can hold -0.0 or 1e300).
        let values = Self.edgeDoubles + Self.edgeDoubles.reversed() + [-0.0, -0.0, 0, 0, 5, 5, 5]
        var bits = BitWriter()
        BlockCodec.gorilla(values, into: &bits)
        let bytes = bits.finish()
        var reader = BitReader(bytes, byteOffset: 0)
        #expect(try BlockCodec.ungorilla(count: values.count, from: &reader).map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func scaledIntegersOnlyWhenExactAtThePrecision() {
        #expect(BlockCodec.scalePrecision([7.1, 7.15, 6.9], maxPrecision: 2) == 2)
        #expect(BlockCodec.scalePrecision([7, 8, -3], maxPrecision: 2) == 0)
        // Beyond the declared precision: XOR instead, still lossless.
        #expect(BlockCodec.scalePrecision([7.123], maxPrecision: 2) == nil)
        #expect(BlockCodec.scalePrecision([0.1 + 0.2], maxPrecision: 6) == nil)
        // -0.0 would come back as +0.0 from an integer.
        #expect(BlockCodec.scalePrecision([1, -0.0], maxPrecision: 2) == nil)
        #expect(BlockCodec.scalePrecision([9_007_199_254_740_993.0], maxPrecision: 0) == nil)
    }

    @Test func pointBlocksRoundTrip() async throws {
        await propertyCheck(
            count: 200, input: Self.timestamps, Self.doubles, Gen.int(in: 0...4)
        ) { ts, values, p in
            let points = zip(ts, values).map { Point(ts: $0, value: $1) }
            let decoded = try BlockCodec.decodePoints(BlockCodec.encode(points: points, maxPrecision: p))
            #expect(decoded.map(\.ts) == points.map(\.ts))
            #expect(decoded.map(\.value.bitPattern) == points.map(\.value.bitPattern))
        }
    }

    @Test func cellBlocksRoundTrip() async throws {
        let width: Int64 = 60_000
        let origin: Int64 = 1_763_596_800_000
        let double = Self.double
        let cell = Generator<(Int, RollupCell), Shrink.None<(Int, RollupCell)>> { rng in
            let gap = Int.random(in: 0...3, using: &rng)  // empty cells before this one
            let count = Int.random(in: 1...5, using: &rng)
            var cell = RollupCell(start: 0, ts: Int64.random(in: 0..<width, using: &rng), value: double.run(using: &rng))
            for _ in 1..<count {
                cell.append(ts: cell.lastTs + 1, value: double.run(using: &rng))
            }
            return (gap, cell)
        }
        await propertyCheck(count: 200, input: cell.array(of: 0...100), Gen.int(in: 0...3)) { drawn, p in
            var index: Int64 = -1
            let cells = drawn.map { gap, c -> RollupCell in
                index += Int64(gap) + 1
                var cell = c
                cell.start = origin + index * width
                cell.firstTs += cell.start
                cell.lastTs += cell.start
                return cell
            }
            let decoded = try BlockCodec.decodeCells(
                BlockCodec.encode(cells: cells, origin: origin, width: width, maxPrecision: p), origin: origin, width: width)
            #expect(decoded.count == cells.count)
            #expect(decoded.elementsEqual(cells, by: { $0.isIdentical(to: $1) }))
        }
    }

    @Test func bothIntegerStreamFormsRoundTrip() async throws {
        await propertyCheck(count: 300, input: Self.timestamps) { values in
            var runs = ByteWriter()
            runs.zeroRunIntegers(values)
            var r = ByteReader(runs.bytes)
            let fromRuns = try r.zeroRunIntegers(count: values.count)
            #expect(fromRuns == values)
            #expect(r.isAtEnd)
            var packed = ByteWriter()
            packed.packedGroups(values)
            r = ByteReader(packed.bytes)
            let fromGroups = try r.packedGroups(count: values.count)
            #expect(fromGroups == values)
            #expect(r.isAtEnd)
        }
    }

    @Test func aRegularSeriesTakesWellUnderAByteAReading() throws {
        // One day at one reading a minute, pH drifting by at most 0.05 a minute.
        var value = 7.0
        var generator = SystemRandomNumberGenerator()
        let points = (0..<1440).map { i -> Point in
            value = ((value + Double(Int.random(in: -5...5, using: &generator)) / 100) * 100).rounded() / 100
            return Point(ts: 1_763_596_800_000 + Int64(i) * 60_000, value: value)
        }
        let block = BlockCodec.encode(points: points, maxPrecision: 2)
        // Deltas within ±5 hundredths: 4-bit groups, regular timestamps: a run of zeros.
        #expect(block.count < 800)
        #expect(try BlockCodec.decodePoints(block) == points)
    }

    @Test(arguments: 0...4) func shortBlocksRoundTrip(count: Int) throws {
        let points = (0..<count).map { i -> Point in
            let ts: Int64 = 1_763_596_800_000 + Int64(i * i) * 1000
            return Point(ts: ts, value: i == 2 ? -0.0 : Double(i) / 4)
        }
        #expect(try BlockCodec.decodePoints(BlockCodec.encode(points: points, maxPrecision: 2)) == points)
        let cells = points.map { RollupCell(start: floorAlign($0.ts, 60_000), ts: $0.ts, value: $0.value) }
        let decoded = try BlockCodec.decodeCells(
            BlockCodec.encode(cells: cells, origin: 1_763_596_800_000, width: 60_000, maxPrecision: 2),
            origin: 1_763_596_800_000, width: 60_000)
        #expect(decoded.elementsEqual(cells, by: { $0.isIdentical(to: $1) }))
    }

    @Test func corruptBlocksThrowInsteadOfCrashing() async {
        await propertyCheck(count: 2_000, input: Gen.uint8(in: 0...255).array(of: 0...64)) { bytes in
            _ = try? BlockCodec.decodePoints([1] + bytes)
            _ = try? BlockCodec.decodeCells([1] + bytes, origin: 0, width: 60_000)
        }
    }

    /// A count varint above Int.max once trapped in `Int(_:)` (found by the property above in CI).
    @Test(arguments: [
        [1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] as [UInt8],  // 2^64 - 1
        [1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // 2^63
        [1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // 2^32 - 1: fits an Int, implausible for 6 bytes
    ])
    func hugeCountsAreCorruptNotATrap(bytes: [UInt8]) {
        #expect(throws: StoreError.self) { try BlockCodec.decodePoints(bytes) }
        #expect(throws: StoreError.self) { try BlockCodec.decodeCells(bytes, origin: 0, width: 60_000) }
    }
}
