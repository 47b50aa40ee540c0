import Crypto
import Foundation

/// The Merkle tree hash of RFC 6962 (§2.1) over the blocks of a bucket, with SHA-256 and
/// domain-separated leaves and nodes, so that no leaf can pass for a node.
///
/// A leaf is `SHA-256(0x00 ‖ u32be(len key) ‖ key ‖ block)`, the key being the series
/// (`device/metric`, UTF-8) and the block its encoded bytes exactly as stored; a node is
/// `SHA-256(0x01 ‖ left ‖ right)`. Leaves are ordered by key (UTF-8 bytes). The tree of no
/// leaves is `SHA-256("")`.
public enum MerkleTree {
    /// The leaf hash of `block` of series `key`.
    public static func leafHash(key: String, block: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        let k = Array(key.utf8)
        let n = UInt32(k.count)
        hasher.update(data: [0x00, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)])
        hasher.update(data: k)
        hasher.update(data: block)
        return Array(hasher.finalize())
    }

    /// The hash of an inner node.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// MTH(leaves): the root over leaf hashes in order; the left subtree holds the largest
    /// power of two below the count.
    public static func root(leaves: [[UInt8]]) -> [UInt8] {
        guard !leaves.isEmpty else { return Array(SHA256.hash(data: [UInt8]())) }
        return root(leaves[...])
    }

    private static func root(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.count == 1 { return leaves[leaves.startIndex] }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let split = leaves.startIndex + k
        return nodeHash(root(leaves[..<split]), root(leaves[split...]))
    }

    /// Orders series keys as the tree does: by their UTF-8 bytes.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

/// Lowercase hex of bytes, and back.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
