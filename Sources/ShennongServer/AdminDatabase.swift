import ShennongCore

/// The database an admin verb (``AdminCommands``) acts on, resolved once from the
/// configuration file as `shennong serve` would open it: the file or `postgres://` URL, the
/// storage settings, the trace signing key that seals, and how people read what it prints.
public struct AdminDatabase: Sendable {
    /// A SQLite file or a `postgres://` URL.
    public var path: String
    /// The `storage:` settings.
    public var storage: ServerConfig.Storage
    /// The server's Ed25519 signing key (the trace key).
    public var signingKeyPath: String
    /// Times shown in local time: minutes east of UTC (the configuration's `local_time`).
    public var offsetMinutes: Int
    /// The language of what people read in the rows (``AdminStrings``).
    public var language: Language

    public init(path: String, storage: ServerConfig.Storage, signingKeyPath: String, offsetMinutes: Int, language: Language) {
        self.path = path
        self.storage = storage
        self.signingKeyPath = signingKeyPath
        self.offsetMinutes = offsetMinutes
        self.language = language
    }

    /// The database of `config`, or `path` instead of its `database.url` / `database.path`
    /// when given; the signing key as configured, else beside the database file (beside
    /// `database.path` for a PostgreSQL URL), as `shennong serve` finds it.
    public init(config: ServerConfig, path: String? = nil, language: Language) {
        let path = path ?? config.database.url.flatMap { $0.isEmpty ? nil : $0 } ?? config.database.path
        self.init(
            path: path, storage: config.storage,
            signingKeyPath: config.trace.signingKeyPath(database: path.hasPrefix("postgres") ? config.database.path : path),
            offsetMinutes: config.localOffsetMinutes, language: language)
    }
}
