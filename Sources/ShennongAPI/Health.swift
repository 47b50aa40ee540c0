extension API {
    /// `GET /healthz`: the four checks, and details of the deployment (`broker`) beside them.
    public struct Health: APIObject, Hashable {
        /// `ok`, `degraded` (MQTT disconnected or commits failing) or `unavailable` (503).
        public var status: String
        /// `ok` or `error: …`.
        public var database: String
        /// `connected` or `disconnected`.
        public var mqtt: String
        /// `ok` or `degraded: why commits fail`.
        public var storage: String
        /// More string fields at the top level (a detail never replaces one of the four).
        public var details: [String: String]

        public init(status: String, database: String, mqtt: String, storage: String, details: [String: String] = [:]) {
            self.status = status
            self.database = database
            self.mqtt = mqtt
            self.storage = storage
            self.details = details
        }

        static let fixed: Set<String> = ["status", "database", "mqtt", "storage"]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in details where !Self.fixed.contains(key) {
                try c.encode(value, forKey: AnyKey(key))
            }
            try c.encode(status, forKey: AnyKey("status"))
            try c.encode(database, forKey: AnyKey("database"))
            try c.encode(mqtt, forKey: AnyKey("mqtt"))
            try c.encode(storage, forKey: AnyKey("storage"))
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            status = try c.decode(String.self, forKey: AnyKey("status"))
            database = try c.decode(String.self, forKey: AnyKey("database"))
            mqtt = try c.decode(String.self, forKey: AnyKey("mqtt"))
            storage = try c.decode(String.self, forKey: AnyKey("storage"))
            details = [:]
            for key in c.allKeys where !Self.fixed.contains(key.stringValue) {
                details[key.stringValue] = try c.decode(String.self, forKey: key)
            }
        }
    }
}

/// A coding key of any name (objects whose keys are data).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
