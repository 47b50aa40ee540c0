import ShennongCore
import Foundation

extension ServerConfig {
    /// The `trace:` section: traceability (一物一码).
    public struct Trace: Sendable, Decodable {
        /// Serve the public pages and staff trace routes.
        public var enabled = true
        /// HMAC secret of the codes (created 0600 on first start); default: `trace-secret`
        /// beside the database.
        public var secretFile: String?
        /// Ed25519 key that seals batches (created 0600 on first start); default:
        /// `trace-signing-key` beside the database.
        public var signingKeyFile: String?
        /// Origin printed in QR codes, page URLs and GS1 Digital Links (no trailing slash).
        public var publicBaseURL = "http://127.0.0.1:8080"
        /// Templates of the public pages.
        public var templatesDir = "dashboards/trace"
        /// A code scanned more than this many times is shown as possibly cloned.
        public var cloneScanLimit = 50
        /// … or scanned from more than this many networks (IPv4 /24, IPv6 /48).
        public var cloneNetworkLimit = 5
        /// Unknown or forged codes a client may try at once …
        public var missBurst = 20
        /// … and per minute after that (then 429).
        public var missPerMinute = 10.0
        /// Scan counters are written to the database this often (ms; `1s`).
        public var scanFlushInterval: Int64 = 1000
        /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
        public var trustForwardedFor = false
        /// Most codes one `trace issue` may make.
        public var maxCodesPerIssue = 1_000_000

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            try c.update(&enabled, "enabled")
            try c.update(&secretFile, "secret_file")
            try c.update(&signingKeyFile, "signing_key_file")
            try c.update(&publicBaseURL, "public_base_url")
            while publicBaseURL.hasSuffix("/") { publicBaseURL.removeLast() }
            let url = URL(string: publicBaseURL)
            try c.require(
                (url?.scheme == "http" || url?.scheme == "https") && url?.host != nil, "public_base_url",
                "must be an http(s) origin like https://trace.example.cn")
            try c.update(&templatesDir, "templates_dir")
            try c.update(&cloneScanLimit, "clone_scan_limit")
            try c.update(&cloneNetworkLimit, "clone_network_limit")
            try c.update(&missBurst, "miss_burst")
            try c.update(&missPerMinute, "miss_per_minute")
            try c.update(duration: &scanFlushInterval, "scan_flush_interval") { _ in "must be a duration like 1s or 500ms" }
            try c.update(&trustForwardedFor, "trust_forwarded_for")
            try c.update(&maxCodesPerIssue, "max_codes_per_issue")
            try c.require(
                cloneScanLimit > 0 && cloneNetworkLimit > 0 && missBurst > 0 && maxCodesPerIssue > 0, "clone_scan_limit",
                "limits must be positive")
        }

        /// The secret file: as configured, else beside `databasePath`.
        public func secretPath(database databasePath: String) -> String {
            secretFile ?? Self.beside(databasePath, "trace-secret")
        }

        /// The signing key file: as configured, else beside `databasePath`.
        public func signingKeyPath(database databasePath: String) -> String {
            signingKeyFile ?? Self.beside(databasePath, "trace-signing-key")
        }

        static func beside(_ path: String, _ name: String) -> String {
            let directory = (path as NSString).deletingLastPathComponent
            return directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
        }
    }
}
