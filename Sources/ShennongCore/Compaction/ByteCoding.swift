/// Byte and bit streams for the block codec: LEB128 varints, zigzag signed integers,
/// integer streams (zero runs or bit-packed groups, whichever is smaller) and a bit writer
/// for Gorilla XOR floats.
///
/// Every integer operation wraps (`&+`, `&-`), so any `Int64` sequence round-trips, even
/// one whose differences overflow.
package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    package mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// Unsigned LEB128: 7 bits a byte, high bit set on every byte but the last.
    package mutating func uvarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zigzag then LEB128: small magnitudes of either sign take few bytes.
    package mutating func svarint(_ value: Int64) { uvarint(zigzag(value)) }

    /// An integer stream in whichever form is smaller: a mode byte, then zero-run varints
    /// (mode 0, best for long runs of zeros) or bit-packed groups (mode 1, best for small
    /// noisy values).
    package mutating func integers(_ values: [Int64]) {
        var runs = ByteWriter(capacity: values.count)
        runs.zeroRunIntegers(values)
        var packed = ByteWriter(capacity: values.count)
        packed.packedGroups(values)
        if runs.bytes.count <= packed.bytes.count {
            bytes.append(0)
            bytes.append(contentsOf: runs.bytes)
        } else {
            bytes.append(1)
            bytes.append(contentsOf: packed.bytes)
        }
    }

    package static let groupSize = 32

    /// Groups of 32 zigzag values, each a width byte `w` then 32 × `w` bits (frame of
    /// reference at zero): a group of values within ±7 takes 17 bytes.
    package mutating func packedGroups(_ values: [Int64]) {
        var i = 0
        while i < values.count {
            let end = min(i + Self.groupSize, values.count)
            var union: UInt64 = 0
            for k in i..<end { union |= zigzag(values[k]) }
            let width = 64 - union.leadingZeroBitCount
            bytes.append(UInt8(width))
            if width > 0 {
                var bits = BitWriter()
                for k in i..<end { bits.write(zigzag(values[k]), bits: width) }
                bytes.append(contentsOf: bits.finish())
            }
            i = end
        }
    }

    /// Integers where zero is common: a non-zero value is its zigzag varint; zero is a
    /// `0` byte followed by the varint of (run length - 1), covering a whole run of zeros.
    package mutating func zeroRunIntegers(_ values: some Collection<Int64>) {
        var run: UInt64 = 0
        for v in values {
            if v == 0 {
                run += 1
                continue
            }
            if run > 0 {
                bytes.append(0)
                uvarint(run - 1)
                run = 0
            }
            uvarint(zigzag(v))
        }
        if run > 0 {
            bytes.append(0)
            uvarint(run - 1)
        }
    }
}

