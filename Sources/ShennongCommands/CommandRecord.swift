import ShennongCore

/// What caused a command: a person, or a rule acting on one of its alerts.
public struct CommandOrigin: Sendable, Hashable, Codable {
    /// The rule whose action it is; `nil` for a person's command.
    public var rule: String?
    /// The alert the rule acted on, if it had one.
    public var alert: Int64?
    /// What in the rule fired: a level (`orange`) or `clear`.
    public var trigger: String?

    public init(rule: String? = nil, alert: Int64? = nil, trigger: String? = nil) {
        self.rule = rule
        self.alert = alert
        self.trigger = trigger
    }

    /// A person's command.
    public static let person = CommandOrigin()

    /// Whether a rule issued it (automation), not a person.
    public var isAutomatic: Bool { rule != nil }
}

/// One command as stored: what was asked of which device, by whom, and where it is now.
public struct CommandRecord: Sendable, Hashable, Codable {
    /// Unique, sent to the device as `id` (see ``CommandID``).
    public var id: String
    public var device: String
    public var name: String
    /// The arguments as validated against the profile.
    public var args: [String: CommandValue]
    public var state: CommandState
    /// Who issued it: a person's token name, or `rule:{id}` for automation.
    public var issuedBy: String
    public var origin: CommandOrigin
    /// When it was issued (wall clock, ms).
    public var issuedAt: Int64
    /// It must be sent before this (ms); after it, a queued command expires.
    public var expiresAt: Int64
    /// It may not be sent before this (ms): an interlock's minimum on or off time; `nil`: at once.
    public var notBefore: Int64?
    /// How long (ms) the device has to reply once the command is being sent.
    public var replyWithin: Int64
    /// The state metric and value that confirm the command, if its profile names one.
    public var confirm: CommandStateSpec?
    /// How long (ms) from sending the state metric has to confirm.
    public var confirmWithin: Int64
    /// When it was recorded as being sent (the moment before the publish).
    public var sendingAt: Int64?
    /// When the broker acknowledged the publish.
    public var sentAt: Int64?
    /// When the device's reply arrived.
    public var repliedAt: Int64?
    /// When the state metric confirmed it.
    public var confirmedAt: Int64?
    /// When it reached its final state.
    public var finishedAt: Int64?
    /// The device's reply detail, or why it failed, timed out or expired.
    public var detail: String?
    /// When it last changed.
    public var updatedAt: Int64

    public init(
        id: String, device: String, name: String, args: [String: CommandValue] = [:], state: CommandState = .queued,
        issuedBy: String, origin: CommandOrigin = .person, issuedAt: Int64, expiresAt: Int64, notBefore: Int64? = nil,
        replyWithin: Int64, confirm: CommandStateSpec? = nil, confirmWithin: Int64 = 0, sendingAt: Int64? = nil, sentAt: Int64? = nil,
        repliedAt: Int64? = nil, confirmedAt: Int64? = nil, finishedAt: Int64? = nil, detail: String? = nil,
        updatedAt: Int64? = nil
    ) {
        self.id = id
        self.device = device
        self.name = name
        self.args = args
        self.state = state
        self.issuedBy = issuedBy
        self.origin = origin
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.replyWithin = replyWithin
        self.confirm = confirm
        self.confirmWithin = confirmWithin
        self.sendingAt = sendingAt
        self.sentAt = sentAt
        self.repliedAt = repliedAt
        self.confirmedAt = confirmedAt
        self.finishedAt = finishedAt
        self.detail = detail
        self.updatedAt = updatedAt ?? issuedAt
    }

    /// The reply is due by this (ms), once sending began.
    public var replyDeadline: Int64? { sendingAt.map { $0 + replyWithin } }

    /// The state metric must confirm by this (ms), once sending began; `nil` without a state metric.
    public var confirmDeadline: Int64? {
        guard confirm != nil, let sendingAt else { return nil }
        return sendingAt + confirmWithin
    }

    /// Whether nothing more will happen to it: a terminal state, or acknowledged and confirmed
    /// (or acknowledged with nothing to confirm).
    public var isFinished: Bool {
        state.isTerminal || (state == .acknowledged && (confirm == nil || confirmedAt != nil))
    }

    /// The next time (ms) a timer may change it: expiry while queued, the reply deadline while
    /// sending or sent, the confirmation deadline while acknowledged and unconfirmed.
    public var nextDeadline: Int64? {
        switch state {
        case .queued: expiresAt
        case .sending, .sent: replyDeadline
        case .acknowledged: confirmedAt == nil ? confirmDeadline : nil
        default: nil
        }
    }

    /// The payload published on `{prefix}/{device}/command`: `{"id","name","args","issued","expires"}`
    /// (times RFC 3339 UTC with milliseconds, keys in that order, args sorted).
    public var payload: [UInt8] {
        let args = self.args.keys.sorted().map { "\(JSONValue.string($0).description):\(self.args[$0]!.jsonText)" }
        let text = "{\"id\":\(JSONValue.string(id).description),\"name\":\(JSONValue.string(name).description),"
            + "\"args\":{\(args.joined(separator: ","))},\"issued\":\"\(Timestamp.format(issuedAt))\","
            + "\"expires\":\"\(Timestamp.format(expiresAt))\"}"
        return Array(text.utf8)
    }
}

/// Command ids: `c` and 16 lower-case hex digits from the system's random source, unique
/// without coordination (a device may use them to drop a duplicate delivery).
public enum CommandID {
    public static func make() -> String {
        var g = SystemRandomNumberGenerator()
        let n = g.next() as UInt64
        let hex = String(n, radix: 16)
        return "c" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Whether `s` could be a command id (what the routes accept before looking it up).
    public static func isValid(_ s: String) -> Bool {
        s.utf8.count >= 2 && s.utf8.count <= 64
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }
}
