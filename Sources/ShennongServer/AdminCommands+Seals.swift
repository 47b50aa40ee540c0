import Foundation
import ShennongCore
import ShennongSeal
import ShennongTrace

extension AdminCommands {
    /// The sealer of the signing key at `path` (the trace signing key, created 0600 if missing).
    public static func sealer(signingKeyPath path: String) throws -> StoreSealer {
        try SealChain(signingKey: TraceKeys.loadOrCreate(path: path)).storeSealer
    }

    /// The public key (hex) of the signing key at `path`, or `nil` if there is no such file.
    static func sealPublicKey(signingKeyPath path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try SealChain(signingKey: TraceKeys.loadOrCreate(path: path)).publicKey
    }

    /// `db seal`: seals, in bucket order, every compacted bucket that has no seal yet (a
    /// database from before seals, or compacted without the key); one row per seal written
    /// (none: nothing waited, said in a sentence).
    public static func seal(_ database: AdminDatabase) throws -> AdminTable {
        let sealer = try Self.sealer(signingKeyPath: database.signingKeyPath)
        let offsetMinutes = database.offsetMinutes
        let store = try open(database.path, database.storage)
        defer { try? store.close() }
        let written = try store.sealClosedBuckets(with: sealer.sealing, now: nil)
        let rows = written.map { s in
            row([
                ("seq", .int(Int(s.sequence))), ("bucket", .string(LocalTime.precise(s.bucketStart, offsetMinutes: offsetMinutes))),
                ("until", .string(LocalTime.precise(s.bucketUntil, offsetMinutes: offsetMinutes))), ("series", .int(s.series)),
                ("readings", .int(Int(s.readings))), ("root", .string(s.root)),
            ])
        }
        return AdminTable(
            rows, columns: ["seq", "bucket", "until", "series", "readings", "root"],
            whenEmpty: AdminStrings.of(database.language).seals.nothingToSeal)
    }

    /// `db verify`: recomputes the seals of the buckets overlapping `[from, to)` from the
    /// blocks stored now and checks the whole chain against the server's key. Returns the
    /// rows (`item`, `value`; the first is `message`), not ok unless everything is intact.
    public static func verify(_ database: AdminDatabase, from: Int64? = nil, to: Int64? = nil) throws -> AdminTable {
        let language = database.language
        let offsetMinutes = database.offsetMinutes
        let words = AdminStrings.of(language).seals
        let store = try open(database.path, database.storage)
        defer { try? store.close() }
        let key = try sealPublicKey(signingKeyPath: database.signingKeyPath)
        let started = ContinuousClock.now
        let result = try SealVerifier.verify(ledger: store, publicKey: key, from: from, to: to)
        let time = { (ms: Int64) in LocalTime.precise(ms, offsetMinutes: offsetMinutes) }
        var message: String
        var rows: [JSONValue] = []
        if let p = result.problem {
            message = words.problem(p.kind, p.series, time(p.bucketStart), p.sequence)
            rows += [
                item("result", .string(p.kind.rawValue)), item("series", p.series.map(JSONValue.string) ?? .null),
                item("bucket", .string(time(p.bucketStart))), item("bucket_ms", .int(Int(p.bucketStart))),
                item("seal", .int(Int(p.sequence))),
            ]
        } else {
            if result.seals == 0 {
                message = words.noSeals
            } else {
                let range = result.firstBucket.map { words.range(time($0), time(result.lastUntil ?? $0)) } ?? "-"
                message = words.intact(result.buckets, result.series, result.readings, range, result.seals)
            }
            rows.append(item("result", .string("ok")))
        }
        if !result.unsealed.isEmpty { message += "；" + words.unsealed(result.unsealed.count) }
        if result.retired > 0 { message += "；" + words.retired(result.retired) }
        if !result.reopened.isEmpty { message += "；" + words.reopened(result.reopened.count) }
        if language == .en { message = message.replacingOccurrences(of: "；", with: "; ") }
        rows += [
            item("seals", .int(result.seals)), item("buckets", .int(result.buckets)), item("series_blocks", .int(result.series)),
            item("readings", .int(Int(result.readings))), item("unsealed", .int(result.unsealed.count)),
            item("retired", .int(result.retired)), item("reopened", .int(result.reopened.count)), item("seconds", round2(seconds(since: started))),
        ]
        return .items([item("message", .string(message))] + rows, ok: result.ok)
    }
}
