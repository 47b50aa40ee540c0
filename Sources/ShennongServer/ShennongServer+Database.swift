import Logging
import ShennongAlerts
import ShennongCore
import ShennongPostgres
import ShennongStore

/// Every door of a storage engine that the composition hands out, and closing it.
public protocol ServerStore: ReadingIngest, ReadingQueries, DeviceRegistry, TokenStore, RejectLog, TraceLedger,
    StoreMaintenance, StoreHealth, AlertStore, AlertOutbox, SealLedger, DashboardSessionStore, LeaderLease
{
    /// The schema migrations applied, oldest first.
    func appliedMigrations() throws -> [String]
    /// Closes the engine's file or connections.
    func close() throws
}

extension Store: ServerStore {}
extension PostgresStore: ServerStore {}

extension ShennongServer {
    /// The engine `config.database` names: PostgreSQL when `url` is set (its password from
    /// `password_file`, else the environment variable `password_env`), else the SQLite file at
    /// `path` (the default).
    public static func openStore(config: ServerConfig, clock: WallClock, logger: Logger) throws -> any ServerStore {
        let database = config.database
        var options = config.storage.storeOptions
        options.sealer = try AdminCommands.sealer(signingKeyPath: config.trace.signingKeyPath(database: database.path))
        guard let url = database.url, !url.isEmpty else {
            return try Store(path: database.path, durable: database.durable, options: options, clock: clock, logger: logger)
        }
        let password = try PostgresSettings.password(file: database.passwordFile, environment: database.passwordEnvironment)
        let settings = try PostgresSettings(url: url, password: password)
        logger.info("connecting to PostgreSQL", metadata: ["url": "\(settings.location)"])
        return try PostgresStore(settings: settings, options: options, clock: clock, logger: logger)
    }
}
