import Foundation
import Logging
import ShennongCore
import ShennongStore

/// The admin verbs that act on the database file directly (`tokens create`, `db migrate`, `db stats`).
public enum AdminCommands {
    /// Opens the database at `path`, creates a token and returns its secret.
    public static func createToken(databasePath: String, name: String, role: Role) throws -> String {
        let store = try Store(path: databasePath, logger: Logger(label: "shennong.admin"))
        defer { try? store.close() }
        return try store.createToken(name: name, role: role)
    }

    /// Opens (and so migrates) the database; returns the applied migrations.
    public static func migrate(databasePath: String) throws -> [String] {
        let store = try Store(path: databasePath, logger: Logger(label: "shennong.admin"))
        defer { try? store.close() }
        return try store.appliedMigrations()
    }

    /// Counts and size of the database, as JSON-like rows for the CLI.
    public static func stats(databasePath: String) throws -> [[String: Any]] {
        let store = try Store(path: databasePath, logger: Logger(label: "shennong.admin"))
        defer { try? store.close() }
        let s = try store.stats()
        return [
            ["item": "devices", "value": s.devices], ["item": "series", "value": s.series],
            ["item": "readings", "value": s.readings], ["item": "rejects", "value": s.rejects],
            ["item": "file_bytes", "value": s.fileBytes],
        ]
    }
}
