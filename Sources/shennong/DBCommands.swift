import ArgumentParser
import Foundation
import ShennongServer

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Database administration (acts on the database file).",
        subcommands: [Migrate.self, Stats.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or upgrade the schema.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            for name in try AdminCommands.migrate(databasePath: try database.path()) { print(name) }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts and size of the database.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            print(format.render(try AdminCommands.stats(databasePath: try database.path()), columns: ["item", "value"]), terminator: "")
        }
    }
}
