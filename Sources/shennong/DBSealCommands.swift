import ArgumentParser
import Foundation
import ShennongClient
import ShennongCore
import ShennongServer

extension DB {
    struct Seal: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal (封存) compacted buckets that have no seal yet, in bucket order, with the trace signing key.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.seal(db)
        }
    }

    struct Verify: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the seals of stored monitoring data; name the first altered series and bucket (exit 1).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only buckets from: RFC 3339, 2025-03-01 (Beijing), epoch s/ms.") var from: String?
        @Option(help: "Only buckets before (exclusive), same forms.") var to: String?
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.verify(
                db, from: try from.map { try TraceCommands.time($0, name: "--from") },
                to: try to.map { try TraceCommands.time($0, name: "--to") })
        }
    }
}
