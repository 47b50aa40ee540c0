import GRDB

/// Tables of the warnings stage (ShennongRules): rule state, alerts and their transitions.
extension Store {
    static func registerAlertMigrations(_ migrator: inout DatabaseMigrator) {
        // Add migrations here ("v3: alerts ..."); never edit one once registered.
    }
}
