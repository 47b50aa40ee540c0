import ArgumentParser
import Foundation
import ShennongClient
import ShennongCore
import ShennongServer

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Database administration (acts on the database file, also while the server runs).",
        subcommands: [Migrate.self, Stats.self, Retention.self, Compact.self, Vacuum.self, Seal.self, Verify.self, Backup.self, Copy.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or upgrade the schema.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            for name in try AdminCommands.migrate(databasePath: try database.path(), storage: try database.storage()) {
                print(name)
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts and size of the database; per time bucket: readings, bytes, compression ratio.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Totals only (skips reading every bucket and page).") var summary = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.stats(
                databasePath: try database.path(), storage: try database.storage(), buckets: !summary,
                language: CLIStrings.language, offsetMinutes: try database.serverConfig().localOffsetMinutes)
            print(format.render(rows, columns: summary ? ["item", "value"] : AdminCommands.statsColumns), terminator: "")
        }
    }

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop buckets and rollups older than each tier's retention (storage.retention).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "List exactly what would be dropped; change nothing.") var dryRun = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.retention(
                databasePath: try database.path(), storage: try database.storage(), dryRun: dryRun,
                language: CLIStrings.language, offsetMinutes: try database.serverConfig().localOffsetMinutes)
            print(format.render(rows, columns: AdminCommands.retentionColumns), terminator: "")
        }
    }

    struct Compact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compact every closed bucket now.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.compact(
                databasePath: try database.path(), storage: try database.storage(), signingKeyPath: try database.signingKeyPath())
            print(format.render(rows, columns: ["item", "value"]), terminator: "")
        }
    }

    struct Vacuum: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return free pages (left by compaction and retention) to the file system, in short steps.",
            discussion: """
                回收空闲页：每步一个短写事务，服务运行时也可执行。旧版创建的数据库文件需用 --full 转换一次（重写整个文件，期间写入等待）。
                Each step is one short write transaction, safe while the server runs. A file made before incremental \
                vacuum needs --full once: it rewrites the whole file and holds the writer meanwhile.
                """)
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Convert the file to incremental vacuum and rewrite it (VACUUM): writes wait until it ends.") var full = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.vacuum(databasePath: try database.path(), full: full)
            print(format.render(rows, columns: ["item", "value"]), terminator: "")
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Online backup of the (live) database to a new file that `shennong serve` opens as it is.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The new database file.") var path: String
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.backup(databasePath: try database.path(), to: path)
            print(format.render(rows, columns: ["item", "value"]), terminator: "")
        }
    }
}

extension DB {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy this SQLite database into PostgreSQL (readings, rollups, alerts, trace chains, tokens), then verify.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The PostgreSQL database: postgres://user@host:port/db (password in SHENNONG_DATABASE_PASSWORD).")
        var to: String
        @Flag(help: "Copy even if the destination already holds data (readings merge; the rest is added).") var force = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.copy(
                databasePath: try database.path(), to: to, storage: try database.storage(), force: force)
            print(format.render(rows, columns: ["item", "source", "copy"]), terminator: "")
        }
    }
}

extension DatabaseOptions {
    /// The `storage:` settings of the configuration file (defaults when there is none).
    func storage() throws -> ServerConfig.Storage {
        try serverConfig().storage
    }

    /// The configuration file (defaults when there is none).
    func serverConfig() throws -> ServerConfig {
        try ServerConfig.load(path: config, requireFile: false)
    }
}
