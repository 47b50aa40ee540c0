import Foundation
import ShennongAlerts
import ShennongCore

extension API {
    /// A warning rule in force.
    public struct Rule: APIObject, Hashable {
        public var id: String
        public var name: String
        /// threshold, window, rate, silence, stuck, …
        public var kind: String
        public var metric: String?
        public var category: String
        /// The standard the thresholds come from.
        public var source: String?
        public var enabled: Bool
        /// Level name → its condition, e.g. `red: < 2.0 over 10m`.
        public var levels: [String: String]
        /// Devices with overrides.
        public var devices: [String]
        /// The rule file's name and the rule's line in it.
        public var file: String
        public var line: Int
        /// Late readings the rule skipped since the server started (older than its watermark on
        /// their series: stored, never evaluated by it); `nil` where the rules do not run.
        public var lateSkipped: Int?

        public init(
            id: String, name: String, kind: String, metric: String? = nil, category: String, source: String? = nil,
            enabled: Bool, levels: [String: String], devices: [String], file: String, line: Int, lateSkipped: Int? = nil
        ) {
            self.lateSkipped = lateSkipped
            self.id = id
            self.name = name
            self.kind = kind
            self.metric = metric
            self.category = category
            self.source = source
            self.enabled = enabled
            self.levels = levels
            self.devices = devices
            self.file = file
            self.line = line
        }

        enum CodingKeys: String, CodingKey {
            case id, name, kind, metric, category, source, enabled, levels, devices, file, line
            case lateSkipped = "late_skipped"
        }
    }

    /// `GET /api/v1/rules`.
    public struct RuleList: APIObject, Hashable {
        public var rules: [Rule]
        public init(rules: [Rule]) { self.rules = rules }
    }

    /// A rule's state for one device.
    public struct RuleState: APIObject, Hashable {
        public var device: String
        /// none, blue, yellow, orange, red.
        public var level: String
        /// Newest reading time evaluated (ms).
        public var watermark: Int64
        /// Levels counting towards their duration, and since when (ms).
        public var pending: [String: Int64]
        public var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case device, level, watermark, pending
            case updatedAt = "updated_at"
        }
    }

    /// `GET /api/v1/rules/{id}`.
    public struct RuleDetail: APIObject, Hashable {
        public var rule: Rule
        public var states: [RuleState]

        public init(rule: Rule, states: [RuleState]) {
            self.rule = rule
            self.states = states
        }
    }

    /// A level change the rules made (or, replayed, would have made).
    public struct LevelChange: APIObject, Hashable {
        public var rule: String
        public var device: String
        /// The level before: none, blue, yellow, orange, red.
        public var from: String
        /// The level after.
        public var to: String
        /// RFC 3339 local time; `ts` the same in epoch ms.
        public var at: String
        public var ts: Int64
        public var value: Double?
        public var threshold: Double?
        public var title: String
        public var message: String
    }

    /// `GET /api/v1/rules/replay`, oldest first.
    public struct LevelChangeList: APIObject, Hashable {
        public var changes: [LevelChange]
        public init(changes: [LevelChange]) { self.changes = changes }
    }

    /// `POST /api/v1/dashboard/login-code`: a single-use code and the path that redeems it.
    public struct LoginCode: APIObject, Hashable {
        public var code: String
        /// `/dashboard/login?code=…`
        public var path: String
        /// Seconds.
        public var expiresIn: Int

        public init(code: String, path: String, expiresIn: Int) {
            self.code = code
            self.path = path
            self.expiresIn = expiresIn
        }

        enum CodingKeys: String, CodingKey {
            case code, path
            case expiresIn = "expires_in"
        }
    }
}

extension API.RuleState {
    /// The level timers as the rules persist them: per level, since when (`p`, ms) the value
    /// has been on the warning side.
    private struct StoredTimers: Decodable {
        struct Timer: Decodable { var p: Int64? }
        var levels: [Timer]?
    }

    /// A rule's stored state for one device, its time in local time at `offsetMinutes`.
    public init(_ s: RuleStateRecord, offsetMinutes: Int) {
        var pending: [String: Int64] = [:]
        // The level timers: which levels are counting towards their duration, since when.
        let timers = (try? JSONDecoder().decode(StoredTimers.self, from: Data(s.state.utf8)))?.levels ?? []
        for (i, timer) in timers.enumerated() {
            if let since = timer.p, let level = AlertLevel(stored: i + 1) { pending[level.name] = since }
        }
        self.init(
            device: s.device, level: s.level?.name ?? "none", watermark: s.watermark, pending: pending,
            updatedAt: LocalTime.format(s.updatedAt, offsetMinutes: offsetMinutes))
    }
}

extension API.LevelChange {
    /// A level change of the rules, its time in local time at `offsetMinutes`.
    public init(_ c: AlertLevelChange, offsetMinutes: Int) {
        self.init(
            rule: c.rule, device: c.device, from: c.from?.name ?? "none", to: c.to?.name ?? "none",
            at: LocalTime.format(c.at, offsetMinutes: offsetMinutes), ts: c.at, value: c.value, threshold: c.threshold,
            title: c.title, message: c.message)
    }
}
