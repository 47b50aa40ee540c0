/// Crockford base32: digits and letters without I, L, O and U, so a code read aloud or
/// typed from a label is not misread. Decoding folds case and reads I and L as 1, O as 0.
public enum Crockford {
    /// The 32 symbols, value order.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The value (0–31) of one symbol, or `nil`. Lower case, I/L (1) and O (0) are accepted.
    @inline(__always)
    public static func value(of byte: UInt8) -> UInt8? {
        decodeTable[Int(byte)] == 0xFF ? nil : decodeTable[Int(byte)]
    }

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() {
            table[Int(c)] = UInt8(i)
            if c >= 65 && c <= 90 { table[Int(c + 32)] = UInt8(i) }
        }
        for (c, v) in [("I", 1), ("i", 1), ("L", 1), ("l", 1), ("O", 0), ("o", 0)] as [(Character, UInt8)] {
            table[Int(c.asciiValue!)] = v
        }
        return table
    }()

    /// `count` symbols from the high bits of `bytes` (5 bits a symbol, most significant first).
    public static func encode(bits bytes: some Collection<UInt8>, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var buffer: UInt32 = 0
        var bits = 0
        var iterator = bytes.makeIterator()
        while out.count < count {
            if bits < 5 {
                let next = iterator.next() ?? 0
                buffer = (buffer << 8) | UInt32(next)
                bits += 8
            }
            let symbol = (buffer >> UInt32(bits - 5)) & 0x1F
            bits -= 5
            out.append(alphabet[Int(symbol)])
        }
        return out
    }
}
