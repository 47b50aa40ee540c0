import CShennongIO
import Foundation

/// What libmosquitto wrote to the socket, held until the bursts it acknowledges are committed.
///
/// libmosquitto writes PUBACKs, PINGREQ, SUBSCRIBE and publishes in the order it queued them;
/// with the `CShennongIO` shim those writes are captured instead of sent. Each capture becomes a
/// segment tagged with the newest burst handed to the commit worker at that moment, and a
/// segment leaves only when every burst up to its tag is committed — in order, so the byte
/// stream the broker sees is exactly libmosquitto's, only later. Run thread only.
struct HeldOutput {
    private var segments: [(burst: UInt64, bytes: [UInt8])] = []
    /// Bytes of the first segment already sent (a partial write).
    private var sentOfFirst = 0

    var isEmpty: Bool { segments.isEmpty }

    /// Moves everything captured so far into a segment that waits for `burst`.
    /// Returns how many bytes were captured.
    @discardableResult
    mutating func capture(from io: OpaquePointer, waitingFor burst: UInt64) -> Int {
        let count = shennong_io_captured_count(io)
        guard count > 0 else { return 0 }
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = shennong_io_take_captured(io, buffer.baseAddress, count)
        }
        if let last = segments.indices.last, segments[last].burst == burst {
            segments[last].bytes += bytes
        } else {
            segments.append((burst, bytes))
        }
        return count
    }

    /// Whether the first segment may leave now (so the caller should poll for POLLOUT).
    func hasSendable(committedThrough: UInt64) -> Bool {
        segments.first.map { $0.burst <= committedThrough } ?? false
    }

    /// Sends the segments whose bursts are committed, in order, until the socket would block.
    /// Returns the `errno` of a failed write, `nil` otherwise.
    mutating func send(to fd: Int32, committedThrough: UInt64) -> Int32? {
        while let first = segments.first, first.burst <= committedThrough {
            let remaining = first.bytes.count - sentOfFirst
            let written = first.bytes.withUnsafeBytes { raw in
                shennong_io_send(fd, raw.baseAddress! + sentOfFirst, remaining)
            }
            if written < 0 {
                let error = errno
                if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return nil }
                return error
            }
            sentOfFirst += written
            if sentOfFirst < first.bytes.count { return nil }
            segments.removeFirst()
            sentOfFirst = 0
        }
        return nil
    }

    /// Forgets everything held (the connection is gone; libmosquitto's reconnect discards its
    /// own queue too, and the broker redelivers what these PUBACKs would have acknowledged).
    mutating func discard() {
        segments.removeAll()
        sentOfFirst = 0
    }
}
