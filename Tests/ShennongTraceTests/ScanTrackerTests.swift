import Foundation
import ShennongCore
import ShennongStore
import Testing
@testable import ShennongTrace

/// Two scan trackers on one database are two nodes behind a load balancer: the stored count
/// is the sum of both, and each node reads the sum again after its flush.
@Suite struct ScanTrackerTests {
    @Test("scans counted on two nodes sum up in the store; a flushed node reads the sum back at the next scan")
    func twoNodes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scans-\(UUID().uuidString)")
        let store = try Store(path: directory.appendingPathComponent("s.db").path, durable: false)
        let a = ScanTracker(store: store), b = ScanTracker(store: store)
        for i in 0..<3 { _ = try a.record(code: "K1", network: "10.0.0.0/24", now: 1_000 + Int64(i)) }
        for i in 0..<2 { _ = try b.record(code: "K1", network: "10.0.1.0/24", now: 2_000 + Int64(i)) }
        #expect(try a.flush() == 1 && b.flush() == 1)
        #expect(try store.traceScan(code: "K1")?.count == 5)
        #expect(try a.peek(code: "K1")?.count == 5 && b.peek(code: "K1")?.count == 5)
        #expect(try b.record(code: "K1", network: "10.0.1.0/24", now: 3_000).count == 6)
        #expect(try b.flush() == 1 && a.flush() == 0)
        let row = try #require(try store.traceScan(code: "K1"))
        #expect(row.count == 6 && row.firstAt == 1_000 && row.lastAt == 3_000 && Set(row.networks).count == 2)
    }
}
