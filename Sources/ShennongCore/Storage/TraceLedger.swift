import Foundation

/// A record of a trace chain as stored: the canonical JSON payload, the SHA-256 of it, the
/// hash of the record before it in the chain and the record's own link hash.
///
/// The store keeps and returns rows; what a payload means, and how hashes are computed and
/// checked, is ShennongTrace's business.
public struct TraceRecordRow: Sendable, Hashable, Codable {
    /// `registry` for producers and plots, `batch:{id}` for a batch.
    public var chain: String
    /// Position in the chain, from 0.
    public var seq: Int64
    public var kind: String
    /// The id of what the record is about (producer, plot, batch id).
    public var subject: String
    public var batch: String?
    /// The item code (canonical) of a per-item event.
    public var item: String?
    public var payload: String
    public var contentHash: String
    public var prevHash: String
    public var hash: String
    public var recordedAt: Int64

    public init(
        chain: String, seq: Int64, kind: String, subject: String, batch: String?, item: String?, payload: String,
        contentHash: String, prevHash: String, hash: String, recordedAt: Int64
    ) {
        self.chain = chain
        self.seq = seq
        self.kind = kind
        self.subject = subject
        self.batch = batch
        self.item = item
        self.payload = payload
        self.contentHash = contentHash
        self.prevHash = prevHash
        self.hash = hash
        self.recordedAt = recordedAt
    }
}

/// Where an issued code belongs.
public struct TraceCodeRow: Sendable, Hashable, Codable {
    public var code: String
    public var batch: String
    /// The seq of the `codes` record that issued it.
    public var issueSeq: Int64
    public var issuedAt: Int64

    public init(code: String, batch: String, issueSeq: Int64, issuedAt: Int64) {
        self.code = code
        self.batch = batch
        self.issueSeq = issueSeq
        self.issuedAt = issuedAt
    }
}

/// Scan counters of one code.
public struct TraceScanRow: Sendable, Hashable {
    public var code: String
    public var count: Int64
    public var firstAt: Int64
    public var lastAt: Int64
    /// Distinct client networks seen (at most as many as the caller keeps).
    public var networks: [String]

    public init(code: String, count: Int64, firstAt: Int64, lastAt: Int64, networks: [String]) {
        self.code = code
        self.count = count
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.networks = networks
    }
}


/// The door to traceability's ledger (ShennongTrace): hash-chained records, issued codes and
/// scan counters. The ledger keeps and returns rows; what a payload means and how hashes are
/// computed and checked is ShennongTrace's business.
public protocol TraceLedger: Sendable {
    /// Appends a record to `chain` in one transaction: `make` receives the next seq and the
    /// hash of the chain's head (``traceGenesisHash`` for a new chain) and returns the row;
    /// `codes`, if any, are inserted beside it in the same transaction.
    ///
    /// With `uniqueSubject`, a record of the same kind and subject must not exist (throws
    /// ``StoreError`` `conflict`). A code already issued throws `conflict` and nothing is written.
    @discardableResult
    func appendTraceRecord(
        chain: String, uniqueSubject: (kind: String, subject: String)?, codes: [String],
        make: (_ seq: Int64, _ prevHash: String) throws -> TraceRecordRow
    ) throws -> TraceRecordRow
    /// The records of `chain`, in order.
    func traceRecords(chain: String) throws -> [TraceRecordRow]
    /// The records of a kind (and subject), in chain order (chain name, then seq).
    func traceRecords(kind: String, subject: String?) throws -> [TraceRecordRow]
    /// Every chain name, sorted.
    func traceChains() throws -> [String]
    /// Where an issued code belongs, or `nil` for a code never issued.
    func traceCode(_ code: String) throws -> TraceCodeRow?
    /// The codes of a batch (of one issue when `issueSeq` is given), sorted.
    func traceCodes(batch: String, issueSeq: Int64?) throws -> [String]
    /// Per issue seq of a batch, how many codes the code table holds.
    func traceCodeCounts(batch: String) throws -> [Int64: Int]
    /// Codes whose issue record is missing from their batch's chain.
    func traceOrphanCodes() throws -> [(batch: String, issueSeq: Int64, count: Int)]
    /// The scan counters of a code (with at most `maxNetworks` networks), or `nil` if never scanned.
    func traceScan(code: String, maxNetworks: Int) throws -> TraceScanRow?
    /// Writes the scan counters of `rows` in one transaction: count, first and last scan as
    /// given (absolute values), networks added to those stored.
    func saveTraceScans(_ rows: [TraceScanRow]) throws
    /// Adds the scans of `rows` to the stored counters in one transaction: `count` new scans,
    /// the earliest first and latest last scan, networks added (several nodes' scans sum up).
    func addTraceScans(_ rows: [TraceScanRow]) throws
}

/// The hash before the first record of every trace chain (64 zeros).
public let traceGenesisHash = String(repeating: "0", count: 64)

extension TraceLedger {
    /// Appends a record without a uniqueness check or codes.
    @discardableResult
    public func appendTraceRecord(
        chain: String, make: (_ seq: Int64, _ prevHash: String) throws -> TraceRecordRow
    ) throws -> TraceRecordRow {
        try appendTraceRecord(chain: chain, uniqueSubject: nil, codes: [], make: make)
    }

    /// Every record of a kind.
    public func traceRecords(kind: String) throws -> [TraceRecordRow] {
        try traceRecords(kind: kind, subject: nil)
    }

    /// Every code of a batch, sorted.
    public func traceCodes(batch: String) throws -> [String] {
        try traceCodes(batch: batch, issueSeq: nil)
    }

    /// The scan counters of a code with at most 64 networks.
    public func traceScan(code: String) throws -> TraceScanRow? {
        try traceScan(code: code, maxNetworks: 64)
    }
}
