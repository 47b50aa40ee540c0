import ShennongAlerts
import ShennongCore

extension API {
    /// An alert: the API's answer, and the body published on `agri/alerts/{domain}/{device}`
    /// and POSTed to webhooks.
    ///
    /// Times are RFC 3339 local time with a numeric offset (`raised_ts` is epoch ms). In a
    /// notifier's message and in the answer to ack / resolve / close, `event`, `previousLevel`,
    /// `at`, `by` and `note` say what just happened.
    public struct Alert: APIObject, Hashable {
        public var id: Int64
        public var rule: String
        public var ruleName: String?
        public var device: String
        public var domain: String
        public var metric: String?
        /// blue, yellow, orange, red.
        public var level: String
        /// 蓝色, 黄色, 橙色, 红色.
        public var levelZh: String
        /// IV, III, II, I.
        public var grade: String
        public var peakLevel: String
        /// open, acknowledged, resolved, closed.
        public var status: String
        public var value: Double?
        public var threshold: Double?
        public var raisedAt: String
        public var raisedTs: Int64
        public var updatedAt: String
        /// Raised from readings older than `rules.late_after` (recorded, not pushed).
        public var late: Bool
        public var title: String
        public var message: String
        public var instruction: String?
        public var acknowledgedBy: String?
        public var acknowledgedAt: String?
        public var resolvedBy: String?
        public var resolvedAt: String?
        public var closedBy: String?
        public var closedAt: String?
        public var contactTier: Int
        /// What just happened: a transition kind (`raised`, `acknowledged`, …).
        public var event: String?
        /// The level before (`none` for a new alert).
        public var previousLevel: String?
        public var at: String?
        public var by: String?
        public var note: String?
        /// A notifier's message only: `{alert}-{transition}`, the same on every redelivery
        /// (delivery is at least once), for receivers to drop duplicates.
        public var delivery: String?

        enum CodingKeys: String, CodingKey {
            case id, rule, device, domain, metric, level, grade, status, value, threshold, late, title, message, instruction
            case event, at, by, note, delivery
            case ruleName = "rule_name"
            case levelZh = "level_zh"
            case peakLevel = "peak_level"
            case raisedAt = "raised_at"
            case raisedTs = "raised_ts"
            case updatedAt = "updated_at"
            case acknowledgedBy = "acknowledged_by"
            case acknowledgedAt = "acknowledged_at"
            case resolvedBy = "resolved_by"
            case resolvedAt = "resolved_at"
            case closedBy = "closed_by"
            case closedAt = "closed_at"
            case contactTier = "contact_tier"
            case previousLevel = "previous_level"
        }
    }

    /// `GET /api/v1/alerts`, newest first.
    public struct AlertList: APIObject, Hashable {
        public var alerts: [Alert]
        public init(alerts: [Alert]) { self.alerts = alerts }
    }

    /// One step of an alert's life: who did what, when, with which note.
    public struct Transition: APIObject, Hashable {
        public var id: Int64
        /// raised, escalated, stepped_down, acknowledged, resolved, closed, contacts_escalated.
        public var kind: String
        public var fromLevel: String?
        public var toLevel: String?
        /// The alert's status after it.
        public var status: String
        public var value: Double?
        public var at: String
        public var recordedAt: String
        public var by: String
        public var note: String?
        public var late: Bool

        enum CodingKeys: String, CodingKey {
            case id, kind, status, value, at, by, note, late
            case fromLevel = "from_level"
            case toLevel = "to_level"
            case recordedAt = "recorded_at"
        }
    }

    /// `GET /api/v1/alerts/{id}`: the alert's fields and, beside them, its transitions
    /// (oldest first).
    public struct AlertDetail: APIObject, Hashable {
        public var alert: Alert
        public var transitions: [Transition]

        public init(alert: Alert, transitions: [Transition]) {
            self.alert = alert
            self.transitions = transitions
        }

        enum CodingKeys: String, CodingKey { case transitions }

        public func encode(to encoder: any Encoder) throws {
            try alert.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(transitions, forKey: .transitions)
        }

        public init(from decoder: any Decoder) throws {
            alert = try Alert(from: decoder)
            transitions = try decoder.container(keyedBy: CodingKeys.self).decode([Transition].self, forKey: .transitions)
        }
    }

    /// The optional body of `POST /api/v1/alerts/{id}/ack|resolve|close`.
    public struct AlertAction: APIObject, Hashable {
        /// What is being (or was) done; required to close.
        public var note: String?
        /// Who; the token's name when absent.
        public var by: String?

        public init(note: String? = nil, by: String? = nil) {
            self.note = note
            self.by = by
        }
    }
}

extension API.Alert {
    /// The alert as the API answers it and notifiers send it, times in local time at
    /// `offsetMinutes`; `ruleName` and `instruction` are its rule's.
    ///
    /// With a transition (a notifier's message, the answer to a person's action) it also says
    /// what just happened (`event`), the level before, who and when.
    public init(
        _ a: AlertRecord, ruleName: String?, instruction: String?, transition: AlertTransition? = nil,
        offsetMinutes: Int = 480
    ) {
        func time(_ ms: Int64?) -> String? { ms.map { LocalTime.format($0, offsetMinutes: offsetMinutes) } }
        let level = a.level
        self.init(
            id: a.id, rule: a.rule, ruleName: ruleName, device: a.device, domain: a.domain, metric: a.metric,
            level: level.name, levelZh: level.chineseName, grade: level.roman,
            peakLevel: a.peakLevel.name, status: a.status.rawValue, value: a.value,
            threshold: a.threshold, raisedAt: LocalTime.format(a.raisedAt, offsetMinutes: offsetMinutes),
            raisedTs: a.raisedAt, updatedAt: LocalTime.format(a.updatedAt, offsetMinutes: offsetMinutes), late: a.late,
            title: a.title, message: a.message, instruction: instruction, acknowledgedBy: a.acknowledgedBy,
            acknowledgedAt: time(a.acknowledgedAt), resolvedBy: a.resolvedBy, resolvedAt: time(a.resolvedAt),
            closedBy: a.closedBy, closedAt: time(a.closedAt), contactTier: a.contactTier)
        if let t = transition {
            event = t.kind.rawValue
            previousLevel = t.fromLevel?.alertLevel?.name ?? "none"
            at = time(t.at)
            by = t.by
            note = t.note
        }
    }
}

extension API.Transition {
    /// One transition of an alert, times in local time at `offsetMinutes`.
    public init(_ t: AlertTransition, offsetMinutes: Int = 480) {
        self.init(
            id: t.id, kind: t.kind.rawValue, fromLevel: t.fromLevel.map { $0.alertLevel?.name ?? "none" },
            toLevel: t.toLevel.map { $0.alertLevel?.name ?? "none" }, status: t.status.rawValue, value: t.value,
            at: LocalTime.format(t.at, offsetMinutes: offsetMinutes),
            recordedAt: LocalTime.format(t.recordedAt, offsetMinutes: offsetMinutes), by: t.by, note: t.note, late: t.late)
    }
}
