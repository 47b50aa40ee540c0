import Foundation
import MosquittoClient
import ShennongCore
import ShennongForward
import ShennongServer
import Testing

/// The `forward:` section: targets decoded with their defaults; mistakes refused by name.
struct ForwardConfigTests {
    @Test("forward: MQTT and HTTP targets, filters, carries, templates, secrets from a file")
    func decode() throws {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("fw-key-\(UUID().uuidString)").path
        try "s3cret\nignored\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let config = try ServerConfig.parse(
            yaml: """
                forward:
                  area_code: "445302"
                  targets:
                    - name: centre
                      mqtt: { host: centre.example.cn, port: 8883, username: c, password: p, tls: { ca_file: /ca.pem },
                              topic: "county/{area_code}/{device}", alert_topic: "c/{area_code}/a/{device_id}",
                              device_topic: "c/d/{device_id}", seal_topic: "c/s" }
                      domains: [water]
                      sites: [鱼塘A]
                      batch: 500
                      backoff_max: 5s
                    - name: province
                      http: { url: "https://x.example.cn/in", format: senml, secret_file: \(keyFile), gzip: false, timeout: 3s }
                      carries: [readings, alerts]
                """, source: "test")
        let targets = config.forward.targets
        #expect(targets.map(\.name) == ["centre", "province"])
        guard case .mqtt(let m) = targets[0].transport else {
            Issue.record("centre is not MQTT")
            return
        }
        #expect(m.connection.host == "centre.example.cn" && m.connection.port == 8883 && m.connection.password == "p")
        #expect(m.connection.tls == .init(caFile: "/ca.pem"))
        #expect(m.topic == "county/{area_code}/{device}" && m.connection.clientID == "shennong-forward-445302-centre")
        #expect(m.alertTopic == "c/{area_code}/a/{device_id}" && m.deviceTopic == "c/d/{device_id}" && m.sealTopic == "c/s")
        // The forward client's own session: clean (the cursor keeps what was delivered), short reconnect.
        #expect(m.connection.cleanSession && m.connection.reconnectDelay.maximum == .seconds(2) && m.connection.maxInflight == 1000)
        #expect(targets[0].domains == [.water] && targets[0].sites == ["鱼塘A"] && targets[0].batchReadings == 500)
        #expect(targets[0].maxBackoff == 5000 && targets[0].carries == Set(ForwardTarget.Carry.allCases))
        #expect(targets[0].upstreamID(of: nil, id: "p1") == "445302.p1")
        guard case .http(let h) = targets[1].transport else {
            Issue.record("province is not HTTP")
            return
        }
        #expect(h.format == .senml && h.secret == "s3cret" && h.gzip == false && h.timeout == 3000)
        #expect(targets[1].carries == [.readings, .alerts])
        #expect(try ServerConfig.parse(yaml: "", source: "test").forward.targets.isEmpty)
    }

    @Test("forward: refused without an area code, with two transports or none, unknown placeholders, duplicate names, bad TLS")
    func refusals() {
        let bad = [
            "forward: { targets: [ { name: c, mqtt: { host: h } } ] }",
            "forward: { area_code: '1', targets: [ { name: c } ] }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h }, http: { url: 'http://x' } } ] }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h, topic: 'a/{nope}' } } ] }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h, seal_topic: 's/{nope}' } } ] }",
            "forward: { area_code: '1', device_id: '{county}.{device}' }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h } }, { name: c, mqtt: { host: h } } ] }",
            "forward: { area_code: '1', targets: [ { name: c, http: { url: 'ftp://x' } } ] }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h }, carries: [gossip] } ] }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h }, domains: [space] } ] }",
            // TLS is checked as the ingest broker's is: a known version, a certificate with its key.
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h, tls: { ca_file: /ca.pem, version: tlsv1.1 } } } ] }",
            "forward: { area_code: '1', targets: [ { name: c, mqtt: { host: h, tls: { ca_file: /ca.pem, cert_file: /c.pem } } } ] }",
        ]
        for yaml in bad {
            #expect(throws: (any Error).self, "\(yaml)") { try ServerConfig.parse(yaml: yaml, source: "test") }
        }
    }
}
