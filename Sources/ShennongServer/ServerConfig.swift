import ShennongCore
import Foundation
import MosquittoClient
import ShennongRules
import ShennongHTTP
import ShennongIngest
import ShennongSimulator
import ShennongStore
import Yams

/// The server's configuration, read from Config/shennong.yaml. Every key has a default, so
/// an empty file (or none) gives a working server on an embedded broker.
///
/// Relative paths are relative to the working directory of `shennong serve`.
public struct ServerConfig: Sendable, Decodable {
    public var mqtt = MQTT()
    public var ingest = Ingest()
    public var database = Database()
    public var storage = Storage()
    public var http = HTTP()
    /// Directory of device profiles (`*.yaml`).
    public var profilesDir = "devices"
    public var simulator = Simulator()
    /// Early warnings (ServerConfig+Rules.swift).
    public var rules = Rules()
    /// Traceability (ServerConfig+Trace.swift).
    public var trace = Trace()
    /// Device commands (ServerConfig+Commands.swift).
    public var commands = Commands()
    /// Several nodes on one database (ServerConfig+Cluster.swift).
    public var cluster = Cluster()
    /// The staff dashboard (ServerConfig+Dashboard.swift).
    public var dashboard = Dashboard()
    /// Forwarding to upstream centres (ServerConfig+Forward.swift).
    public var forward = Forward()
    /// The map (ServerConfig+Map.swift).
    public var map = Map()
    /// On SIGTERM/SIGINT, how long the drain may take before the services are cancelled.
    public var shutdownTimeoutSeconds = 30
    /// `local_time: "+08:00"`: the offset of every time shown to people (the API's `time`
    /// fields, the dashboard, CLI tables, `db` listings), in minutes east of UTC; Beijing by
    /// default. CAP messages use it too unless `rules.cap.offset` says otherwise.
    public var localOffsetMinutes = 480

    public init() {}

    public struct MQTT: Sendable, Decodable {
        /// `embedded` (start a local mosquitto on loopback) or `external` (connect to host:port).
        public var broker = "embedded"
        public var host = "127.0.0.1"
        public var port = 1883
        public var username: String?
        /// The broker password: from `password`, else the file `password_file` (first line),
        /// else the environment variable `password_env` (default `SHENNONG_MQTT_PASSWORD`).
        /// Never logged.
        public var password: String?
        public var clientID = "shennong-ingest"
        public var topicPrefix = "agri"
        public var keepAlive = 30
        /// `tls:` `ca_file`, `cert_file` with `key_file`, `version`, `insecure` (read as a forward
        /// target's are, ConfigSection+Connection.swift); `nil`: plain TCP.
        public var tls: MQTTConfiguration.TLSOptions?
        /// Settings of the embedded broker (used when `broker: embedded`).
        public var embedded = Embedded()

        public init() {}

        public struct Embedded: Sendable, Decodable {
            public var port = 11883
            public var dataDir = "data/mosquitto"
            public var executable = "mosquitto"
            public init() {}
        }

        /// True when the server runs its own broker.
        public var isEmbedded: Bool { broker == "embedded" }
    }

    public struct Ingest: Sendable, Decodable {
        /// `register` (auto-register with the default profile) or `reject`.
        public var unknownDevices = "register"
        public var defaultProfile = "generic"
        public var maxPayloadBytes = 262_144
        /// Readings stamped further ahead of the receive time than this are rejected.
        public var maxFutureSkewSeconds = 3600
        /// Most messages committed in one transaction. Per burst, every series it touches costs
        /// one rollup-cell write per tier and one `latest` write however many readings it
        /// brings, so large bursts drain a backlog much faster (IngestBench: 20,000 about 1.5×
        /// the rate of 5,000); two bursts are in memory at once (one committing, one read).
        public var maxBatch = 20_000
        public init() {}
    }

    public struct Database: Sendable, Decodable {
        public var path = "data/shennong.db"
        /// fsync every commit (synchronous=FULL): a reading acknowledged survives a power cut.
        public var durable = true
        /// `postgres://user@host:port/database[?sslmode=require]`: the PostgreSQL engine instead
        /// of the SQLite file at ``path`` (see ServerConfig+Postgres.swift).
        public var url: String?
        /// A file whose first line is the database password (never written in `url`).
        public var passwordFile: String?
        /// The environment variable read for the password when there is no file.
        public var passwordEnvironment = "SHENNONG_DATABASE_PASSWORD"
        public init() {}
    }

