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

        public init(
            id: Int64, rule: String, ruleName: String? = nil, device: String, domain: String, metric: String? = nil,
            level: String, levelZh: String, grade: String, peakLevel: String, status: String, value: Double? = nil,
            threshold: Double? = nil, raisedAt: String, raisedTs: Int64, updatedAt: String, late: Bool, title: String,
            message: String, instruction: String? = nil, acknowledgedBy: String? = nil, acknowledgedAt: String? = nil,
            resolvedBy: String? = nil, resolvedAt: String? = nil, closedBy: String? = nil, closedAt: String? = nil,
            contactTier: Int, event: String? = nil, previousLevel: String? = nil, at: String? = nil, by: String? = nil,
            note: String? = nil
        ) {
            self.id = id
            self.rule = rule
            self.ruleName = ruleName
            self.device = device
            self.domain = domain
            self.metric = metric
            self.level = level
            self.levelZh = levelZh
            self.grade = grade
            self.peakLevel = peakLevel
            self.status = status
            self.value = value
            self.threshold = threshold
            self.raisedAt = raisedAt
            self.raisedTs = raisedTs
            self.updatedAt = updatedAt
            self.late = late
            self.title = title
            self.message = message
            self.instruction = instruction
            self.acknowledgedBy = acknowledgedBy
            self.acknowledgedAt = acknowledgedAt
            self.resolvedBy = resolvedBy
            self.resolvedAt = resolvedAt
            self.closedBy = closedBy
            self.closedAt = closedAt
            self.contactTier = contactTier
            self.event = event
            self.previousLevel = previousLevel
            self.at = at
            self.by = by
            self.note = note
        }

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

        public init(
            id: Int64, kind: String, fromLevel: String? = nil, toLevel: String? = nil, status: String, value: Double? = nil,
            at: String, recordedAt: String, by: String, note: String? = nil, late: Bool
        ) {
            self.id = id
            self.kind = kind
            self.fromLevel = fromLevel
            self.toLevel = toLevel
            self.status = status
            self.value = value
            self.at = at
            self.recordedAt = recordedAt
            self.by = by
            self.note = note
            self.late = late
        }

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
