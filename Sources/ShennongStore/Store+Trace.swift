import GRDB

/// Tables of traceability (ShennongTrace): producers, plots, batches, codes, events, scans.
extension Store {
    static func registerTraceMigrations(_ migrator: inout DatabaseMigrator) {
        // Add migrations here ("v3-trace: ..."); never edit one once registered.
    }
}
