import ArgumentParser
import Foundation
import ShennongClient
import ShennongCore
import ShennongServer

extension DB {
    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal (封存) compacted buckets that have no seal yet, in bucket order, with the trace signing key.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let rows = try AdminCommands.seal(
                databasePath: try database.path(), storage: try database.storage(), signingKeyPath: try database.signingKeyPath(),
                offsetMinutes: try database.serverConfig().localOffsetMinutes)
            if rows.isEmpty && format == .table {
                print(AdminStrings.of(CLIStrings.language).seals.nothingToSeal)
            } else {
                print(format.render(rows, columns: AdminCommands.sealColumns), terminator: "")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the seals of stored monitoring data; name the first altered series and bucket (exit 1).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only buckets from: RFC 3339, 2025-03-01 (Beijing), epoch s/ms.") var from: String?
        @Option(help: "Only buckets before (exclusive), same forms.") var to: String?
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            let (rows, ok) = try AdminCommands.verify(
                databasePath: try database.path(), storage: try database.storage(), signingKeyPath: try database.signingKeyPath(),
                from: try from.map { try TraceCommands.time($0, name: "--from") },
                to: try to.map { try TraceCommands.time($0, name: "--to") }, language: CLIStrings.language,
                offsetMinutes: try database.serverConfig().localOffsetMinutes)
            print(format.render(rows, columns: ["item", "value"]), terminator: "")
            if !ok { throw ExitCode(1) }
        }
    }
}

extension DatabaseOptions {
    /// The server's Ed25519 signing key (the trace key): as configured, else beside the
    /// database file (beside `database.path` for a PostgreSQL URL), as `shennong serve` finds it.
    func signingKeyPath() throws -> String {
        let config = try serverConfig()
        let path = try path()
        return config.trace.signingKeyPath(database: path.hasPrefix("postgres") ? config.database.path : path)
    }
}
