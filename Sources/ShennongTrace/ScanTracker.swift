import ShennongCore
import Synchronization

/// What the page says about a code's scans.
public struct ScanState: Sendable, Hashable, Codable {
    public var count: Int64
    public var firstAt: Int64
    public var lastAt: Int64
    /// Distinct client networks (IPv4 /24, IPv6 /48), at most ``ScanTracker/maxNetworks``.
    public var networks: Int
}

/// Counts scans in memory and writes them to the store in bursts (``flush()``), so that a
/// page view costs no fsync.
///
/// The in-memory entry of a code is loaded from the store on first touch and incremented
/// here; a flush adds this node's new scans to the stored counters
/// (``TraceLedger/addTraceScans(_:)``), so with several nodes on one database the stored count
/// is the sum of every node's scans. After a flush the entries flushed are dropped from memory:
/// the next scan reads the sum again. A node's page may therefore lag the other nodes' scans by
/// one flush interval; a crash loses at most the scans since the last flush.
public final class ScanTracker: Sendable {
    /// Networks kept per code: enough to compare with any sensible clone threshold.
    public static let maxNetworks = 64

    struct Entry {
        var count: Int64
        var firstAt: Int64
        var lastAt: Int64
        var networks: Set<String>
        var dirty: Bool
        /// Scans counted here since the last flush (what the flush adds to the store).
        var pending: Int64 = 0
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let store: any TraceLedger
    private let maxEntries: Int

    public init(store: any TraceLedger, maxEntries: Int = 100_000) {
        self.store = store
        self.maxEntries = maxEntries
    }

    /// Counts one scan of `code` from `network` at `now` and returns the new state.
    public func record(code: String, network: String, now: Int64) throws -> ScanState {
        if let state = entries.withLock({ Self.bump(&$0[code], network: network, now: now) }) { return state }
        let stored = try store.traceScan(code: code, maxNetworks: Self.maxNetworks)
        return entries.withLock { entries in
            if entries[code] == nil {
                entries[code] = stored.map {
                    Entry(count: $0.count, firstAt: $0.firstAt, lastAt: $0.lastAt, networks: Set($0.networks), dirty: false)
                } ?? Entry(count: 0, firstAt: now, lastAt: now, networks: [], dirty: false)
            }
            let state = Self.bump(&entries[code], network: network, now: now)!
            if entries.count > maxEntries { Self.evictClean(&entries, to: maxEntries * 9 / 10) }
            return state
        }
    }

    /// The state of `code` without counting a scan (staff views).
    public func peek(code: String) throws -> ScanState? {
        if let e = entries.withLock({ $0[code] }) {
            return ScanState(count: e.count, firstAt: e.firstAt, lastAt: e.lastAt, networks: e.networks.count)
        }
        return try store.traceScan(code: code, maxNetworks: Self.maxNetworks).map {
            ScanState(count: $0.count, firstAt: $0.firstAt, lastAt: $0.lastAt, networks: $0.networks.count)
        }
    }

    private static func bump(_ entry: inout Entry?, network: String, now: Int64) -> ScanState? {
        guard var e = entry else { return nil }
        e.count += 1
        e.pending += 1
        e.firstAt = min(e.firstAt, now)
        e.lastAt = max(e.lastAt, now)
        if e.networks.count < maxNetworks { e.networks.insert(network) }
        e.dirty = true
        entry = e
        return ScanState(count: e.count, firstAt: e.firstAt, lastAt: e.lastAt, networks: e.networks.count)
    }

    private static func evictClean(_ entries: inout [String: Entry], to target: Int) {
        for (code, e) in entries where !e.dirty {
            if entries.count <= target { break }
            entries[code] = nil
        }
    }

    /// Adds every changed counter's new scans to the store in one transaction; returns how
    /// many codes. Flushed entries still clean afterwards are dropped (the next scan reads the
    /// sum over every node). On failure the new scans are kept for the next flush.
    @discardableResult
    public func flush() throws -> Int {
        let rows: [TraceScanRow] = entries.withLock { entries in
            var rows: [TraceScanRow] = []
            for (code, e) in entries where e.dirty {
                rows.append(TraceScanRow(code: code, count: e.pending, firstAt: e.firstAt, lastAt: e.lastAt, networks: Array(e.networks)))
                entries[code]!.dirty = false
                entries[code]!.pending = 0
            }
            return rows
        }
        do {
            try store.addTraceScans(rows)
        } catch {
            entries.withLock { entries in
                for row in rows {
                    entries[row.code]?.dirty = true
                    entries[row.code]?.pending += row.count
                }
            }
            throw error
        }
        entries.withLock { entries in
            for row in rows where entries[row.code]?.dirty == false { entries[row.code] = nil }
        }
        return rows.count
    }
}

/// Per client address, a token bucket of lookups that missed (forged or unknown codes):
/// `burst` misses at once, refilled at `perMinute`. An empty bucket refuses every lookup
/// from that address (429) until it refills.
public final class MissLimiter: Sendable {
    private let buckets: TokenBuckets

    public init(burst: Int, perMinute: Double) {
        buckets = TokenBuckets(burst: burst, perMinute: perMinute)
    }

    /// True when `client` may look up a code now.
    public func allows(_ client: String, now: Int64) -> Bool {
        buckets.tokens(client, now: now) >= 1
    }

    /// Takes one token from `client`'s bucket for a miss.
    public func miss(_ client: String, now: Int64) {
        buckets.spend(client, now: now)
    }
}

/// The network a client address belongs to, for counting distinct places a code is scanned
/// from: IPv4 /24 (`203.0.113.0/24`), IPv6 /48; anything else as given.
public func clientNetwork(_ address: String) -> String {
    if address.contains(":") {
        let groups = address.split(separator: ":", omittingEmptySubsequences: false)
        if address.hasPrefix("::ffff:"), let v4 = groups.last, v4.contains(".") { return clientNetwork(String(v4)) }
        return groups.prefix(3).joined(separator: ":") + "::/48"
    }
    let parts = address.split(separator: ".")
    guard parts.count == 4 else { return address }
    return parts.prefix(3).joined(separator: ".") + ".0/24"
}
