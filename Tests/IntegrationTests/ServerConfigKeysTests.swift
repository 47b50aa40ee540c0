import Foundation
import ShennongAlerts
import ShennongCore
import ShennongForward
import ShennongRules
import ShennongServer
import Testing

/// Every key of the configuration file reaches its field: each section decodes through
/// ``ConfigKey`` (the key written once, beside its field), so a misspelt key would leave the
/// default silently. One file with every key set to something other than its default.
struct ServerConfigKeysTests {
    static let everyKey = """
        mqtt: { broker: external, host: broker.example, port: 1884, username: u, password: p, client_id: c1,
                topic_prefix: tp, keep_alive: 11,
                tls: { ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, version: tlsv1.3, insecure: true },
                embedded: { port: 2, data_dir: dd, executable: ex } }
        ingest: { unknown_devices: reject, default_profile: gp, max_payload_bytes: 10, max_future_skew_seconds: 5, max_batch: 7 }
        database: { path: /tmp/x.db, durable: false, url: "postgres://a@b/c", password_file: /pw, password_env: PW }
        storage: { bucket_width: 2h, compaction_grace: 30m, maintenance_interval: "off", compaction_batch_rows: 5,
                   retention: { raw: 30d, 1m: forever, 1h: 2w, 1d: 400d } }
        http: { host: 0.0.0.0, port: 0, port_file: pf, rate_limit: { burst: 3, per_minute: 4.5 } }
        profiles_dir: profiles
        simulator: { enabled: true, devices: 3, rate: 2.5, seed: 9, scenario: fire, aerator_ponds: true }
        rules:
          enabled: false
          directory: rr
          late_after: 2h
          check_interval: 10s
          mqtt_publish: false
          webhooks: [{ url: "https://x.example/h", secret: s, retries: 3, backoff: 2s, timeout: 5s }]
          escalation: { escalate_after: 10m, min_level: red, tiers: [{ name: village, contacts: [{ name: a, phone: "1", webhook: "https://g.example/sms", secret: cs }] }] }
          cap: { sender: a@b, area_code: "441800", org_code: "002", offset: "+07:00" }
        trace: { enabled: false, secret_file: sf, signing_key_file: kf, public_base_url: "https://t.example.cn/",
                 templates_dir: td, clone_scan_limit: 3, clone_network_limit: 2, miss_burst: 5, miss_per_minute: 2.5,
                 scan_flush_interval: 500ms, trust_forwarded_for: true, max_codes_per_issue: 10 }
        dashboard: { enabled: false, templates_dir: st, session_lifetime: 2h, secure_cookie: true }
        commands: { enabled: false, interval: 100ms, unresponsive_level: orange }
        map: { boundaries: { 东陂村: a.geojson } }
        cluster: { node_id: n-1, lease_timeout: 5s }
        forward:
          area_code: "445302"
          device_id: "{device}"
          targets: [{ name: t1, http: { url: "https://d.example/i" }, poll_interval: 1s, backoff_min: 2s, backoff_max: 1m }]
        shutdown_timeout_seconds: 5
        local_time: "+09:00"
        """

