import ShennongCore

/// Something that happens to a command.
public enum CommandEvent: Sendable, Hashable {
    /// The sender may publish it now (the device is not known to be offline).
    case dispatch
    /// The broker acknowledged the publish (PUBACK).
    case published
    /// The device replied.
    case reply(CommandReply.Status, detail: String?)
    /// The device reported `value` of the command's state metric at `at` (reading time, ms).
    case stateReport(value: Double, at: Int64)
    /// A person cancels it.
    case cancel(note: String?)
    /// The server started and found it being sent by a process that no longer runs.
    case recovered
    /// Time passed: expiry, reply and confirmation deadlines.
    case tick
}

/// What the driver must do after writing a decision.
public enum CommandAction: Sendable, Hashable {
    /// Publish the command (only after ``CommandState/sending`` is committed).
    case publish
    /// The actuator did not respond (failed reply, no reply, state not confirmed): raise the
    /// "设备未响应 actuator did not respond" alert for the device.
    case actuatorUnresponsive(reason: String)
    /// The actuator responded (a confirmed or acknowledged command): the unresponsive alert of
    /// the device, if any, may clear.
    case actuatorResponded
}

/// What the lifecycle decided: the command after the event, the transition to record, and
/// what to do once both are written.
public struct CommandDecision: Sendable, Hashable {
    public var command: CommandRecord
    public var transition: CommandTransition
    public var actions: [CommandAction]

    public init(command: CommandRecord, transition: CommandTransition, actions: [CommandAction] = []) {
        self.command = command
        self.transition = transition
        self.actions = actions
    }
}

/// What a caller asks for: a command to a device, with arguments, by someone, before an expiry.
public struct CommandRequest: Sendable, Hashable {
    public var device: String
    public var name: String
    /// Raw arguments (text from a form or command line is read as the declared type).
    public var args: [String: CommandValue]
    /// How long (ms) it may wait to be sent; `nil`: ``CommandLifecycle/defaultExpiry``.
    public var expiresIn: Int64?
    public var by: String
    public var origin: CommandOrigin
    /// Not to be sent before this (ms; an interlock's minimum on or off time); the expiry counts from it.
    public var notBefore: Int64?

    public init(
        device: String, name: String, args: [String: CommandValue] = [:], expiresIn: Int64? = nil, by: String,
        origin: CommandOrigin = .person, notBefore: Int64? = nil
    ) {
        self.notBefore = notBefore
        self.device = device
        self.name = name
        self.args = args
        self.expiresIn = expiresIn
        self.by = by
        self.origin = origin
    }
}

/// The life of a command as pure decisions (events in, actions out), apart from storage and
/// MQTT: the store reads the command, asks the lifecycle, and writes what it decided in one
/// transaction; the driver then performs the actions.
///
/// Rules:
/// - ``issue(_:device:spec:id:now:)``: only a known device, a declared command and valid
///   arguments make a command (`queued`); anything else is refused and nothing is recorded.
/// - `dispatch`: a queued command before its expiry becomes `sending` with the action
///   `publish`; at or after its expiry it becomes `expired` instead (never both); before its
///   `notBefore` (an interlock's minimum time) nothing happens.
/// - `published`: `sending` → `sent`.
/// - `reply`: from `sending` or `sent` (a reply may overtake the PUBACK), `ok` → `acknowledged`,
///   `failed` → `failed`; a repeated reply to a command in the same state changes nothing; a reply
///   to a command never sent, or already finished otherwise, is refused (`conflict`).
/// - `stateReport`: the value of the command's state metric equal to its state value (reported
///   at or after sending began) confirms it; on an acknowledged command that finishes it.
/// - `tick`: queued past expiry → `expired`; sending or sent past the reply deadline →
///   `timed_out`; acknowledged and unconfirmed past the confirmation deadline → `failed`.
/// - `cancel`: only a queued command (a sent one cannot be called back): `cancelled`.
/// - `recovered`: a `sending` command after a restart stays `sending` (recorded with a note) and
///   is never published again: its reply or its reply deadline ends it.
public enum CommandLifecycle {
    /// Who automatic transitions are recorded by.
    public static let system = "system"
    /// How long a command may wait to be sent when the caller names no expiry (10 minutes).
    public static let defaultExpiry: Int64 = 600_000
    /// The longest expiry accepted (7 days).
    public static let maximumExpiry: Int64 = 7 * 86_400_000

    /// A new queued command for `request`, or a refusal: `unknown_device` without `device`,
    /// `unknown_command` when the profile does not declare it, `invalid_argument` for bad
    /// arguments or an expiry outside (0, 7 days].
    public static func issue(
        _ request: CommandRequest, device: Device?, spec: CommandSpec?, id: String, now: Int64
    ) throws(CommandRefusal) -> CommandDecision {
        guard let device else {
            throw CommandRefusal(.unknownDevice, "设备不存在 unknown device \(request.device)")
        }
        guard let spec else {
            throw CommandRefusal(
                .unknownCommand,
                "设备 \(device.id)（\(device.profile)）未声明命令 \(request.name) the profile \(device.profile) declares no command \(request.name)")
        }
        let expiresIn = request.expiresIn ?? defaultExpiry
        guard expiresIn > 0, expiresIn <= maximumExpiry else {
            throw CommandRefusal(.invalidArgument, "有效期须在 0 到 7 天之间 expiry must be more than 0 and at most 7 days")
        }
        let args: [String: CommandValue]
        do {
            args = try spec.validate(request.args)
        } catch {
            throw CommandRefusal(.invalidArgument, error.message)
        }
        let notBefore = request.notBefore.flatMap { $0 > now ? $0 : nil }
        let command = CommandRecord(
            id: id, device: device.id, name: spec.name, args: args, state: .queued, issuedBy: request.by,
            origin: request.origin, issuedAt: now, expiresAt: (notBefore ?? now) + expiresIn, notBefore: notBefore,
            replyWithin: Int64(spec.replyWithin) * 1000,
            confirm: spec.state, confirmWithin: Int64(spec.confirmWithin) * 1000, updatedAt: now)
        return CommandDecision(
            command: command,
            transition: CommandTransition(commandID: id, from: nil, to: .queued, at: now, by: request.by, note: nil))
    }

