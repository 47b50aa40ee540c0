import Foundation
import ShennongProcess
import ShennongTestSupport
import Testing

/// The example ACL (Config/mosquitto-acl.conf) on a real mosquitto with passwords and TLS: a
/// device hears only its own command topic and answers only on its own reply topic; the server's
/// user sends commands and reads replies.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CommandACLTests {
    /// `mosquitto_sub -v` as `user`, writing "topic payload" lines to a file.
    final class Listener: @unchecked Sendable {
        // Invariant: used from one test at a time.
        let path: String
        let process: ChildProcess

        init(port: Int, pki: TransportSecurityTests.PKI, user: String, password: String, topics: [String]) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("acl-\(UUID().uuidString).txt").path
            process = try ChildProcess(
                executable: "/usr/bin/mosquitto_sub",
                arguments: ["-h", "127.0.0.1", "-p", "\(port)", "--cafile", pki.path("ca.crt"), "-u", user, "-P", password, "-v", "-q", "1", "-W", "60"]
                    + topics.flatMap { ["-t", $0] }, outputPath: path)
        }

        deinit {
            process.signal(SIGTERM)
            _ = process.wait(timeout: 5)
            try? FileManager.default.removeItem(atPath: path)
        }

        var lines: [String] { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
    }

    static func publish(_ port: Int, _ pki: TransportSecurityTests.PKI, user: String, password: String, topic: String, _ message: String) throws {
        try pki.run(
            "mosquitto_pub", "-h", "127.0.0.1", "-p", "\(port)", "--cafile", pki.path("ca.crt"), "-u", user, "-P", password, "-q", "1",
            "-t", topic, "-m", message)
    }

    @Test("a device hears only its own command topic and answers only on its own reply topic")
    func deviceHearsOnlyItsOwnCommands() async throws {
        let pki = try TransportSecurityTests.PKI()
        try pki.run("mosquitto_passwd", "-b", pki.path("passwords"), "pond-2", "pond-2-pw")
        let port = freeLoopbackPort()
        let broker = try TestBroker(persistence: false, extraConfiguration: pki.brokerLines(tlsPort: port, mutualPort: freeLoopbackPort()))
        defer { broker.stop() }
        let pond2 = try Listener(port: port, pki: pki, user: "pond-2", password: "pond-2-pw", topics: ["agri/pond-1/command", "agri/pond-2/command", "agri/+/command"])
        let server = try Listener(port: port, pki: pki, user: "shennong", password: TransportSecurityTests.PKI.shennongPassword, topics: ["agri/+/command/reply"])
        // Both subscribers are in once the server's user hears pond-2's own reply and pond-2 its own command.
        let ready = await eventually(timeout: 15, interval: .milliseconds(300)) {
            try? Self.publish(port, pki, user: "shennong", password: TransportSecurityTests.PKI.shennongPassword, topic: "agri/pond-2/command", #"{"id":"probe"}"#)
            try? Self.publish(port, pki, user: "pond-2", password: "pond-2-pw", topic: "agri/pond-2/command/reply", #"{"id":"probe","status":"ok"}"#)
            return pond2.lines.contains { $0.hasPrefix("agri/pond-2/command ") } && server.lines.contains { $0.hasPrefix("agri/pond-2/command/reply ") }
        }
        #expect(ready, "\(broker.log())")
        try Self.publish(port, pki, user: "shennong", password: TransportSecurityTests.PKI.shennongPassword, topic: "agri/pond-1/command", #"{"id":"c-for-pond-1"}"#)
        try Self.publish(port, pki, user: "shennong", password: TransportSecurityTests.PKI.shennongPassword, topic: "agri/pond-2/command", #"{"id":"c-for-pond-2"}"#)
        // pond-2 answering for pond-1 is dropped by the broker.
        try Self.publish(port, pki, user: "pond-2", password: "pond-2-pw", topic: "agri/pond-1/command/reply", #"{"id":"c-for-pond-1","status":"ok"}"#)
        try Self.publish(port, pki, user: "pond-2", password: "pond-2-pw", topic: "agri/pond-2/command/reply", #"{"id":"c-for-pond-2","status":"ok"}"#)
        let heard = await eventually(timeout: 10) {
            pond2.lines.contains { $0.contains("c-for-pond-2") } && server.lines.contains { $0.contains("c-for-pond-2") }
        }
        #expect(heard)
        try await Task.sleep(for: .milliseconds(500))
        #expect(!pond2.lines.contains { $0.contains("c-for-pond-1") }, "a device heard another device's command: \(pond2.lines)")
        #expect(!server.lines.contains { $0.hasPrefix("agri/pond-1/command/reply") }, "a device answered for another: \(server.lines)")
    }
}
