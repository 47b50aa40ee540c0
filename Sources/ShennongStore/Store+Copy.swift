import GRDB
import ShennongCore

/// What `shennong db copy` reads beyond the doors: token hashes, rollup cells as stored (with
/// their first and last times), the raw horizon. Package access: for the copy only.
extension Store {
    /// Every token as stored (the SHA-256 of its secret, never the secret), oldest first.
    /// Scope and revocation come along: a revoked token stays revoked in the copy.
    package func tokenRecords() throws -> [(name: String, role: String, hash: String, createdAt: Int64, scope: String?, revokedAt: Int64?)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, role, hash, created_at, scope, revoked_at FROM tokens ORDER BY id").map {
                (name: $0[0], role: $0[1], hash: $0[2], createdAt: $0[3], scope: $0[4], revokedAt: $0[5])
            }
        }
    }

    /// The cells of one series in a rollup tier as stored (live and packed), oldest first.
    package func rollupCells(device: String, metric: String, tier: StorageTier) throws -> [RollupCell] {
        try pool.read { db in
            guard
                let series = try Int64.fetchOne(
                    db, sql: "SELECT id FROM series WHERE device = ? AND metric = ?", arguments: [device, metric])
            else { return [] }
            return try Self.cells(series: series, tier: tier, from: .min, to: .max, in: db)
        }
    }

    /// Readings before this time may have been dropped by retention; `nil` if none were.
    package func rawHorizon() throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'raw_horizon'") }
    }
}
