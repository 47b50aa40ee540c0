import ShennongCommands
import ShennongCore

extension API {
    /// A device command and where it is in its life (`openapi.yaml` `Command`). Times are RFC 3339 UTC.
    public struct Command: APIObject, Hashable {
        public var id: String
        public var device: String
        public var name: String
        public var args: [String: CommandValue]
        /// queued, sending, sent, acknowledged, failed, timed_out, expired, cancelled.
        public var state: String
        /// 排队中, 发送中, 已发送, 已确认, 失败, 超时, 已过期, 已取消.
        public var stateZh: String
        public var issuedBy: String
        public var automatic: Bool
        public var rule: String?
        public var alert: Int64?
        public var trigger: String?
        public var issuedAt: String
        public var expiresAt: String
        /// Not sent before this (an interlock's minimum on or off time).
        public var notBefore: String?
        public var sendingAt: String?
        public var sentAt: String?
        public var repliedAt: String?
        public var confirmedAt: String?
        public var finishedAt: String?
        public var confirmMetric: String?
        public var confirmValue: Double?
        public var detail: String?

        enum CodingKeys: String, CodingKey {
            case id, device, name, args, state, automatic, rule, alert, trigger, detail
            case stateZh = "state_zh"
            case issuedBy = "issued_by"
            case issuedAt = "issued_at"
            case expiresAt = "expires_at"
            case notBefore = "not_before"
            case sendingAt = "sending_at"
            case sentAt = "sent_at"
            case repliedAt = "replied_at"
            case confirmedAt = "confirmed_at"
            case finishedAt = "finished_at"
            case confirmMetric = "confirm_metric"
            case confirmValue = "confirm_value"
        }
    }

    public struct CommandList: APIObject, Hashable {
        public var commands: [Command]
        public init(commands: [Command]) { self.commands = commands }
    }

    /// One change of a command.
    public struct CommandTransition: APIObject, Hashable {
        public var id: Int64
        public var from: String?
        public var to: String
        public var at: String
        public var by: String
        public var note: String?
    }

    public struct CommandDetail: APIObject, Hashable {
        public var command: Command
        public var transitions: [CommandTransition]
        public init(command: Command, transitions: [CommandTransition]) {
            self.command = command
            self.transitions = transitions
        }
    }

    /// `POST /api/v1/devices/{id}/commands`.
    public struct NewCommand: APIObject, Hashable {
        public var name: String
        public var args: [String: CommandValue]?
        /// Seconds it may wait to be sent (default 600).
        public var expiresIn: Int64?
        public var by: String?

        public init(name: String, args: [String: CommandValue]? = nil, expiresIn: Int64? = nil, by: String? = nil) {
            self.name = name
            self.args = args
            self.expiresIn = expiresIn
            self.by = by
        }

        enum CodingKeys: String, CodingKey {
            case name, args, by
            case expiresIn = "expires_in"
        }
    }

    /// `POST /api/v1/commands/{id}/cancel`.
    public struct CommandCancel: APIObject, Hashable {
        public var note: String?
        public var by: String?
        public init(note: String? = nil, by: String? = nil) {
            self.note = note
            self.by = by
        }
    }
}

extension API.Command {
    /// The API's view of a stored command.
    public init(_ c: CommandRecord) {
        self.init(
            id: c.id, device: c.device, name: c.name, args: c.args, state: c.state.rawValue, stateZh: c.state.chineseName,
            issuedBy: c.issuedBy, automatic: c.origin.isAutomatic, rule: c.origin.rule, alert: c.origin.alert,
            trigger: c.origin.trigger, issuedAt: Timestamp.format(c.issuedAt), expiresAt: Timestamp.format(c.expiresAt),
            notBefore: c.notBefore.map(Timestamp.format),
            sendingAt: c.sendingAt.map(Timestamp.format), sentAt: c.sentAt.map(Timestamp.format),
            repliedAt: c.repliedAt.map(Timestamp.format), confirmedAt: c.confirmedAt.map(Timestamp.format),
            finishedAt: c.finishedAt.map(Timestamp.format), confirmMetric: c.confirm?.metric, confirmValue: c.confirm?.value,
            detail: c.detail)
    }
}

extension API.CommandTransition {
    /// One change of a stored command.
    public init(_ t: ShennongCommands.CommandTransition) {
        self.init(id: t.id, from: t.from?.rawValue, to: t.to.rawValue, at: Timestamp.format(t.at), by: t.by, note: t.note)
    }
}
