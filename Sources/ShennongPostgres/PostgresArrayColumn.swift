import NIOCore
import PostgresNIO

/// A column of a burst bound as one array parameter (`int8[]`, `float8[]`) for `unnest(…)`,
/// written in the binary array format in one pass over contiguous memory.
///
/// postgres-nio's `Array` encoding goes through the generic element path per value (a length
/// placeholder, then the value); a burst binds tens of thousands of values per column, so the
/// ingest path writes them here directly: the array header, then per element its length (8) and
/// its big-endian bytes.
struct PostgresArrayColumn<Element: PostgresArrayColumnElement>: PostgresNonThrowingEncodable {
    var values: [Element]

    init(_ values: [Element]) {
        self.values = values
    }

    static var psqlType: PostgresDataType { Element.arrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(values.isEmpty ? 0 : 1, as: UInt32.self)  // dimensions
        buffer.writeInteger(0, as: Int32.self)  // no NULLs
        buffer.writeInteger(Element.elementType.rawValue)
        guard !values.isEmpty else { return }
        buffer.writeInteger(Int32(values.count))  // length of the one dimension
        buffer.writeInteger(1, as: Int32.self)  // its lower bound
        let bytes = values.count * 12
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes) { out in
            var offset = 0
            for value in values {
                out.storeBytes(of: UInt32(8).bigEndian, toByteOffset: offset, as: UInt32.self)
                out.storeBytes(of: value.bitPattern.bigEndian, toByteOffset: offset + 4, as: UInt64.self)
                offset += 12
            }
            return bytes
        }
    }
}

/// An eight-byte element of a ``PostgresArrayColumn``.
protocol PostgresArrayColumnElement: Sendable {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
    /// The value's eight bytes as PostgreSQL's binary format holds them (before byte order).
    var bitPattern: UInt64 { get }
}

extension Int64: PostgresArrayColumnElement {
    static var elementType: PostgresDataType { .int8 }
    static var arrayType: PostgresDataType { .int8Array }
    var bitPattern: UInt64 { UInt64(bitPattern: self) }
}

extension Double: PostgresArrayColumnElement {
    static var elementType: PostgresDataType { .float8 }
    static var arrayType: PostgresDataType { .float8Array }
}

extension PostgresBindings {
    /// Appends `values` as one array parameter (``PostgresArrayColumn``).
    mutating func appendColumn<Element: PostgresArrayColumnElement>(_ values: [Element]) {
        append(PostgresArrayColumn(values))
    }
}
