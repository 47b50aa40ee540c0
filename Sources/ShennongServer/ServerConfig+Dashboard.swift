import ShennongCore
import Foundation

extension ServerConfig {
    /// The `dashboard:` section: the staff dashboard at `/dashboard`.
    public struct Dashboard: Sendable, Decodable {
        /// Serve `/dashboard` (and the login-code route).
        public var enabled = true
        /// Mustache templates of the dashboard pages.
        public var templatesDir = "dashboards/staff"
        /// A dashboard session ends this long after login (ms; `12h`).
        public var sessionLifetime: Int64 = 12 * 3_600_000
        /// Mark the session cookie `Secure` (set it when the dashboard is served over HTTPS,
        /// e.g. behind a TLS-terminating proxy).
        public var secureCookie = false

        public init() {}

        enum CodingKeys: String, CodingKey {
            case enabled
            case templatesDir = "templates_dir"
            case sessionLifetime = "session_lifetime"
            case secureCookie = "secure_cookie"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
            templatesDir = try c.decodeIfPresent(String.self, forKey: .templatesDir) ?? templatesDir
            if let text = try c.decodeIfPresent(String.self, forKey: .sessionLifetime) {
                guard let ms = Storage.duration(text), ms >= 60_000 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .sessionLifetime, in: c, debugDescription: "must be a duration of at least 1m, like 12h")
                }
                sessionLifetime = ms
            }
            secureCookie = try c.decodeIfPresent(Bool.self, forKey: .secureCookie) ?? secureCookie
        }
    }
}