    @Test("every key of every section is read into its field")
    func everyKeyRead() throws {
        let c = try ServerConfig.parse(yaml: Self.everyKey, source: "test")
        #expect(c.mqtt.broker == "external" && c.mqtt.host == "broker.example" && c.mqtt.port == 1884)
        #expect(c.mqtt.username == "u" && c.mqtt.password == "p" && c.mqtt.clientID == "c1" && c.mqtt.topicPrefix == "tp")
        #expect(c.mqtt.keepAlive == 11)
        #expect(c.mqtt.tls?.caFile == "/ca.pem" && c.mqtt.tls?.certFile == "/c.pem" && c.mqtt.tls?.keyFile == "/k.pem")
        #expect(c.mqtt.tls?.version == "tlsv1.3" && c.mqtt.tls?.insecure == true)
        #expect(c.mqtt.embedded.port == 2 && c.mqtt.embedded.dataDir == "dd" && c.mqtt.embedded.executable == "ex")
        #expect(c.ingest.unknownDevices == "reject" && c.ingest.defaultProfile == "gp" && c.ingest.maxPayloadBytes == 10)
        #expect(c.ingest.maxFutureSkewSeconds == 5 && c.ingest.maxBatch == 7)
        #expect(c.database.path == "/tmp/x.db" && !c.database.durable && c.database.url == "postgres://a@b/c")
        #expect(c.database.passwordFile == "/pw" && c.database.passwordEnvironment == "PW")
        #expect(c.storage.bucketWidth == 7_200_000 && c.storage.compactionGrace == 1_800_000)
        #expect(c.storage.maintenanceInterval == nil && c.storage.compactionBatchRows == 5)
        #expect(c.storage.retention[.raw] == 30 * 86_400_000 && c.storage.retention[.minute] == nil)
        #expect(c.storage.retention[.hour] == 14 * 86_400_000 && c.storage.retention[.day] == 400 * 86_400_000)
        #expect(c.http.host == "0.0.0.0" && c.http.port == 0 && c.http.portFile == "pf")
        #expect(c.http.rateLimit.burst == 3 && c.http.rateLimit.perMinute == 4.5)
        #expect(c.profilesDir == "profiles")
        #expect(c.simulator.enabled && c.simulator.devices == 3 && c.simulator.rate == 2.5 && c.simulator.seed == 9)
        #expect(c.simulator.scenario == "fire" && c.simulator.aeratorPonds)
        #expect(!c.rules.enabled && c.rules.directory == "rr" && c.rules.lateAfter == 7_200_000 && c.rules.checkInterval == 10_000)
        #expect(!c.rules.mqttPublish && c.rules.webhooks.count == 1)
        let hook = try #require(c.rules.webhooks.first)
        #expect(hook.url == "https://x.example/h" && hook.secret == "s" && hook.retries == 3 && hook.backoff == 2000 && hook.timeout == 5000)
        #expect(c.rules.escalation.escalateAfter == 600_000 && c.rules.escalation.minLevel == .red)
        #expect(c.rules.escalation.tiers.map(\.name) == ["village"])
        #expect(c.rules.escalation.tiers.first?.contacts == [Contact(name: "a", phone: "1", webhook: "https://g.example/sms", secret: "cs")])
        #expect(c.rules.cap.sender == "a@b" && c.rules.cap.areaCode == "441800" && c.rules.cap.orgCode == "002")
        #expect(c.rules.cap.offsetMinutes == 420)
        #expect(!c.trace.enabled && c.trace.secretFile == "sf" && c.trace.signingKeyFile == "kf")
        #expect(c.trace.publicBaseURL == "https://t.example.cn" && c.trace.templatesDir == "td")
        #expect(c.trace.cloneScanLimit == 3 && c.trace.cloneNetworkLimit == 2 && c.trace.missBurst == 5 && c.trace.missPerMinute == 2.5)
        #expect(c.trace.scanFlushInterval == 500 && c.trace.trustForwardedFor && c.trace.maxCodesPerIssue == 10)
        #expect(!c.dashboard.enabled && c.dashboard.templatesDir == "st" && c.dashboard.sessionLifetime == 7_200_000)
        #expect(c.dashboard.secureCookie)
        #expect(!c.commands.enabled && c.commands.interval == 100 && c.commands.unresponsiveLevel == .orange)
        #expect(c.map.boundaries == ["东陂村": "a.geojson"])
        #expect(c.cluster.nodeID == "n-1" && c.cluster.leaseTimeout == 5000)
        #expect(c.forward.areaCode == "445302" && c.forward.deviceID == "{device}" && c.forward.targets.map(\.name) == ["t1"])
        let target = try #require(c.forward.targets.first)
        #expect(target.pollInterval == 1000 && target.minBackoff == 2000 && target.maxBackoff == 60_000)
        #expect(c.shutdownTimeoutSeconds == 5 && c.localOffsetMinutes == 540)
    }

    @Test("rules: webhooks, escalation tiers and CAP refuse what is wrong, naming the key")
    func rulesRefusals() {
        for (yaml, key) in [
            ("rules: { webhooks: [ { url: 'ftp://x' } ] }", "url"), ("rules: { webhooks: [ { secret: s } ] }", "url"),
            ("rules: { webhooks: [ { url: 'https://x', retries: 21 } ] }", "retries"),
            ("rules: { webhooks: [ { url: 'https://x', backoff: 0s } ] }", "backoff"),
            ("rules: { escalation: { min_level: purple } }", "min_level"),
            ("rules: { escalation: { tiers: [ { contacts: [] } ] } }", "name"),
            ("rules: { escalation: { tiers: [ { name: v, contacts: [ { phone: '1' } ] } ] } }", "name"),
            ("rules: { cap: { offset: noon } }", "offset"), ("rules: { cap: { area_code: '44' } }", "area_code"),
            ("rules: { cap: { sender: 'a b' } }", "sender"),
        ] {
            #expect("\(yaml)") {
                try ServerConfig.parse(yaml: yaml, source: "test")
            } throws: { error in
                "\(error)".contains("rules.") && "\(error)".contains(key)
            }
        }
    }

    @Test("without a cap offset, CAP follows local_time; a key left out keeps its default")
    func defaults() throws {
        let c = try ServerConfig.parse(yaml: "local_time: \"+09:00\"\nmqtt: { host: h }", source: "test")
        #expect(c.rules.cap.offsetMinutes == 540)
        #expect(c.mqtt.host == "h" && c.mqtt.port == ServerConfig.MQTT().port && c.mqtt.broker == "embedded")
        #expect(c.storage.maintenanceInterval == ServerConfig.Storage().maintenanceInterval)
    }
}
