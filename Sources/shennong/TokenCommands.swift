import ArgumentParser
import Foundation
import ShennongClient
import ShennongCore
import ShennongServer

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Staff tokens (admin; acts on the database file).", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret once (only its SHA-256 is stored).",
            discussion: """
                --scope limits what the token (and a dashboard session opened with it) sees and acts on:
                comma-separated key=value pairs, keys domain (water, soil, weather, fire, flood), site, area
                (a GB/T 2260 area-code prefix: 44, 4418, 441882) and device; a key repeated is an alternative,
                different keys must all hold. Example: --scope domain=water,area=4418 (water devices of
                Qingyuan); --scope site=东陂村,site=西岸村. The option may be repeated (the pairs add up).
                Without --scope the token sees everything.
                """)

        @Option(help: "viewer, operator or admin.")
        var role: Role = .viewer

        @Option(help: "Who or what the token is for.")
        var name: String = "staff"

        @Option(help: "Limit the token: domain=…,site=…,area=…,device=… (see below).")
        var scope: [String] = []

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let parsed: AccessScope
            do {
                parsed = try AccessScope.parse(scope.joined(separator: ","))
            } catch {
                throw ValidationError(error.description)
            }
            print(try AdminCommands.createToken(try database.admin(), name: name, role: role, scope: parsed))
        }
    }

    struct List: AdminTableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every token (never its secret): id, name, role, scope (* for everything), created, revoked.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table

        func table(_ db: AdminDatabase) throws -> AdminTable {
            try AdminCommands.tokens(db)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: the server refuses it at once, and the dashboard sessions opened with it end.")

        @Argument(help: "The token's id (tokens list).")
        var id: Int64

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            do {
                let revoked = try AdminCommands.revokeToken(try database.admin(), id: id)
                let words = CLIStrings.current
                print(revoked ? words.tokenRevoked(id) : words.tokenAlreadyRevoked(id))
            } catch let error as StoreError where error.code == .notFound {
                FileHandle.standardError.write(Data((CLIStrings.current.noSuchToken(id) + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}
