import CShennongIO
import Foundation
@testable import MosquittoClient
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `CShennongIO` shim on a real `socketpair`: reads of the attached socket on the attached
/// thread come from one large read, writes there are captured, everything else passes through;
/// and ``HeldOutput`` sends captured segments in order, only once their burst is committed.
///
/// The shim's state is per thread (`shennong_io_attach`), so every test runs its body on a
/// dedicated `Thread` (``onDedicatedThread(_:)``), never on a Swift concurrency thread.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ShennongIOTests {
    @Test("The test process's read and write are the shim's")
    func interposed() {
        #expect(shennong_io_interposed() == 1)
    }

    @Test("Small reads of the attached socket are served from one large read, bytes intact")
    func bufferedReads() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        let sent = pattern(1_000, seed: 3)
        #expect(pair.sendFromPeer(sent) == sent.count)

        let result = onDedicatedThread { () -> (first: Int, bufferedAfterFirst: Int, kernelEmpty: Bool, received: [UInt8], bufferedAtEnd: Int) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var received: [UInt8] = []
            var one: UInt8 = 0
            let first = Glibc.read(pair.local, &one, 1)
            received.append(one)
            let bufferedAfterFirst = shennong_io_buffered_input(io)
            // The shim took everything from the kernel in that one read.
            let kernelEmpty = pair.localHasNothingPending()
            var chunk = 7
            while received.count < sent.count {
                var buffer = [UInt8](repeating: 0, count: chunk)
                let got = Glibc.read(pair.local, &buffer, chunk)
                if got <= 0 { break }
                received += buffer[0..<got]
                chunk = chunk == 7 ? 13 : (chunk == 13 ? 1 : 7)
            }
            return (first, bufferedAfterFirst, kernelEmpty, received, shennong_io_buffered_input(io))
        }
        #expect(result.first == 1)
        #expect(result.bufferedAfterFirst == 999)
        #expect(result.kernelEmpty)
        #expect(result.received == sent)
        #expect(result.bufferedAtEnd == 0)
    }

    @Test("A read at least as large as the buffer goes straight to the socket")
    func largeReadBypassesBuffer() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        let sent = pattern(200, seed: 5)
        #expect(pair.sendFromPeer(sent) == sent.count)
        let result = onDedicatedThread { () -> (got: Int, bytes: [UInt8], buffered: Int) in
            let io = shennong_io_create(64)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var buffer = [UInt8](repeating: 0, count: 128)
            let got = Glibc.read(pair.local, &buffer, 128)
            return (got, Array(buffer[0..<max(0, got)]), shennong_io_buffered_input(io))
        }
        #expect(result.got == 128)
        #expect(result.bytes == Array(sent[0..<128]))
        #expect(result.buffered == 0)
    }

    @Test("After the buffered bytes, a peer that stopped sending reads as end of file (0)")
    func endOfFile() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        let sent = pattern(10, seed: 7)
        #expect(pair.sendFromPeer(sent) == sent.count)
        pair.shutDownPeer()
        let result = onDedicatedThread { () -> (first: Int, rest: Int, restBytes: [UInt8], eof: Int, eofAgain: Int) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var buffer = [UInt8](repeating: 0, count: 100)
            let first = Glibc.read(pair.local, &buffer, 1)
            let rest = Glibc.read(pair.local, &buffer, 100)
            let restBytes = Array(buffer[0..<max(0, rest)])
            let eof = Glibc.read(pair.local, &buffer, 100)
            let eofAgain = Glibc.read(pair.local, &buffer, 1)
            return (first, rest, restBytes, eof, eofAgain)
        }
        #expect(result.first == 1)
        #expect(result.rest == 9)
        #expect(result.restBytes == Array(sent[1...]))
        #expect(result.eof == 0)
        #expect(result.eofAgain == 0)
    }

    @Test("A non-blocking attached socket with nothing to read gives -1 and EAGAIN")
    func emptyNonBlocking() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        pair.makeLocalNonBlocking()
        let result = onDedicatedThread { () -> (got: Int, error: Int32, buffered: Int) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var buffer = [UInt8](repeating: 0, count: 16)
            errno = 0
            let got = Glibc.read(pair.local, &buffer, 1)
            let error = errno
            return (got, error, shennong_io_buffered_input(io))
        }
        #expect(result.got == -1)
        #expect(result.error == EAGAIN || result.error == EWOULDBLOCK)
        #expect(result.buffered == 0)
    }

    @Test("Writes to the attached socket are captured in order, not sent; shennong_io_send is sent")
    func writesCaptured() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        let result = onDedicatedThread {
            () -> (written: [Int], peerAfterWrites: [UInt8], counts: [Int], partial: [UInt8], rest: [UInt8], countAfterTake: Int, sent: Int, peerAfterSend: [UInt8]) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var written: [Int] = []
            var counts: [Int] = []
            for text in ["PUBACK-1;", "PUBACK-2;", "PINGREQ;"] {
                let bytes = Array(text.utf8)
                written.append(bytes.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) })
                counts.append(shennong_io_captured_count(io))
            }
            let peerAfterWrites = pair.receiveAtPeer()
            let partial = takeCaptured(io, capacity: 4)
            let rest = takeCaptured(io, capacity: 1_000)
            let countAfterTake = shennong_io_captured_count(io)
            let direct = Array("direct".utf8)
            let sent = direct.withUnsafeBytes { shennong_io_send(pair.local, $0.baseAddress, $0.count) }
            return (written, peerAfterWrites, counts, partial, rest, countAfterTake, sent, pair.receiveAtPeer())
        }
        #expect(result.written == [9, 9, 8], "write reports every byte as written")
        #expect(result.peerAfterWrites.isEmpty, "captured writes do not reach the peer")
        #expect(result.counts == [9, 18, 26])
        #expect(result.partial == Array("PUBA".utf8))
        #expect(result.rest == Array("CK-1;PUBACK-2;PINGREQ;".utf8))
        #expect(result.countAfterTake == 0)
        #expect(result.sent == 6)
        #expect(result.peerAfterSend == Array("direct".utf8))
    }

    @Test("Another fd on the attached thread, and the attached fd on another thread, pass straight through")
    func otherDescriptorsAndThreadsPassThrough() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        let other = try SocketPair()
        defer { other.close() }
        #expect(other.sendFromPeer(Array("to-other".utf8)) == 8)
        let result = onDedicatedThread {
            () -> (otherWritten: Int, otherPeer: [UInt8], otherRead: [UInt8], fromThread: Int, peer: [UInt8], captured: Int, buffered: Int, detachedWrite: Int, detachedPeer: [UInt8]) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            // A different fd on this (attached) thread.
            let hello = Array("other-fd".utf8)
            let otherWritten = hello.withUnsafeBytes { Glibc.write(other.local, $0.baseAddress, $0.count) }
            let otherPeer = other.receiveAtPeer()
            var buffer = [UInt8](repeating: 0, count: 64)
            let got = Glibc.read(other.local, &buffer, 64)
            let otherRead = Array(buffer[0..<max(0, got)])
            // The attached fd, written from a thread that did not attach.
            let fromThread = onDedicatedThread { () -> Int in
                let bytes = Array("from-another-thread".utf8)
                return bytes.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            }
            let peer = pair.receiveAtPeer()
            let captured = shennong_io_captured_count(io)
            let buffered = shennong_io_buffered_input(io)
            // Detached, this thread's writes to the socket are sent too.
            shennong_io_attach(nil)
            let detachedWrite = hello.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            return (otherWritten, otherPeer, otherRead, fromThread, peer, captured, buffered, detachedWrite, pair.receiveAtPeer())
        }
        #expect(result.otherWritten == 8)
        #expect(result.otherPeer == Array("other-fd".utf8))
        #expect(result.otherRead == Array("to-other".utf8))
        #expect(result.buffered == 0, "a read of another fd does not fill the shim's buffer")
        #expect(result.fromThread == 19)
        #expect(result.peer == Array("from-another-thread".utf8))
        #expect(result.captured == 0)
        #expect(result.detachedWrite == 8)
        #expect(result.detachedPeer == Array("other-fd".utf8))
    }

    @Test("shennong_io_set_socket drops buffered input and captured output")
    func setSocketDropsState() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        pair.makeLocalNonBlocking()
        #expect(pair.sendFromPeer(pattern(100, seed: 11)) == 100)
        let result = onDedicatedThread {
            () -> (bufferedBefore: Int, capturedBefore: Int, bufferedAfter: Int, capturedAfter: Int, socket: Int32, readAfter: Int, readErrno: Int32, written: Int, peer: [UInt8]) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var one: UInt8 = 0
            _ = Glibc.read(pair.local, &one, 1)
            let bytes = Array("held".utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            let bufferedBefore = shennong_io_buffered_input(io)
            let capturedBefore = shennong_io_captured_count(io)
            shennong_io_set_socket(io, -1)
            let bufferedAfter = shennong_io_buffered_input(io)
            let capturedAfter = shennong_io_captured_count(io)
            // No socket: the 99 dropped bytes are gone (the kernel has none left) and writes
            // are sent.
            var buffer = [UInt8](repeating: 0, count: 16)
            errno = 0
            let readAfter = Glibc.read(pair.local, &buffer, 16)
            let readErrno = errno
            let written = bytes.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            return (bufferedBefore, capturedBefore, bufferedAfter, capturedAfter, shennong_io_socket(io), readAfter, readErrno, written, pair.receiveAtPeer())
        }
        #expect(result.bufferedBefore == 99)
        #expect(result.capturedBefore == 4)
        #expect(result.bufferedAfter == 0)
        #expect(result.capturedAfter == 0)
        #expect(result.socket == -1)
        #expect(result.readAfter == -1)
        #expect(result.readErrno == EAGAIN || result.readErrno == EWOULDBLOCK)
        #expect(result.written == 4)
        #expect(result.peer == Array("held".utf8), "only the write after set_socket(-1) arrives")
    }

    @Test("shennong_io_eventfd is non-blocking and counts")
    func eventFD() {
        let fd = shennong_io_eventfd()
        #expect(fd >= 0)
        defer { if fd >= 0 { Glibc.close(fd) } }
        var counter: UInt64 = 0
        errno = 0
        #expect(Glibc.read(fd, &counter, 8) == -1)
        #expect(errno == EAGAIN)
        var one: UInt64 = 1
        #expect(Glibc.write(fd, &one, 8) == 8)
        #expect(Glibc.write(fd, &one, 8) == 8)
        #expect(Glibc.read(fd, &counter, 8) == 8)
        #expect(counter == 2)
    }

    // MARK: - HeldOutput

    @Test("HeldOutput sends each segment only once its burst is committed, in order")
    func heldOutputWaitsForCommits() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        pair.makeLocalNonBlocking()
        let result = onDedicatedThread {
            () -> (steps: [(sendable: Bool, peer: [UInt8])], emptyAtEnd: Bool, error: Int32?) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            func captureWrite(_ text: String) {
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            }
            var held = HeldOutput()
            captureWrite("a1;")
            held.capture(from: io, waitingFor: 1)
            captureWrite("b2;")
            held.capture(from: io, waitingFor: 2)
            captureWrite("c2;")
            held.capture(from: io, waitingFor: 2)  // joins the segment of burst 2
            held.capture(from: io, waitingFor: 3)  // nothing captured: no segment
            captureWrite("d3;")
            held.capture(from: io, waitingFor: 3)
            var steps: [(sendable: Bool, peer: [UInt8])] = []
            var error: Int32?
            for committed: UInt64 in [0, 1, 1, 2, 3] {
                let sendable = held.hasSendable(committedThrough: committed)
                error = error ?? held.send(to: pair.local, committedThrough: committed)
                steps.append((sendable: sendable, peer: pair.receiveAtPeer()))
            }
            return (steps, held.isEmpty, error)
        }
        #expect(result.error == nil)
        let expected: [(Bool, String)] = [(false, ""), (true, "a1;"), (false, ""), (true, "b2;c2;"), (true, "d3;")]
        #expect(result.steps.count == expected.count)
        for (step, want) in zip(result.steps, expected) {
            #expect(step.sendable == want.0)
            #expect(step.peer == Array(want.1.utf8))
        }
        #expect(result.emptyAtEnd)
    }

    @Test("HeldOutput resumes a partial write where it stopped, across segments")
    func heldOutputResumesPartialWrite() throws {
        let pair = try SocketPair(sendBufferSize: 4_096)
        defer { pair.close() }
        pair.makeLocalNonBlocking()
        let first = pattern(200_000, seed: 13)
        let second = pattern(50_000, seed: 17)
        let result = onDedicatedThread {
            () -> (firstRound: Int, emptyAfterFirstRound: Bool, received: [UInt8], rounds: Int, error: Int32?, discarded: Bool) in
            let io = shennong_io_create(4_096)!
            defer { shennong_io_destroy(io) }
            shennong_io_set_socket(io, pair.local)
            shennong_io_attach(io)
            defer { shennong_io_attach(nil) }
            var held = HeldOutput()
            _ = first.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            held.capture(from: io, waitingFor: 1)
            _ = second.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            held.capture(from: io, waitingFor: 2)

            var error = held.send(to: pair.local, committedThrough: 2)
            var received = pair.receiveAtPeer()
            let firstRound = received.count
            let emptyAfterFirstRound = held.isEmpty
            var rounds = 1
            while !held.isEmpty, error == nil, rounds < 100_000 {
                error = held.send(to: pair.local, committedThrough: 2)
                received += pair.receiveAtPeer()
                rounds += 1
            }
            received += pair.receiveAtPeer()
            // discard() forgets what is held.
            _ = first.withUnsafeBytes { Glibc.write(pair.local, $0.baseAddress, $0.count) }
            held.capture(from: io, waitingFor: 3)
            held.discard()
            _ = held.send(to: pair.local, committedThrough: 3)
            return (firstRound, emptyAfterFirstRound, received, rounds, error, held.isEmpty && pair.receiveAtPeer().isEmpty)
        }
        #expect(result.error == nil)
        #expect(result.firstRound > 0)
        #expect(result.firstRound < first.count, "the small send buffer made the first write partial")
        #expect(!result.emptyAfterFirstRound)
        #expect(result.rounds > 1)
        #expect(result.received.count == first.count + second.count)
        #expect(result.received == first + second, "every byte once, in order")
        #expect(result.discarded)
    }
}