    /// Time-bucketed reading storage: bucket width, compaction, retention per tier, and the
    /// maintenance service that applies them. Durations are written `90d`, `6h`, `10m`, `30s`.
    public struct Storage: Sendable, Decodable {
        /// Width of one raw bucket (one table): whole hours up to 31 days. Used when the
        /// database is created (or upgraded); an existing database keeps its own.
        public var bucketWidth: Int64 = StorageTier.day.width
        /// A bucket may be compacted this long after its end.
        public var compactionGrace: Int64 = StorageTier.hour.width
        /// About how many readings one compaction transaction handles.
        public var compactionBatchRows = 50_000
        /// Time between maintenance passes (compaction, then retention); `nil` (`off`) runs
        /// none, leaving both to `shennong db compact` and `shennong db retention`.
        public var maintenanceInterval: Int64? = 10 * 60_000
        /// How long each tier is kept (ms); `nil` (`forever`) keeps it.
        public var retention = StoreOptions.Retention()
        public init() {}

        /// The store's options from these settings.
        public var storeOptions: StoreOptions {
            var options = StoreOptions()
            options.bucketWidth = bucketWidth
            options.compactionGrace = compactionGrace
            options.compactionBatchRows = compactionBatchRows
            options.retention = retention
            return options
        }

        /// Milliseconds in a positive duration, `90d`, `6h`, `10m`, `30s`, `500ms` or `2w`
        /// (``DurationText``, as rule files write them), or `nil`.
        static func duration(_ text: String) -> Int64? {
            DurationText.milliseconds(text).flatMap { $0 > 0 ? $0 : nil }
        }
    }

    public struct HTTP: Sendable, Decodable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// If set, the bound port is written here once the server listens (useful with port 0).
        public var portFile: String?
        /// Per-client limit on the public routes (`http.rate_limit.burst`, `per_minute`; 0 = off).
        public var rateLimit = PublicRateLimit()
        public init() {}
    }

    public struct Simulator: Sendable, Decodable {
        public var enabled = false
        public var devices = 25
        /// Messages per second, all devices together.
        public var rate = 5.0
        public var seed: UInt64 = 1
        /// A scripted episode to play instead of the steady model (`rainstorm`, `do-crash`, `drought`, `fire`, `flood`, `silent`, `backfill`, `aerator`).
        public var scenario: String?
        /// Also run the `aerator` scenario's two ponds live beside the simulator (the demo's
        /// closed loop: they obey commands; pond 02's aerator ignores them).
        public var aeratorPonds = false
        public init() {}
    }

    /// Loads `path`; a missing file gives the defaults only when `path` is the default one.
    public static func load(path: String, requireFile: Bool) throws -> ServerConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            if requireFile { throw ConfigError("config file \(path) does not exist") }
            return ServerConfig()
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try parse(yaml: text, source: path)
    }

    /// Parses configuration YAML; errors name the source and, where known, the line.
    public static func parse(yaml: String, source: String) throws -> ServerConfig {
        if yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return ServerConfig() }
        do {
            return try YAMLDecoder().decode(ServerConfig.self, from: yaml)
        } catch let error as DecodingError {
            throw ConfigError("\(source): \(ConfigError.describe(error))")
        } catch {
            throw ConfigError("\(source): \(error)")
        }
    }
}

/// A configuration problem, said in one sentence.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "\(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c):
            return "\(path(c.codingPath + [key])): missing"
        @unknown default:
            return "\(error)"
        }
    }
}

// Decoding with defaults: every key optional, snake_case in YAML (``ConfigKey``).
extension ServerConfig {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&mqtt, "mqtt")
        try c.update(&ingest, "ingest")
        try c.update(&database, "database")
        try c.update(&storage, "storage")
        try c.update(&http, "http")
        try c.update(&profilesDir, "profiles_dir")
        try c.update(&simulator, "simulator")
        try c.update(&rules, "rules")
        try c.update(&trace, "trace")
        try c.update(&dashboard, "dashboard")
        try c.update(&commands, "commands")
        try c.update(&forward, "forward")
        try c.update(&map, "map")
        try c.update(&cluster, "cluster")
        try c.update(&shutdownTimeoutSeconds, "shutdown_timeout_seconds")
        try c.require(shutdownTimeoutSeconds > 0, "shutdown_timeout_seconds", "must be a positive number of seconds")
        try c.update(&localOffsetMinutes, "local_time", parsing: LocalTime.offsetMinutes) { "must be an offset like +08:00, not \($0)" }
        if !rules.capOffsetGiven { rules.cap.offsetMinutes = localOffsetMinutes }
    }
}

