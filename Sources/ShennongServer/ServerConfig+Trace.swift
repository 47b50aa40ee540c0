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

        enum CodingKeys: String, CodingKey {
            case enabled
            case secretFile = "secret_file"
            case signingKeyFile = "signing_key_file"
            case publicBaseURL = "public_base_url"
            case templatesDir = "templates_dir"
            case cloneScanLimit = "clone_scan_limit"
            case cloneNetworkLimit = "clone_network_limit"
            case missBurst = "miss_burst"
            case missPerMinute = "miss_per_minute"
            case scanFlushInterval = "scan_flush_interval"
            case trustForwardedFor = "trust_forwarded_for"
            case maxCodesPerIssue = "max_codes_per_issue"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
            secretFile = try c.decodeIfPresent(String.self, forKey: .secretFile)
            signingKeyFile = try c.decodeIfPresent(String.self, forKey: .signingKeyFile)
            publicBaseURL = try c.decodeIfPresent(String.self, forKey: .publicBaseURL) ?? publicBaseURL
            while publicBaseURL.hasSuffix("/") { publicBaseURL.removeLast() }
            guard let url = URL(string: publicBaseURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .publicBaseURL, in: c, debugDescription: "must be an http(s) origin like https://trace.example.cn")
            }
            templatesDir = try c.decodeIfPresent(String.self, forKey: .templatesDir) ?? templatesDir
            cloneScanLimit = try c.decodeIfPresent(Int.self, forKey: .cloneScanLimit) ?? cloneScanLimit
            cloneNetworkLimit = try c.decodeIfPresent(Int.self, forKey: .cloneNetworkLimit) ?? cloneNetworkLimit
            missBurst = try c.decodeIfPresent(Int.self, forKey: .missBurst) ?? missBurst
            missPerMinute = try c.decodeIfPresent(Double.self, forKey: .missPerMinute) ?? missPerMinute
            if let text = try c.decodeIfPresent(String.self, forKey: .scanFlushInterval) {
                guard let ms = Storage.duration(text) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .scanFlushInterval, in: c, debugDescription: "must be a duration like 1s or 500ms")
                }
                scanFlushInterval = ms
            }
            trustForwardedFor = try c.decodeIfPresent(Bool.self, forKey: .trustForwardedFor) ?? trustForwardedFor
            maxCodesPerIssue = try c.decodeIfPresent(Int.self, forKey: .maxCodesPerIssue) ?? maxCodesPerIssue
            guard cloneScanLimit > 0, cloneNetworkLimit > 0, missBurst > 0, maxCodesPerIssue > 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .cloneScanLimit, in: c, debugDescription: "limits must be positive")
            }
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
