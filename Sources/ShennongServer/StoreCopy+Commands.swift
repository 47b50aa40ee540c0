import ShennongCommands
import ShennongPostgres
import ShennongStore

extension StoreCopy {
    /// Every command of `source` with its transitions, oldest first, ids kept.
    static func copyCommands(from source: Store, to destination: PostgresStore) throws {
        let commands = try source.commands(CommandQuery(limit: .max)).reversed()
        try destination.importCommands(commands.map { (command: $0, transitions: try source.commandTransitions(id: $0.id)) })
    }

    /// Commands and their transitions counted on both sides.
    static func commandCounts(source: Store, copy: PostgresStore) throws -> [(item: String, source: Int, copy: Int)] {
        func count(_ store: any CommandStore) throws -> (Int, Int) {
            let commands = try store.commands(CommandQuery(limit: .max))
            return (commands.count, try commands.reduce(0) { $0 + (try store.commandTransitions(id: $1.id).count) })
        }
        let (a, b) = (try count(source), try count(copy))
        return [("commands", a.0, b.0), ("command_transitions", a.1, b.1)]
    }
}
