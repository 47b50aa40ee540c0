import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

/// MQTT over TLS with username/password and a broker ACL (Config/mosquitto-acl.conf's
/// scheme): certificates made with openssl, a mosquitto TLS listener, the real server.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct TransportSecurityTests {
    /// A CA, a server certificate for 127.0.0.1/localhost, a client certificate, a second
    /// (untrusted) CA, a password file and an ACL, in a temporary directory.
    final class PKI: @unchecked Sendable {
        // Invariant for @unchecked Sendable: immutable after init.
        let directory: URL
        static let shennongPassword = "s3cret-ingest-\(UUID().uuidString.prefix(8))"
        static let devicePassword = "pond-1-pw"

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-pki-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: path("san.cnf"), atomically: true, encoding: .utf8)
            try run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.crt"),
                    "-days", "2", "-subj", "/CN=Shennong Test CA")
            try run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("other-ca.key"),
                    "-out", path("other-ca.crt"), "-days", "2", "-subj", "/CN=Someone Else CA")
            for (name, cn, ext) in [("server", "127.0.0.1", true), ("client", "shennong", false)] {
                try run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"),
                        "-subj", "/CN=\(cn)")
                try run(["openssl", "x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                         "-CAcreateserial", "-out", path("\(name).crt"), "-days", "2"] + (ext ? ["-extfile", path("san.cnf")] : []))
            }
            try run("mosquitto_passwd", "-c", "-b", path("passwords"), "shennong", Self.shennongPassword)
            try run("mosquitto_passwd", "-b", path("passwords"), "pond-1", Self.devicePassword)
            // The example ACL shipped in Config/ is the one under test.
            let acl = try String(contentsOf: ShennongBinary.repositoryRoot.appendingPathComponent("Config/mosquitto-acl.conf"), encoding: .utf8)
            try acl.write(toFile: path("acl"), atomically: true, encoding: .utf8)
            try Self.shennongPassword.write(toFile: path("shennong.password"), atomically: true, encoding: .utf8)
            try "wrong-password\n".write(toFile: path("wrong.password"), atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func run(_ arguments: String...) throws { try run(arguments) }

        func run(_ arguments: [String]) throws {
            let result = try runTool(arguments)
            guard result.status == 0 else { throw TestBrokerError("\(arguments.joined(separator: " ")) failed: \(result.output)") }
        }

        /// Broker lines: a TLS listener on `tlsPort`, one requiring client certificates on `mutualPort`.
        func brokerLines(tlsPort: Int, mutualPort: Int) -> [String] {
            [
                "allow_anonymous false",
                "password_file \(path("passwords"))",
                "acl_file \(path("acl"))",
                "listener \(tlsPort) 127.0.0.1",
                "cafile \(path("ca.crt"))", "certfile \(path("server.crt"))", "keyfile \(path("server.key"))",
                "tls_version tlsv1.2",
                "listener \(mutualPort) 127.0.0.1",
                "cafile \(path("ca.crt"))", "certfile \(path("server.crt"))", "keyfile \(path("server.key"))",
                "require_certificate true",
            ]
        }
    }

    func device(_ port: Int, pki: PKI, user: String, password: String) throws -> MQTTPublisher {
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(
            port: port, clientID: "it-\(user)-\(UUID().uuidString.prefix(6))", username: user, password: password,
            tls: .init(caFile: pki.path("ca.crt")), cleanSession: true))
        try publisher.connect()
        return publisher
    }

    @Test("readings arrive over TLS with a password; the ACL keeps a device to its own topic; the secret is never logged")
    func tlsPasswordAndACL() async throws {
        let pki = try PKI()
        let tlsPort = freeLoopbackPort()
        let mutualPort = freeLoopbackPort()
        let broker = try TestBroker(persistence: false, extraConfiguration: pki.brokerLines(tlsPort: tlsPort, mutualPort: mutualPort))
        let server = try ServerProcess(brokerPort: tlsPort, mqttYAML: """
            username: shennong
            password_file: \(pki.path("shennong.password"))
            tls:
              ca_file: \(pki.path("ca.crt"))
              version: tlsv1.2
            """)
        try await server.start()

        let pond = try device(tlsPort, pki: pki, user: "pond-1", password: PKI.devicePassword)
        defer { pond.disconnect() }
        // Forged first: pond-1 writing as pond-2 is dropped by the broker; then its own reading.
        try pond.publish(topic: "agri/pond-2/telemetry", payload: Array(#"{"ts": 1763700000000, "values": {"ph": 6.6}}"#.utf8), qos: 1)
        try pond.publish(topic: "agri/pond-1/telemetry", payload: Array(#"{"ts": 1763700000000, "values": {"ph": 7.1}}"#.utf8), qos: 1)
        #expect(pond.waitUntilAcknowledged(timeout: .seconds(20)))
        let stored = await eventually(timeout: 20) { (try? server.storedReadings()) == 1 }
        #expect(stored, "\(server.log())\n\(broker.log())")
        let (own, ownBody) = try await server.get("/api/v1/devices/pond-1")
        #expect(own == 200, "\(ownBody)")
        let (forged, _) = try await server.get("/api/v1/devices/pond-2")
        #expect(forged == 404, "a device must not publish under another device's topic")
        #expect(!server.log().contains(PKI.shennongPassword), "the MQTT password appears in the server log")
        #expect(server.terminate() == 0)
    }

    @Test("a client certificate is accepted where the broker requires one")
    func clientCertificate() async throws {
        let pki = try PKI()
        let tlsPort = freeLoopbackPort()
        let mutualPort = freeLoopbackPort()
        let broker = try TestBroker(persistence: false, extraConfiguration: pki.brokerLines(tlsPort: tlsPort, mutualPort: mutualPort))
        let server = try ServerProcess(brokerPort: mutualPort, mqttYAML: """
            username: shennong
            password_file: \(pki.path("shennong.password"))
            tls:
              ca_file: \(pki.path("ca.crt"))
              cert_file: \(pki.path("client.crt"))
              key_file: \(pki.path("client.key"))
            """)
        try await server.start()
        #expect(server.terminate() == 0)
        // Without the certificate the same listener refuses the connection.
        let bare = try ServerProcess(brokerPort: mutualPort, mqttYAML: """
            username: shennong
            password_file: \(pki.path("shennong.password"))
            tls:
              ca_file: \(pki.path("ca.crt"))
            """)
        try await bare.start(requireMQTT: false)
        try await Task.sleep(for: .seconds(2))
        let (_, health) = try await bare.get("/healthz", authorized: false)
        #expect(health["mqtt"] as? String == "disconnected", "\(bare.log())\n\(broker.log())")
        #expect(bare.terminate() == 0)
    }

    @Test("a wrong password or an untrusted CA is refused with a clear error; the server stays up and reports MQTT down",
          arguments: ["wrong-password", "untrusted-ca"])
    func refused(_ fault: String) async throws {
        let pki = try PKI()
        let tlsPort = freeLoopbackPort()
        let broker = try TestBroker(persistence: false, extraConfiguration: pki.brokerLines(tlsPort: tlsPort, mutualPort: freeLoopbackPort()))
        let server = try ServerProcess(brokerPort: tlsPort, mqttYAML: """
            username: shennong
            password_file: \(pki.path(fault == "wrong-password" ? "wrong.password" : "shennong.password"))
            tls:
              ca_file: \(pki.path(fault == "untrusted-ca" ? "other-ca.crt" : "ca.crt"))
            """)
        try await server.start(requireMQTT: false)
        let logged = await eventually(timeout: 15) {
            let log = server.log().lowercased()
            return fault == "wrong-password" ? log.contains("not authori") : log.contains("tls")
        }
        #expect(logged, "\(server.log())")
        let (status, health) = try await server.get("/healthz", authorized: false)
        #expect(status == 200 && health["mqtt"] as? String == "disconnected" && health["status"] as? String == "degraded")
        #expect(server.isRunning)
        #expect(!server.log().contains("wrong-password"))
        _ = broker
        #expect(server.terminate() == 0)
    }
}