    /// What `event` does to `command` at `now`, by `by`; `nil` when it changes nothing (a
    /// repeated reply, a tick before any deadline, a dispatch of a command already sent).
    public static func apply(
        _ event: CommandEvent, to command: CommandRecord, by: String = system, now: Int64
    ) throws(CommandRefusal) -> CommandDecision? {
        var c = command
        func decide(_ to: CommandState, note: String?, _ actions: [CommandAction] = []) -> CommandDecision {
            let from = c.state
            c.state = to
            c.updatedAt = now
            if to.isTerminal && c.finishedAt == nil { c.finishedAt = now }
            return CommandDecision(
                command: c, transition: CommandTransition(commandID: c.id, from: from, to: to, at: now, by: by, note: note),
                actions: actions)
        }
        switch event {
        case .dispatch:
            guard c.state == .queued else { return nil }
            if let notBefore = c.notBefore, now < notBefore, now < c.expiresAt { return nil }
            if now >= c.expiresAt {
                c.detail = "未在有效期内发送 not sent before it expired"
                return decide(.expired, note: c.detail)
            }
            c.sendingAt = now
            return decide(.sending, note: nil, [.publish])

        case .published:
            guard c.state == .sending else { return nil }
            c.sentAt = now
            return decide(.sent, note: nil)

        case .reply(let status, let detail):
            let to: CommandState = status == .ok ? .acknowledged : .failed
            switch c.state {
            case .sending, .sent:
                c.repliedAt = now
                c.detail = detail
                if c.state == .sending { c.sentAt = c.sentAt ?? now }
                if status == .failed {
                    return decide(.failed, note: detail, [.actuatorUnresponsive(reason: "设备回复失败 device replied failed" + (detail.map { ": \($0)" } ?? ""))])
                }
                let finished = c.confirm == nil || c.confirmedAt != nil
                return decide(to, note: detail, finished ? [.actuatorResponded] : [])
            case to where c.repliedAt != nil:
                return nil  // the same reply again (MQTT redelivery)
            case .queued, .expired, .cancelled:
                throw CommandRefusal(.conflict, "命令 \(c.id) 未发送，不应有回复 command \(c.id) was never sent (\(c.state.rawValue)); reply ignored")
            default:
                throw CommandRefusal(.conflict, "命令 \(c.id) 已是 \(c.state.rawValue)，迟到的回复 \(status.rawValue) 不再改变它 late reply ignored")
            }

        case .stateReport(let value, let at):
            guard let confirm = c.confirm, c.confirmedAt == nil, let sendingAt = c.sendingAt, at >= sendingAt,
                value == confirm.value, [.sending, .sent, .acknowledged].contains(c.state)
            else { return nil }
            c.confirmedAt = now
            let note = "\(confirm.metric)=\(JSONValue.format(value)) 状态已确认 state confirmed"
            return decide(c.state, note: note, c.state == .acknowledged ? [.actuatorResponded] : [])

        case .cancel(let note):
            guard c.state == .queued else {
                throw CommandRefusal(
                    .conflict,
                    "命令 \(c.id) 已是 \(c.state.chineseName)（\(c.state.rawValue)），只能取消排队中的命令 only a queued command can be cancelled")
            }
            c.detail = note
            return decide(.cancelled, note: note)

        case .recovered:
            guard c.state == .sending else { return nil }
            return decide(.sending, note: "重启时发送状态未知，不再重发 restart while sending: not known to have reached the broker; never sent again")

        case .tick:
            switch c.state {
            case .queued where now >= c.expiresAt:
                c.detail = "设备离线，未在有效期内发送 not sent before it expired (device offline)"
                return decide(.expired, note: c.detail)
            case .sending, .sent:
                if let deadline = c.replyDeadline, now >= deadline {
                    c.detail = "设备未在 \(c.replyWithin / 1000) 秒内回复 no reply within \(c.replyWithin / 1000) s"
                    return decide(.timedOut, note: c.detail, [.actuatorUnresponsive(reason: c.detail!)])
                }
                return nil
            case .acknowledged:
                guard let deadline = c.confirmDeadline, c.confirmedAt == nil, now >= deadline, let confirm = c.confirm else {
                    return nil
                }
                c.detail = "\(confirm.metric) 未在 \(c.confirmWithin / 1000) 秒内变为 \(JSONValue.format(confirm.value)) state not confirmed in time"
                return decide(.failed, note: c.detail, [.actuatorUnresponsive(reason: c.detail!)])
            default:
                return nil
            }
        }
    }
}