extension ServerConfig.MQTT {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&broker, "broker")
        try c.require(broker == "embedded" || broker == "external", "broker", "must be embedded or external, not \(broker)")
        try c.update(&host, "host")
        try c.update(&port, "port")
        try c.update(&username, "username")
        password = try c.secret("password", file: "password_file", environment: "password_env", default: "SHENNONG_MQTT_PASSWORD")
        try c.update(&clientID, "client_id")
        try c.update(&topicPrefix, "topic_prefix")
        try c.update(&keepAlive, "keep_alive")
        tls = try c.mqttTLS("tls")
        try c.update(&embedded, "embedded")
    }
}

extension ServerConfig.MQTT.Embedded {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&port, "port")
        try c.update(&dataDir, "data_dir")
        try c.update(&executable, "executable")
    }
}

extension ServerConfig.Ingest {
    /// The ingest's options from this section (an `unknown_devices` other than `register` rejects).
    public var options: IngestOptions {
        IngestOptions(
            unknownDevices: unknownDevices == "register" ? .register : .reject, defaultProfile: defaultProfile,
            maxPayloadBytes: maxPayloadBytes, maxFutureSkewSeconds: maxFutureSkewSeconds, maxBatch: maxBatch)
    }
}

extension ServerConfig.Ingest {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&unknownDevices, "unknown_devices")
        try c.require(
            unknownDevices == "register" || unknownDevices == "reject", "unknown_devices",
            "must be register or reject, not \(unknownDevices)")
        try c.update(&defaultProfile, "default_profile")
        try c.update(&maxPayloadBytes, "max_payload_bytes")
        try c.update(&maxFutureSkewSeconds, "max_future_skew_seconds")
        try c.update(&maxBatch, "max_batch")
    }
}

extension ServerConfig.Database {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&path, "path")
        try c.update(&durable, "durable")
        try c.update(&url, "url")
        try c.update(&passwordFile, "password_file")
        try c.update(&passwordEnvironment, "password_env")
    }
}

extension ServerConfig.Storage {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        func span(_ key: ConfigKey, in c: ConfigSection, allowOff word: String?) throws -> Int64?? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return .none }
            if let word, text == word { return .some(nil) }
            guard let ms = Self.duration(text) else {
                throw c.invalid(key, "must be a duration like 90d, 6h or 10m\(word.map { " (or \($0))" } ?? ""), not \(text)")
            }
            return .some(ms)
        }
        if let width = try span("bucket_width", in: c, allowOff: nil) { bucketWidth = width! }
        if let grace = try span("compaction_grace", in: c, allowOff: nil) { compactionGrace = grace! }
        if let interval = try span("maintenance_interval", in: c, allowOff: "off") { maintenanceInterval = interval }
        try c.update(&compactionBatchRows, "compaction_batch_rows")
        if c.contains("retention") {
            let r = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: "retention")
            for (key, tier) in [("raw", StorageTier.raw), ("1m", .minute), ("1h", .hour), ("1d", .day)] {
                if let keep = try span(ConfigKey(stringValue: key), in: r, allowOff: "forever") { retention[tier] = keep }
            }
        }
        do {
            try storeOptions.validate()
        } catch let error as StoreError {
            throw c.invalid("bucket_width", error.message)
        }
    }
}

extension ServerConfig.HTTP {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&host, "host")
        try c.update(&port, "port")
        try c.update(&portFile, "port_file")
        if c.contains("rate_limit") {
            let r = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: "rate_limit")
            try r.update(&rateLimit.burst, "burst")
            try r.update(&rateLimit.perMinute, "per_minute")
            try r.require(rateLimit.burst >= 0 && rateLimit.perMinute >= 0, "burst", "must not be negative")
        }
    }
}

extension ServerConfig.Simulator {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try c.update(&enabled, "enabled")
        try c.update(&devices, "devices")
        try c.update(&rate, "rate")
        try c.update(&seed, "seed")
        try c.update(&scenario, "scenario")
        try c.update(&aeratorPonds, "aerator_ponds")
        if let scenario {
            try c.require(
                Scenario(rawValue: scenario) != nil, "scenario",
                "must be one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")), not \(scenario)")
        }
    }
}
