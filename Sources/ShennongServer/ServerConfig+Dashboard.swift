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

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            try c.update(&enabled, "enabled")
            try c.update(&templatesDir, "templates_dir")
            try c.update(duration: &sessionLifetime, "session_lifetime", in: 60_000...Int64.max) { _ in
                "must be a duration of at least 1m, like 12h"
            }
            try c.update(&secureCookie, "secure_cookie")
        }
    }
}
