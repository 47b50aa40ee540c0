import Foundation
import MosquittoClient

/// Settings every outgoing connection writes the same way, whether to the ingest broker
/// (`mqtt:`) or to an upstream centre (`forward.targets[].mqtt`, `.http`): a secret, and an
/// MQTT connection's TLS.
extension KeyedDecodingContainer where Key == ConfigKey {
    /// A secret from the value at `value` itself, else the first line of the file at `file`,
    /// else the environment variable named at `environment` (or `defaultEnvironment`); an
    /// empty variable is none. Never logged.
    func secret(
        _ value: ConfigKey, file: ConfigKey, environment: ConfigKey, default defaultEnvironment: String? = nil
    ) throws -> String? {
        if let secret = try decodeIfPresent(String.self, forKey: value) { return secret }
        if let path = try decodeIfPresent(String.self, forKey: file) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw invalid(file, "cannot read \(path)") }
            return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        guard let name = try decodeIfPresent(String.self, forKey: environment) ?? defaultEnvironment,
            let secret = ProcessInfo.processInfo.environment[name], !secret.isEmpty
        else { return nil }
        return secret
    }

    /// The TLS settings of an MQTT connection at `key`, or `nil` when the section has none:
    /// `ca_file` (required), `cert_file` and `key_file` (together), `version` (`tlsv1.2` or
    /// `tlsv1.3`, the least accepted; none keeps libmosquitto's default) and `insecure`
    /// (skips the broker host-name check; for testing only, off by default).
    func mqttTLS(_ key: ConfigKey) throws -> MQTTConfiguration.TLSOptions? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let c = try nestedContainer(keyedBy: ConfigKey.self, forKey: key)
        var tls = MQTTConfiguration.TLSOptions(caFile: try c.decode(String.self, forKey: "ca_file"))
        try c.update(&tls.certFile, "cert_file")
        try c.update(&tls.keyFile, "key_file")
        try c.update(&tls.insecure, "insecure")
        try c.update(&tls.version, "version")
        if let version = tls.version {
            try c.require(["tlsv1.2", "tlsv1.3"].contains(version), "version", "must be tlsv1.2 or tlsv1.3, not \(version)")
        }
        try c.require(
            (tls.certFile == nil) == (tls.keyFile == nil), "cert_file",
            "cert_file and key_file go together (a client certificate needs its key)")
        return tls
    }
}
