import Foundation
import MosquittoClient
import ShennongForward
import ShennongServer
import Testing

/// What the ingest broker (`mqtt:`) and an upstream (`forward.targets[]`) write alike, read
/// by one reader: a secret (value, file, environment), an MQTT connection's TLS, and
/// durations (as rule files write them).
struct ConnectionConfigTests {
    static func parse(_ yaml: String) throws -> ServerConfig {
        try ServerConfig.parse(yaml: yaml, source: "test")
    }

    /// The MQTT settings of the first forward target.
    static func forwardMQTT(_ mqtt: String) throws -> ForwardTarget.MQTT? {
        let config = try parse("forward: { area_code: '1', targets: [ { name: c, mqtt: \(mqtt) } ] }")
        guard case .mqtt(let m) = config.forward.targets.first?.transport else { return nil }
        return m
    }

    @Test("a secret: the value, else the file's first line, else the named environment variable (empty: none)")
    func secrets() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cc-pass-\(UUID().uuidString)").path
        try "from-file\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // A variable no other test sets; PATH is set and not empty in every test run.
        let unset = "SHENNONG_TEST_UNSET_\(UUID().uuidString.prefix(8))"
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        #expect(!path.isEmpty)

        #expect(try Self.parse("mqtt: { password: p, password_file: \(file) }").mqtt.password == "p")
        #expect(try Self.parse("mqtt: { password_file: \(file), password_env: PATH }").mqtt.password == "from-file")
        #expect(try Self.parse("mqtt: { password_env: PATH }").mqtt.password == path)
        #expect(try Self.parse("mqtt: { password_env: \(unset) }").mqtt.password == nil)
        #expect(try Self.forwardMQTT("{ host: h, password_file: \(file) }")?.connection.password == "from-file")
        #expect(try Self.forwardMQTT("{ host: h, password_env: PATH }")?.connection.password == path)
        #expect(try Self.forwardMQTT("{ host: h, password_env: \(unset) }")?.connection.password == nil)
        let http = try Self.parse("forward: { area_code: '1', targets: [ { name: c, http: { url: 'http://x', secret_file: \(file) } } ] }")
        guard case .http(let h) = http.forward.targets.first?.transport else {
            Issue.record("not an HTTP target")
            return
        }
        #expect(h.secret == "from-file")

        // A file that cannot be read is refused, naming the key.
        for yaml in [
            "mqtt: { password_file: /nonexistent/pass }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h, password_file: /nonexistent/pass } } ] }",
        ] {
            #expect {
                try Self.parse(yaml)
            } throws: { error in
                "\(error)".contains("password_file") && "\(error)".contains("/nonexistent/pass")
            }
        }
    }

    @Test("TLS: the same settings and the same checks for the ingest broker and a forward target")
    func tls() throws {
        let full = "{ ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, version: tlsv1.2, insecure: true }"
        let expected = MQTTConfiguration.TLSOptions(
            caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem", insecure: true, version: "tlsv1.2")
        #expect(try Self.parse("mqtt: { tls: \(full) }").mqtt.tls == expected)
        #expect(try Self.forwardMQTT("{ host: h, tls: \(full) }")?.connection.tls == expected)
        #expect(try Self.parse("mqtt: { tls: { ca_file: /ca.pem } }").mqtt.tls == .init(caFile: "/ca.pem"))
        #expect(try Self.parse("mqtt: { tls: null }").mqtt.tls == nil)
        #expect(try Self.parse("mqtt: { host: h }").mqtt.tls == nil)

        for (tls, key) in [
            ("{ ca_file: /ca.pem, version: tlsv1.1 }", "version"), ("{ ca_file: /ca.pem, key_file: /k.pem }", "cert_file"),
            ("{ cert_file: /c.pem, key_file: /k.pem }", "ca_file"),
        ] {
            for yaml in ["mqtt: { tls: \(tls) }", "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h, tls: \(tls) } } ] }"] {
                #expect("\(yaml)") {
                    try Self.parse(yaml)
                } throws: { error in
                    "\(error)".contains("tls.\(key)")
                }
            }
        }
    }

    @Test("durations: one reading for storage, rules and the other sections; zero and junk refused")
    func durations() throws {
        let c = try Self.parse("storage: { compaction_grace: 1.5h }\nrules: { late_after: 90m }\ndashboard: { session_lifetime: 2h }")
        #expect(c.storage.compactionGrace == 5_400_000 && c.rules.lateAfter == 5_400_000 && c.dashboard.sessionLifetime == 7_200_000)
        for yaml in [
            "storage: { compaction_grace: 0s }", "storage: { bucket_width: -1h }", "storage: { compaction_grace: soon }",
            "rules: { late_after: 0s }", "rules: { check_interval: 10 }", "trace: { scan_flush_interval: 0ms }",
        ] {
            #expect(throws: (any Error).self, "\(yaml)") { try Self.parse(yaml) }
        }
    }
}
