import GRDB

extension DatabaseMigrator {
    /// Registers the migration `identifier` that runs `sql` (one or more statements): what
    /// most of the modules' migrations are (Store+Alerts.swift, Store+Seals.swift, …).
    mutating func registerMigration(_ identifier: String, sql: String) {
        registerMigration(identifier) { db in try db.execute(sql: sql) }
    }
}
