import Foundation
import GRDB
import ShennongCore

@testable import ShennongPostgres
@testable import ShennongStore

/// Changes an engine's stored data with plain SQL, past every door: what the seal checks
/// must catch.
struct Intruder: Sendable {
    /// Overwrites the block bytes of `device`/`metric` in the bucket starting at `bucket`.
    var replaceBlock: @Sendable (_ store: any ContractStore, _ bucket: Int64, _ device: String, _ metric: String, _ data: [UInt8]) throws -> Void
    /// Deletes that block row.
    var deleteBlock: @Sendable (_ store: any ContractStore, _ bucket: Int64, _ device: String, _ metric: String) throws -> Void
    /// Sets a text column of seal `seq` (`signature`, `prev`, `root`).
    var setSeal: @Sendable (_ store: any ContractStore, _ seq: Int64, _ column: String, _ value: String) throws -> Void

    static let none = Intruder(
        replaceBlock: { _, _, _, _, _ in }, deleteBlock: { _, _, _, _ in }, setSeal: { _, _, _, _ in })

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func series(_ device: String, _ metric: String) -> String {
        "(SELECT id FROM series WHERE device = '\(device)' AND metric = '\(metric)')"
    }

    static let sqlite = Intruder(
        replaceBlock: { store, bucket, device, metric, data in
            try (store as! Store).pool.write { db in
                let stamp = try String.fetchOne(db, sql: "SELECT stamp FROM buckets WHERE start = ?", arguments: [bucket])!
                try db.execute(sql: "UPDATE blk_\(stamp) SET data = X'\(hex(data))' WHERE series_id = \(series(device, metric))")
            }
        },
        deleteBlock: { store, bucket, device, metric in
            try (store as! Store).pool.write { db in
                let stamp = try String.fetchOne(db, sql: "SELECT stamp FROM buckets WHERE start = ?", arguments: [bucket])!
                try db.execute(sql: "DELETE FROM blk_\(stamp) WHERE series_id = \(series(device, metric))")
            }
        },
        setSeal: { store, seq, column, value in
            try (store as! Store).pool.write { db in
                try db.execute(sql: "UPDATE bucket_seals SET \(column) = ? WHERE seq = ?", arguments: [value, seq])
            }
        })

    static let postgres = Intruder(
        replaceBlock: { store, bucket, device, metric, data in
            try (store as! PostgresStore).write { s in
                try s.execute(
                    "UPDATE blk SET data = decode('\(hex(data))', 'hex') WHERE bucket = \(bucket) AND series_id = \(series(device, metric))")
            }
        },
        deleteBlock: { store, bucket, device, metric in
            try (store as! PostgresStore).write { s in
                try s.execute("DELETE FROM blk WHERE bucket = \(bucket) AND series_id = \(series(device, metric))")
            }
        },
        setSeal: { store, seq, column, value in
            try (store as! PostgresStore).write { s in
                try s.execute("UPDATE bucket_seals SET \(column) = '\(value)' WHERE seq = \(seq)")
            }
        })
}
