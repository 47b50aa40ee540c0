import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import ShennongCore
import Synchronization

/// One checked-out connection, used synchronously by the thread that holds it.
///
/// Every call blocks the calling thread on an `EventLoopFuture` of postgres-nio. The
/// connection runs on the store's own event-loop group (``PostgresConnections``), whose threads
/// never run a store door: a wait therefore never blocks the loop it waits for. NIO's
/// `wait()` traps if it is ever called on an event loop.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs `query` and collects its rows. Errors become ``StoreError``s: `conflict` for a
    /// unique violation, `io` for the rest, with the server's message (never the binds).
    @discardableResult
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw PostgresSession.storeError(error)
        }
    }

    /// Runs SQL without parameters (DDL, BEGIN, COMMIT).
    func execute(_ sql: String) throws {
        try run(PostgresQuery(unsafeSQL: sql))
    }

    /// Runs `sql` with `binds` (SQL put together from trusted parts: table names of ours).
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> PostgresQueryResult {
        try run(PostgresQuery(unsafeSQL: sql, binds: binds))
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// A ``StoreError`` for an error of postgres-nio: `conflict` for a unique violation
    /// (23505), `io` otherwise; the message is the server's (or the client's) text.
    static func storeError(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        guard let psql = error as? PSQLError else { return StoreError(.io, "PostgreSQL: \(error)") }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = [info[.message], info[.detail]].compactMap { $0 }.joined(separator: ": ")
            return StoreError(state == "23505" ? .conflict : .io, "PostgreSQL \(state): \(message)")
        }
        return StoreError(.io, "PostgreSQL: \(psql.code)\(psql.underlying.map { " (\($0))" } ?? "")")
    }
}

/// The store's connections: opened on demand on its own event-loop group, kept for reuse up
/// to ``PostgresSettings/idleConnections``, closed with the store.
///
/// Invariant: the event-loop group's threads run only postgres-nio's channel work; no store
/// door runs on them, so the threads that wait on its futures are never its own loop threads.
final class PostgresConnections: Sendable {
    let group: MultiThreadedEventLoopGroup
    let configuration: PostgresConnection.Configuration
    let idleLimit: Int
    let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var idle: [PostgresConnection] = []
        var nextID = 1
        var closed = false
    }

    init(settings: PostgresSettings, logger: Logger) throws {
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: try Self.tls(settings.tls))
        configuration.options.connectTimeout = .seconds(10)
        // A node hung in the middle of a transaction (SIGSTOP, a frozen VM) must not hold the
        // writer lock, and so every node's writes and the next leader's takeover, for longer than this.
        configuration.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "5000")]
        self.configuration = configuration
        idleLimit = max(1, settings.idleConnections)
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    private static func tls(_ mode: PostgresSettings.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// Runs `body` with a connection of the pool (a new one if none is idle); the connection
    /// goes back to the pool afterwards unless it was closed meanwhile.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try checkOut()
        defer { checkIn(connection) }
        return try body(PostgresSession(connection: connection, logger: logger))
    }

    private func checkOut() throws -> PostgresConnection {
        let (reused, id): (PostgresConnection?, Int) = try state.withLock { state in
            guard !state.closed else { throw StoreError(.io, "the PostgreSQL store is closed") }
            while let connection = state.idle.popLast() {
                if !connection.isClosed { return (connection, 0) }
            }
            state.nextID += 1
            return (nil, state.nextID)
        }
        if let reused { return reused }
        do {
            return try PostgresConnection.connect(
                on: group.next(), configuration: configuration, id: id, logger: logger
            ).wait()
        } catch {
            throw PostgresSession.storeError(error)
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        let keep = state.withLock { state in
            guard !state.closed, !connection.isClosed, state.idle.count < idleLimit else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep, !connection.isClosed { try? connection.close().wait() }
    }

    /// Closes every idle connection and the event-loop group. Later calls fail.
    func close() {
        let idle = state.withLock { state -> [PostgresConnection]? in
            guard !state.closed else { return nil }
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        guard let idle else { return }
        for connection in idle { try? connection.close().wait() }
        try? group.syncShutdownGracefully()
    }
}

extension ByteBuffer {
    /// The readable bytes as an array (a bytea column's value).
    var bytes: [UInt8] { Array(readableBytesView) }
}
