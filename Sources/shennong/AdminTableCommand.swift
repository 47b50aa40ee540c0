import ArgumentParser
import ShennongClient
import ShennongServer

/// An admin command whose answer is a table (``AdminTable``) about the database: the command
/// names its options and the verb it runs; the database comes from its ``DatabaseOptions``
/// (the configuration read once), and the table is printed in its `--format`, exit 1 when
/// the verb found a fault.
protocol AdminTableCommand: AsyncParsableCommand {
    var database: DatabaseOptions { get }
    var format: OutputFormat { get }

    /// The verb's answer about `db`.
    func table(_ db: AdminDatabase) throws -> AdminTable
}

extension AdminTableCommand {
    func run() async throws {
        let table = try table(try database.admin())
        if let sentence = table.whenEmpty, table.rows.isEmpty, format == .table {
            print(sentence)
        } else {
            emit(format.render(table.rows, columns: table.columns))
        }
        if !table.ok { throw ExitCode(1) }
    }
}

extension DatabaseOptions {
    /// The database these options name (`--db`, else the configuration's), as `shennong
    /// serve` opens it, for rows in the CLI's language.
    func admin() throws -> AdminDatabase {
        AdminDatabase(config: try ServerConfig.load(path: config, requireFile: false), path: db, language: CLIStrings.language)
    }
}
