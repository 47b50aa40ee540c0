import Foundation

/// One (timestamp, value) pair of a series.
package struct Point: Sendable, Hashable {
    package var ts: Int64
    package var value: Double

    package init(ts: Int64, value: Double) {
        self.ts = ts
        self.value = value
    }
}

/// The encoded form of compacted data: a block of a series' points in one bucket, and a
/// block of a series' rollup cells in one bucket.
///
/// Points: timestamps as delta-of-delta (zigzag; runs of zeros written once, or bit-packed
/// groups, whichever is smaller), values
/// either as scaled integers — when every value survives `Double(Int64((v * 10^p).rounded())) / 10^p`
/// bit for bit at the smallest `p` up to the metric's declared precision — delta-coded the
/// same way, or else as Gorilla XOR floats. Both are lossless: decoding gives back the exact
/// `Double` bit patterns (including `-0.0`).
package enum BlockCodec {
    package static let version: UInt8 = 1

    package enum ValueEncoding: UInt8 {
        case scaled = 1
        case xor = 2
    }

    package static func corrupt(_ message: String) -> StoreError { StoreError(.corrupt, "compacted block: \(message)") }

    /// Powers of ten that are exact doubles.
    package static let powersOfTen: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { acc, _ in acc * 10 } }

    /// Largest magnitude of a scaled integer: beyond 2^53 an Int64 is not exact as a Double.
    package static let maxScaled = 9_007_199_254_740_992.0

    // MARK: Points

    /// Encodes `points` (in any order; normally ascending timestamps) losslessly.
    package static func encode(points: [Point], maxPrecision: Int) -> [UInt8] {
        var w = ByteWriter(capacity: points.count + 16)
        w.byte(version)
        w.uvarint(UInt64(points.count))
        encodeTimestamps(points.lazy.map(\.ts), count: points.count, into: &w)
        encodeValues(points.map(\.value), maxPrecision: maxPrecision, into: &w)
        return w.bytes
    }

    /// The most points (or cells) one block may claim: 4,194,304, about 48 a second over a
    /// day's bucket. Not bounded by the block's size: a run of equal values at a steady
    /// interval (a rain gauge at 0 all day, a switch that stays on) takes a few bytes however
    /// long it is.
    package static let maxElements = 1 << 22

    package static func decodePoints(_ bytes: [UInt8]) throws -> [Point] {
        var r = ByteReader(bytes)
        guard try r.byte() == version else { throw corrupt("unknown version") }
        let count = try r.count(atMost: maxElements)
        let ts = try decodeTimestamps(count: count, from: &r)
        let values = try decodeValues(count: count, from: &r)
        return zip(ts, values).map { Point(ts: $0, value: $1) }
    }

    // MARK: Timestamps: delta of delta

    package static func encodeTimestamps(_ ts: some Sequence<Int64>, count: Int, into w: inout ByteWriter) {
        guard count > 0 else { return }
        var dods: [Int64] = []
        dods.reserveCapacity(max(0, count - 2))
        var previous: Int64 = 0
        var previousDelta: Int64 = 0
        for (i, t) in ts.enumerated() {
            switch i {
            case 0: w.svarint(t)
            case 1:
                previousDelta = t &- previous
                w.svarint(previousDelta)
            default:
                let delta = t &- previous
                dods.append(delta &- previousDelta)
                previousDelta = delta
            }
            previous = t
        }
        if count > 1 { w.integers(dods) }
    }

    package static func decodeTimestamps(count: Int, from r: inout ByteReader) throws -> [Int64] {
        guard count > 0 else { return [] }
        var ts: [Int64] = []
        ts.reserveCapacity(count)
        var t = try r.svarint()
        ts.append(t)
        guard count > 1 else { return ts }
        var delta = try r.svarint()
        t = t &+ delta
        ts.append(t)
        for dod in try r.integers(count: count - 2) {
            delta = delta &+ dod
            t = t &+ delta
            ts.append(t)
        }
        return ts
    }

    // MARK: Values

    /// The smallest precision `p` in `0...maxPrecision` at which every value round-trips
    /// bit for bit as a scaled integer, or `nil`.
    package static func scalePrecision(_ values: [Double], maxPrecision: Int) -> Int? {
        let top = min(max(maxPrecision, 0), 15)
        var p = 0
        for v in values {
            while p <= top && !roundTrips(v, p) { p += 1 }
            if p > top { return nil }
        }
        // A value exact at p' < p is exact at p too, but check: the guarantee is the check.
        for v in values where !roundTrips(v, p) { return nil }
        return p
    }

    @inline(__always) package static func roundTrips(_ v: Double, _ p: Int) -> Bool {
        let scale = powersOfTen[p]
        let scaled = (v * scale).rounded()
        guard scaled.isFinite, abs(scaled) < maxScaled else { return false }
        return (Double(Int64(scaled)) / scale).bitPattern == v.bitPattern
    }

    package static func encodeValues(_ values: [Double], maxPrecision: Int, into w: inout ByteWriter) {
        guard !values.isEmpty else { return }
        if let p = scalePrecision(values, maxPrecision: maxPrecision) {
            w.byte(ValueEncoding.scaled.rawValue)
            w.byte(UInt8(p))
            let scale = powersOfTen[p]
            var previous: Int64 = 0
            var deltas: [Int64] = []
            deltas.reserveCapacity(values.count)
            for (i, v) in values.enumerated() {
                let n = Int64((v * scale).rounded())
                if i == 0 { w.svarint(n) } else { deltas.append(n &- previous) }
                previous = n
            }
            w.integers(deltas)
        } else {
            w.byte(ValueEncoding.xor.rawValue)
            var bits = BitWriter()
            gorilla(values, into: &bits)
            w.bytes.append(contentsOf: bits.finish())
        }
    }

    package static func decodeValues(count: Int, from r: inout ByteReader) throws -> [Double] {
        guard count > 0 else { return [] }
        switch ValueEncoding(rawValue: try r.byte()) {
        case .scaled:
            let p = Int(try r.byte())
            guard p < powersOfTen.count else { throw corrupt("precision \(p)") }
            let scale = powersOfTen[p]
            var n = try r.svarint()
            var values: [Double] = [Double(n) / scale]
            values.reserveCapacity(count)
            for delta in try r.integers(count: count - 1) {
                n = n &+ delta
                values.append(Double(n) / scale)
            }
            return values
        case .xor:
            var bits = BitReader(r.bytes, byteOffset: r.offset)
            let values = try ungorilla(count: count, from: &bits)
            r.offset = bits.byteOffset
            return values
        case nil:
            throw corrupt("unknown value encoding")
        }
    }

    /// Gorilla (Pelkonen et al., VLDB 2015) XOR compression of doubles.
    package static func gorilla(_ values: [Double], into bits: inout BitWriter) {
        var previous = values[0].bitPattern
        bits.write(previous, bits: 64)
        var leading = -1
        var trailing = 0
        for v in values.dropFirst() {
            let x = v.bitPattern ^ previous
            previous = v.bitPattern
            if x == 0 {
                bits.bit(false)
                continue
            }
            bits.bit(true)
            let lz = min(x.leadingZeroBitCount, 31)
            let tz = x.trailingZeroBitCount
            if leading >= 0 && lz >= leading && tz >= trailing {
                bits.bit(false)
                let meaningful = 64 - leading - trailing
                bits.write(x >> UInt64(trailing), bits: meaningful)
            } else {
                bits.bit(true)
                let meaningful = 64 - lz - tz
                bits.write(UInt64(lz), bits: 5)
                bits.write(UInt64(meaningful - 1), bits: 6)
                bits.write(x >> UInt64(tz), bits: meaningful)
                leading = lz
                trailing = tz
            }
        }
    }

    package static func ungorilla(count: Int, from bits: inout BitReader) throws -> [Double] {
        var previous = try bits.read(bits: 64)
        var values: [Double] = [Double(bitPattern: previous)]
        values.reserveCapacity(count)
        var leading = -1
        var trailing = 0
        while values.count < count {
            if try bits.bit() {
                if try bits.bit() {
                    leading = Int(try bits.read(bits: 5))
                    let meaningful = Int(try bits.read(bits: 6)) + 1
                    trailing = 64 - leading - meaningful
                    guard trailing >= 0 else { throw corrupt("XOR window") }
                } else if leading < 0 {
                    throw corrupt("XOR window reused before set")
                }
                let meaningful = 64 - leading - trailing
                previous ^= try bits.read(bits: meaningful) << UInt64(trailing)
            }
            values.append(Double(bitPattern: previous))
        }
        return values
    }

    // MARK: Rollup cells

    /// Encodes the rollup cells of one series in one bucket, `width` ms each, starting at
    /// or after `origin` (the bucket start). Cells must be in ascending start order, aligned.
    ///
    /// A cell holding one reading stores only that value; the others store count, min, max,
    /// sum, first and last (each stream scaled or XOR, whichever is lossless), and the
    /// offsets of their first and last reading in the cell.
    package static func encode(cells: [RollupCell], origin: Int64, width: Int64, maxPrecision: Int) -> [UInt8] {
        var w = ByteWriter(capacity: cells.count * 4 + 16)
        w.byte(version)
        w.uvarint(UInt64(cells.count))
        guard !cells.isEmpty else { return w.bytes }
        // Cell index gaps: consecutive cells write 0.
        var previousIndex: Int64 = -1
        w.integers(cells.map { cell in
            let index = (cell.start &- origin) / width
            defer { previousIndex = index }
            return index &- previousIndex &- 1
        })
        w.integers(deltas(cells.map { Int64($0.count) }))
        w.integers(deltas(cells.map { $0.firstTs &- $0.start }))
        w.integers(deltas(cells.map { $0.lastTs &- $0.firstTs }))
        let single = cells.map(\.isSingle)
        w.integers(single.map { $0 ? 0 : 1 })
        encodeValues(cells.map(\.first), maxPrecision: maxPrecision, into: &w)
        let multi = cells.filter { !$0.isSingle }
        if !multi.isEmpty {
            encodeValues(multi.map(\.last), maxPrecision: maxPrecision, into: &w)
            encodeValues(multi.map(\.min), maxPrecision: maxPrecision, into: &w)
            encodeValues(multi.map(\.max), maxPrecision: maxPrecision, into: &w)
            encodeValues(multi.map(\.sum), maxPrecision: maxPrecision, into: &w)
        }
        return w.bytes
    }

    package static func decodeCells(_ bytes: [UInt8], origin: Int64, width: Int64) throws -> [RollupCell] {
        var r = ByteReader(bytes)
        guard try r.byte() == version else { throw corrupt("unknown version") }
        let n = try r.count(atMost: maxElements)
        guard n > 0 else { return [] }
        var index: Int64 = -1
        let starts = try r.integers(count: n).map { gap -> Int64 in
            index = index &+ gap &+ 1
            return origin &+ index &* width
        }
        let counts = undeltas(try r.integers(count: n))
        let firstOffsets = undeltas(try r.integers(count: n))
        let spans = undeltas(try r.integers(count: n))
        let multiFlags = try r.integers(count: n)
        let firsts = try decodeValues(count: n, from: &r)
        let multiCount = multiFlags.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        var lasts: [Double] = [], mins: [Double] = [], maxs: [Double] = [], sums: [Double] = []
        if multiCount > 0 {
            lasts = try decodeValues(count: multiCount, from: &r)
            mins = try decodeValues(count: multiCount, from: &r)
            maxs = try decodeValues(count: multiCount, from: &r)
            sums = try decodeValues(count: multiCount, from: &r)
        }
        var cells: [RollupCell] = []
        cells.reserveCapacity(n)
        var m = 0
        for i in 0..<n {
            let firstTs = starts[i] &+ firstOffsets[i]
            var cell = RollupCell(
                start: starts[i], count: Int(counts[i]), min: firsts[i], max: firsts[i], sum: firsts[i],
                first: firsts[i], last: firsts[i], firstTs: firstTs, lastTs: firstTs &+ spans[i])
            if multiFlags[i] != 0 {
                cell.last = lasts[m]
                cell.min = mins[m]
                cell.max = maxs[m]
                cell.sum = sums[m]
                m += 1
            }
            cells.append(cell)
        }
        return cells
    }

    private static func deltas(_ values: [Int64]) -> [Int64] {
        var previous: Int64 = 0
        return values.map { v in
            defer { previous = v }
            return v &- previous
        }
    }

    private static func undeltas(_ values: [Int64]) -> [Int64] {
        var running: Int64 = 0
        return values.map { d in
            running = running &+ d
            return running
        }
    }
}