// MARK: - Helpers

/// Runs `body` on a new `Thread` and waits for its result (the shim's state is per thread).
private func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.set(body())
        done.signal()
    }
    thread.start()
    done.wait()
    return box.get()!
}

private final class ResultBox<T: Sendable>: Sendable {
    private let value = Mutex<T?>(nil)
    func set(_ newValue: T) { value.withLock { $0 = newValue } }
    func get() -> T? { value.withLock { $0 } }
}

/// `count` bytes that differ from position to position (and between seeds).
private func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed &* 7 &+ $0 / 251) % 256) }
}

/// Takes up to `capacity` captured bytes.
private func takeCaptured(_ io: OpaquePointer, capacity: Int) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let count = shennong_io_take_captured(io, &buffer, capacity)
    return Array(buffer[0..<count])
}

/// An `AF_UNIX` stream socket pair: `local` is the one under test, `peer` the other end. The
/// peer is only used with `send`/`recv`, which the shim does not touch.
private struct SocketPair: Sendable {
    struct Failure: Error {
        var errno: Int32
    }

    let local: Int32
    let peer: Int32

    init(sendBufferSize: Int32? = nil) throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw Failure(errno: errno)
        }
        local = fds[0]
        peer = fds[1]
        if var size = sendBufferSize {
            _ = setsockopt(local, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    func makeLocalNonBlocking() {
        _ = fcntl(local, F_SETFL, fcntl(local, F_GETFL) | O_NONBLOCK)
    }

    /// Sends `bytes` from the peer (blocking); returns the count sent.
    func sendFromPeer(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(peer, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the peer can receive right now, without waiting.
    func receiveAtPeer() -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = Glibc.recv(peer, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if got <= 0 { return received }
            received += buffer[0..<got]
        }
    }

    /// Whether the kernel holds no unread bytes for `local` (peeks, consumes nothing).
    func localHasNothingPending() -> Bool {
        var byte: UInt8 = 0
        let got = Glibc.recv(local, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return got == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// The peer stops sending: `local` reads end of file once the bytes in flight are read.
    /// (A shutdown rather than a close, so that ``close()`` never closes a number twice.)
    func shutDownPeer() {
        _ = shutdown(peer, Int32(SHUT_WR))
    }

    func close() {
        _ = Glibc.close(local)
        _ = Glibc.close(peer)
    }
}