package struct ByteReader {
    package let bytes: [UInt8]
    package var offset: Int

    package init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    package var isAtEnd: Bool { offset >= bytes.count }

    package mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw BlockCodec.corrupt("unexpected end of block") }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func uvarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw BlockCodec.corrupt("varint longer than 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    package mutating func svarint() throws -> Int64 { unzigzag(try uvarint()) }

    /// Reads an element count written as a uvarint, refusing one above `limit` (a corrupt
    /// block must throw, never trap on a count that does not fit an `Int`).
    package mutating func count(atMost limit: Int) throws -> Int {
        let raw = try uvarint()
        guard raw <= UInt64(max(limit, 0)) else { throw BlockCodec.corrupt("implausible count \(raw)") }
        return Int(raw)
    }

    /// Reads `count` integers written by ``ByteWriter/integers(_:)``.
    package mutating func integers(count: Int) throws -> [Int64] {
        switch try byte() {
        case 0: return try zeroRunIntegers(count: count)
        case 1: return try packedGroups(count: count)
        default: throw BlockCodec.corrupt("unknown integer stream mode")
        }
    }

    package mutating func packedGroups(count: Int) throws -> [Int64] {
        var values: [Int64] = []
        values.reserveCapacity(count)
        while values.count < count {
            let n = min(ByteWriter.groupSize, count - values.count)
            let width = Int(try byte())
            guard width <= 64 else { throw BlockCodec.corrupt("group width \(width)") }
            if width == 0 {
                values.append(contentsOf: repeatElement(0, count: n))
                continue
            }
            var bits = BitReader(bytes, byteOffset: offset)
            for _ in 0..<n { values.append(unzigzag(try bits.read(bits: width))) }
            offset = bits.byteOffset
        }
        return values
    }

    /// Reads `count` integers written by ``ByteWriter/zeroRunIntegers(_:)``.
    package mutating func zeroRunIntegers(count: Int) throws -> [Int64] {
        var values: [Int64] = []
        values.reserveCapacity(count)
        while values.count < count {
            let token = try uvarint()
            if token == 0 {
                let run = try uvarint()
                guard run < UInt64(count - values.count) else { throw BlockCodec.corrupt("zero run past the end") }
                values.append(contentsOf: repeatElement(0, count: Int(run) + 1))
            } else {
                values.append(unzigzag(token))
            }
        }
        return values
    }
}

@inline(__always) package func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
@inline(__always) package func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

/// Most-significant-bit-first bit stream, flushed to whole bytes.
package struct BitWriter {
    package init() {}

    package private(set) var bytes: [UInt8] = []
    private var accumulator: UInt64 = 0
    private var used = 0  // bits in accumulator

    /// Appends the low `count` bits of `value` (1...64), most significant first.
    package mutating func write(_ value: UInt64, bits count: Int) {
        precondition(count >= 1 && count <= 64)
        let v = count == 64 ? value : value & ((1 << UInt64(count)) - 1)
        var remaining = count
        while remaining > 0 {
            let free = 64 - used
            let take = min(free, remaining)
            let chunk = take == 64 ? v : (v >> UInt64(remaining - take)) & ((1 << UInt64(take)) - 1)
            accumulator = take == 64 ? chunk : (accumulator << UInt64(take)) | chunk
            used += take
            remaining -= take
            if used == 64 { drain(all: true) }
        }
    }

    package mutating func bit(_ b: Bool) { write(b ? 1 : 0, bits: 1) }

    private mutating func drain(all: Bool) {
        while used >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(used - 8)))
            used -= 8
        }
        if used == 0 { accumulator = 0 } else { accumulator &= (1 << UInt64(used)) - 1 }
    }

    /// The bytes written, the last one padded with zero bits.
    package mutating func finish() -> [UInt8] {
        drain(all: true)
        if used > 0 {
            bytes.append(UInt8(truncatingIfNeeded: accumulator << UInt64(8 - used)))
            used = 0
            accumulator = 0
        }
        return bytes
    }
}

package struct BitReader {
    package let bytes: [UInt8]
    package private(set) var bitOffset: Int

    package init(_ bytes: [UInt8], byteOffset: Int) {
        self.bytes = bytes
        self.bitOffset = byteOffset * 8
    }

    /// The byte offset just past the last bit read (rounded up).
    package var byteOffset: Int { (bitOffset + 7) / 8 }

    package mutating func read(bits count: Int) throws -> UInt64 {
        guard bitOffset + count <= bytes.count * 8 else { throw BlockCodec.corrupt("unexpected end of bit stream") }
        var result: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            let byteIndex = bitOffset >> 3
            let inByte = bitOffset & 7
            let available = 8 - inByte
            let take = min(available, remaining)
            let byte = UInt64(bytes[byteIndex])
            let chunk = (byte >> UInt64(available - take)) & ((1 << UInt64(take)) - 1)
            result = (result << UInt64(take)) | chunk
            remaining -= take
            bitOffset += take
        }
        return result
    }

    package mutating func bit() throws -> Bool { try read(bits: 1) == 1 }
}
