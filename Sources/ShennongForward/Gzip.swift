import CZlib

/// gzip (RFC 1952) through zlib.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public var code: Int32
        public var description: String { "zlib error \(code)" }
    }

    /// `input` as one gzip member.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        let produced: Int = try input.withUnsafeMutableBufferPointer { inBuf in
            try output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                rc = deflate(&stream, Z_FINISH)
                guard rc == Z_STREAM_END else { throw Failure(code: rc) }
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    /// The data of a gzip (or zlib) stream; at most `limit` bytes.
    public static func decompress(_ input: [UInt8], limit: Int = 64 << 20) throws -> [UInt8] {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { inflateEnd(&stream) }
        var input = input
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                let n: Int = chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    return c.count - Int(stream.avail_out)
                }
                guard rc == Z_OK || rc == Z_STREAM_END else { throw Failure(code: rc) }
                out += chunk.prefix(n)
                if out.count > limit { throw Failure(code: Z_BUF_ERROR) }
            } while rc != Z_STREAM_END && (stream.avail_in > 0 || rc == Z_OK)
        }
        guard rc == Z_STREAM_END else { throw Failure(code: Z_DATA_ERROR) }
        return out
    }
}
