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
            for name in try AdminCommands.migrate(try database.admin()) {
                print(name)
            }
        }
    }

    struct Stats: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts and size of the database; per time bucket: readings, bytes, compression ratio.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Totals only (skips reading every bucket and page).") var summary = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.stats(db, buckets: !summary)
        }
    }

    struct Retention: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop buckets and rollups older than each tier's retention (storage.retention).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "List exactly what would be dropped; change nothing.") var dryRun = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.retention(db, dryRun: dryRun)
        }
    }

    struct Compact: AdminTableCommand {
        static let configuration = CommandConfiguration(abstract: "Compact every closed bucket now.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.compact(db)
        }
    }

    struct Vacuum: AdminTableCommand {
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

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.vacuum(db, full: full)
        }
    }

    struct Backup: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Online backup of the (live) database to a new file that `shennong serve` opens as it is.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The new database file.") var path: String
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.backup(db, to: path)
        }
    }
}

extension DB {
    struct Copy: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy this SQLite database into PostgreSQL (readings, rollups, alerts, trace chains, tokens), then verify.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The PostgreSQL database: postgres://user@host:port/db (password in SHENNONG_DATABASE_PASSWORD).")
        var to: String
        @Flag(help: "Copy even if the destination already holds data (readings merge; the rest is added).") var force = false
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.copy(db, to: to, force: force)
        }
    }
}
