import Foundation
import ShennongCore

/// Where a PostgreSQL engine connects: `postgres://user@host:port/database`, a password
/// given apart from the URL, and whether to speak TLS.
///
/// The password is never part of ``location`` or of anything logged. TLS is chosen with the
/// URL's `sslmode` (`disable`, the default; `prefer`; `require`, which also verifies the
/// server's certificate against the system's trust roots).
public struct PostgresSettings: Sendable, Hashable {
    /// How the connection uses TLS.
    public enum TLSMode: String, Sendable, Hashable {
        case disable
        case prefer
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    /// Kept out of ``location`` and of every log line.
    public var password: String?
    public var tls: TLSMode
    /// Connections kept open for reuse (more are opened while callers overlap, and closed after).
    public var idleConnections = 4

    public init(
        host: String, port: Int = 5432, username: String, database: String, password: String? = nil,
        tls: TLSMode = .disable
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database
        self.password = password
        self.tls = tls
    }

    /// Reads `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
    /// (`postgresql://` too). `password`, when given, wins over one written in the URL (which
    /// a config file should not hold: use a password file or the environment).
    ///
    /// Throws ``StoreError`` `invalid_argument` for anything else.
    public init(url: String, password: String? = nil) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw StoreError(.invalidArgument, "database.url must look like postgres://user@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError(.invalidArgument, "database.url has no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError(.invalidArgument, "database.url has no user (postgres://user@host/database)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(.invalidArgument, "database.url has no database name (postgres://user@host/database)")
        }
        var tls = TLSMode.disable
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw StoreError(.invalidArgument, "database.url: unknown sslmode \(item.value ?? "")")
                }
            default:
                throw StoreError(.invalidArgument, "database.url: unknown parameter \(item.name)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            database: database.removingPercentEncoding ?? database,
            password: password ?? components.password?.removingPercentEncoding, tls: tls)
    }

    /// The URL without its password, for logs and ``ReadingIngest/location``.
    public var location: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let query = tls == .disable ? "" : "?sslmode=\(tls.rawValue)"
        return "postgres://\(username)@\(host):\(port)/\(database)\(query)"
    }

    /// Whether `text` names a PostgreSQL database (a `postgres://` or `postgresql://` URL).
    public static func isURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// The password from a file (its first line; the file should be readable by the server's
    /// user only), else from the environment variable `environment`, else `nil`.
    ///
    /// Throws `invalid_argument` when the file cannot be read: a configured secret that is
    /// missing must stop the start, not fall back silently.
    public static func password(file: String?, environment: String?) throws -> String? {
        if let file, !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw StoreError(.invalidArgument, "cannot read the database password file \(file)")
            }
            return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
        }
        if let environment, let value = ProcessInfo.processInfo.environment[environment], !value.isEmpty {
            return value
        }
        return nil
    }
}

extension PostgresSettings: CustomStringConvertible {
    /// ``location``: never the password.
    public var description: String { location }
}
