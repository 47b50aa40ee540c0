import Foundation
import ShennongCore
import Testing

/// The trace ledger door on every engine: chains, codes and scan counters.
@Suite("store contract: trace ledger")
struct TraceLedgerContractTests {
    /// A row continuing `chain` at `seq` after `prev` (hashes are opaque to the ledger).
    static func row(_ chain: String, _ seq: Int64, _ prev: String, kind: String, subject: String, batch: String? = nil)
        -> TraceRecordRow
    {
        TraceRecordRow(
            chain: chain, seq: seq, kind: kind, subject: subject, batch: batch, item: nil, payload: "{\"n\":\(seq)}",
            contentHash: String(repeating: "c", count: 64), prevHash: prev,
            hash: String(format: "%064d", seq + 1), recordedAt: 1_000 + seq)
    }

    @Test("a chain starts at the genesis hash and each record continues its head", arguments: StoreEngine.all)
    func chains(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        var seen: [(Int64, String)] = []
        for i in 0..<3 {
            let row = try store.appendTraceRecord(chain: "batch:B1") { seq, prev in
                seen.append((seq, prev))
                return Self.row("batch:B1", seq, prev, kind: i == 0 ? "batch" : "event", subject: "B1", batch: "B1")
            }
            #expect(row.seq == Int64(i))
        }
        #expect(seen.map(\.0) == [0, 1, 2])
        #expect(seen[0].1 == traceGenesisHash)
        #expect(seen[1].1 == String(format: "%064d", 1) && seen[2].1 == String(format: "%064d", 2))
        try store.appendTraceRecord(chain: "registry") { seq, prev in Self.row("registry", seq, prev, kind: "producer", subject: "P1") }
        #expect(try store.traceRecords(chain: "batch:B1").map(\.seq) == [0, 1, 2])
        #expect(try store.traceRecords(kind: "event").count == 2)
        #expect(try store.traceRecords(kind: "producer", subject: "P1").map(\.chain) == ["registry"])
        #expect(try store.traceRecords(kind: "producer", subject: "P2").isEmpty)
        #expect(try store.traceChains() == ["batch:B1", "registry"])
        #expect(try store.traceRecords(chain: "batch:B1").last?.payload == "{\"n\":2}")
    }

    @Test("a row that does not continue the head, a taken subject, a taken code: refused, nothing written", arguments: StoreEngine.all)
    func refusals(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let wrongSeq = #expect(throws: StoreError.self) {
            try store.appendTraceRecord(chain: "registry") { _, prev in Self.row("registry", 5, prev, kind: "producer", subject: "P1") }
        }
        #expect(wrongSeq?.code == .invalidArgument)
        try store.appendTraceRecord(chain: "registry", uniqueSubject: (kind: "producer", subject: "P1"), codes: []) { seq, prev in
            Self.row("registry", seq, prev, kind: "producer", subject: "P1")
        }
        let taken = #expect(throws: StoreError.self) {
            try store.appendTraceRecord(chain: "registry", uniqueSubject: (kind: "producer", subject: "P1"), codes: []) { seq, prev in
                Self.row("registry", seq, prev, kind: "producer", subject: "P1")
            }
        }
        #expect(taken?.code == .conflict)
        #expect(try store.traceRecords(chain: "registry").count == 1)

        try store.appendTraceRecord(chain: "batch:B1", uniqueSubject: nil, codes: ["AAA", "BBB"]) { seq, prev in
            Self.row("batch:B1", seq, prev, kind: "codes", subject: "B1", batch: "B1")
        }
        let dup = #expect(throws: StoreError.self) {
            try store.appendTraceRecord(chain: "batch:B1", uniqueSubject: nil, codes: ["CCC", "AAA"]) { seq, prev in
                Self.row("batch:B1", seq, prev, kind: "codes", subject: "B1", batch: "B1")
            }
        }
        #expect(dup?.code == .conflict)
        #expect(try store.traceRecords(chain: "batch:B1").count == 1, "the refused record was written")
        #expect(try store.traceCode("CCC") == nil, "a code of the refused issue was written")
    }

    @Test("codes: where each belongs, per issue, counts, orphans", arguments: StoreEngine.all)
    func codes(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        try store.appendTraceRecord(chain: "batch:B1") { seq, prev in Self.row("batch:B1", seq, prev, kind: "batch", subject: "B1", batch: "B1") }
        try store.appendTraceRecord(chain: "batch:B1", uniqueSubject: nil, codes: ["K2", "K1"]) { seq, prev in
            Self.row("batch:B1", seq, prev, kind: "codes", subject: "B1", batch: "B1")
        }
        try store.appendTraceRecord(chain: "batch:B1", uniqueSubject: nil, codes: ["K3"]) { seq, prev in
            Self.row("batch:B1", seq, prev, kind: "codes", subject: "B1", batch: "B1")
        }
        let k1 = try #require(try store.traceCode("K1"))
        #expect(k1.batch == "B1" && k1.issueSeq == 1 && k1.issuedAt == 1_001)
        #expect(try store.traceCodes(batch: "B1") == ["K1", "K2", "K3"])
        #expect(try store.traceCodes(batch: "B1", issueSeq: 2) == ["K3"])
        #expect(try store.traceCodeCounts(batch: "B1") == [1: 2, 2: 1])
        #expect(try store.traceOrphanCodes().isEmpty)
        // A `batch` record (not `codes`) issuing codes: they have no issue record.
        try store.appendTraceRecord(chain: "batch:B2", uniqueSubject: nil, codes: ["Z9"]) { seq, prev in
            Self.row("batch:B2", seq, prev, kind: "batch", subject: "B2", batch: "B2")
        }
        let orphans = try store.traceOrphanCodes()
        #expect(orphans.count == 1 && orphans.first?.batch == "B2" && orphans.first?.issueSeq == 0 && orphans.first?.count == 1)
    }

    @Test("scan counters: written as given, networks added, at most maxNetworks read back", arguments: StoreEngine.all)
    func scans(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        #expect(try store.traceScan(code: "K1") == nil)
        try store.saveTraceScans([TraceScanRow(code: "K1", count: 3, firstAt: 10, lastAt: 30, networks: ["10.0.0.0/24"])])
        try store.saveTraceScans([
            TraceScanRow(code: "K1", count: 5, firstAt: 10, lastAt: 50, networks: ["10.0.0.0/24", "192.168.1.0/24"])
        ])
        let k1 = try #require(try store.traceScan(code: "K1"))
        #expect(k1.count == 5 && k1.firstAt == 10 && k1.lastAt == 50)
        #expect(Set(k1.networks) == ["10.0.0.0/24", "192.168.1.0/24"])
        #expect(try store.traceScan(code: "K1", maxNetworks: 1)?.networks.count == 1)
    }
}
