import Foundation
import Logging
import Metrics
import ShennongAlerts
import ShennongCommands
import ShennongCore
import Synchronization

/// What the command center reads and writes: commands, devices (and their presence), readings
/// (the state metrics that confirm commands) and alerts (an actuator that did not respond).
public typealias ControlStore = CommandStore & DeviceRegistry & ReadingQueries & AlertStore

/// Settings of device commands (the server's `commands:` section).
public struct ControlOptions: Sendable {
    /// A pass over unfinished commands (send, confirm, time out, expire) every this many ms.
    public var interval: Int64 = 1000
    /// The level of the "设备未响应 actuator did not respond" alert.
    public var unresponsiveLevel: AlertLevel = .red

    public init(interval: Int64 = 1000, unresponsiveLevel: AlertLevel = .red) {
        self.interval = interval
        self.unresponsiveLevel = unresponsiveLevel
    }
}

/// The driver of ``CommandLifecycle``: issues and cancels commands (staff, automation), and in
/// each ``pass(sender:)`` sends what may be sent, records the broker's acknowledgements, reads the
/// state metrics that confirm commands, and lets expiries and deadlines pass. Every change goes
/// through ``CommandStore/applyCommandEvent(id:event:by:now:)`` (one transaction each); the
/// actions it returns are performed only after the write:
/// - `publish`: handed to the ``CommandSender`` after `sending` is committed (never before), so a
///   crash can leave a command `sending` but never sent without a record. At start
///   (``recover()``) every `sending` command is marked recovered and never published again.
/// - `actuatorUnresponsive` / `actuatorResponded`: raise or clear the device's
///   ``unresponsiveRule`` alert through the ``AlertStore`` (notified like any other, escalated to
///   contacts like any other).
///
/// A queued command is sent only while its device is not known to be offline (presence on
/// `{prefix}/{device}/status`; a device that never reported presence counts as reachable) and
/// the sender is connected; otherwise it waits until its expiry.
public final class CommandCenter: Sendable {
    /// The rule id of the alert raised when an actuator does not respond.
    public static let unresponsiveRule = "actuator-unresponsive"
    public static let unresponsiveTitle = "设备未响应 actuator did not respond"

    public let store: any ControlStore
    public let clock: WallClock
    public let options: ControlOptions
    private let profiles: [String: DeviceProfile]
    let logger: Logger
    /// Where alert transitions go after they are written (the rules' notifier).
    private let notify: Mutex<(@Sendable ([AlertNotice]) -> Void)?>
    /// Commands published by this process and the publisher's count when each was handed over.
    private let inFlight = Mutex<[(id: String, ticket: Int)]>([])
    /// Set when a command is issued: the service runs a pass at once instead of at the next interval.
    private let woken = Mutex(false)
    /// Confirmed commands whose effect was judged (CommandCenter+Effect.swift), and when the last scan ran.
    let effects = Mutex<(judged: Set<String>, scannedAt: Int64)>(([], 0))
    private let issued = Counter(label: "shennong_commands_issued_total")
    private let refused = Counter(label: "shennong_commands_refused_total")
    private let repliesIgnored = Counter(label: "shennong_command_replies_ignored_total")

    public init(
        store: any ControlStore, profiles: [String: DeviceProfile], options: ControlOptions = ControlOptions(),
        clock: WallClock = .system, notify: (@Sendable ([AlertNotice]) -> Void)? = nil, logger: Logger
    ) {
        self.store = store
        self.profiles = profiles
        self.options = options
        self.clock = clock
        self.logger = logger
        self.notify = Mutex(notify)
    }

    /// Sets where alert transitions go (the rules module, built after the center).
    public func setNotify(_ notify: @escaping @Sendable ([AlertNotice]) -> Void) {
        self.notify.withLock { $0 = notify }
    }

    /// The command `name` of `device`'s profile, or `nil`.
    public func spec(device: Device, name: String) -> CommandSpec? {
        profiles[device.profile]?.commands[name]
    }

    /// The commands `device`'s profile declares, by name.
    public func specs(device: Device) -> [CommandSpec] {
        profiles[device.profile]?.commandList ?? []
    }

    // MARK: Staff and automation

    /// Records a new command (queued) and wakes the sender. Throws ``CommandRefusal``
    /// (`unknown_device`, `unknown_command`, `invalid_argument`: nothing recorded, nothing sent)
    /// or ``StoreError``.
    @discardableResult
    public func issue(_ request: CommandRequest) throws -> CommandRecord {
        let now = clock.now()
        let device = try Device.isValidID(request.device) ? store.device(id: request.device) : nil
        let decision: CommandDecision
        do {
            decision = try CommandLifecycle.issue(
                request, device: device, spec: device.flatMap { spec(device: $0, name: request.name) }, id: CommandID.make(),
                now: now)
        } catch {
            refused.increment()
            throw error
        }
        let written = try store.insertCommand(decision)
        issued.increment()
        logger.info(
            "command issued",
            metadata: [
                "command": "\(written.command.id)", "device": "\(request.device)", "name": "\(request.name)",
                "by": "\(request.by)",
            ])
        woken.withLock { $0 = true }
        return written.command
    }

    /// Cancels a queued command. Throws ``StoreError`` `not_found`, or `conflict` once it is
    /// being sent or finished.
    @discardableResult
    public func cancel(id: String, by: String, note: String?) throws -> CommandRecord {
        guard let decision = try store.applyCommandEvent(id: id, event: .cancel(note: note), by: by, now: clock.now()) else {
            throw StoreError(.conflict, "命令 \(id) 无法取消 cannot be cancelled")
        }
        return decision.command
    }

    /// Whether a command was issued since the last call (and clears it).
    public func takeWakeup() -> Bool {
        woken.withLock { w in
            defer { w = false }
            return w
        }
    }

    // MARK: Replies

    /// A device's reply on `{prefix}/{device}/command/reply`. A reply naming a command of
    /// another device, an unknown command or one that cannot take it is logged, counted and
    /// dropped; a storage failure throws (the reply is then redelivered).
    public func handleReply(device: String, payload: [UInt8]) throws {
        let reply: CommandReply
        do {
            reply = try JSONDecoder().decode(CommandReply.self, from: Data(payload))
        } catch {
            ignore("command reply is not {id, status: ok|failed, detail}", device: device, id: nil)
            return
        }
        guard let command = try store.command(id: reply.id) else {
            ignore("reply to an unknown command", device: device, id: reply.id)
            return
        }
        guard command.device == device else {
            ignore("reply from a device the command was not sent to", device: device, id: reply.id)
            return
        }
        do {
            if let decision = try store.applyCommandEvent(
                id: reply.id, event: .reply(reply.status, detail: reply.detail), by: "device:\(device)", now: clock.now())
            {
                perform(decision)
            }
        } catch let error as StoreError where error.code == .conflict || error.code == .notFound {
            ignore(error.message, device: device, id: reply.id)
        }
    }

    private func ignore(_ why: String, device: String, id: String?) {
        repliesIgnored.increment()
        logger.warning("command reply ignored", metadata: ["device": "\(device)", "command": "\(id ?? "-")", "why": "\(why)"])
    }

    // MARK: The pass

    /// At start: every command left `sending` by a process that no longer runs is recorded as
    /// recovered; it is never published again (its reply or its reply deadline ends it).
    public func recover() throws {
        let now = clock.now()
        for command in try store.commands(CommandQuery(states: [.sending], limit: 100_000)) {
            _ = try store.applyCommandEvent(id: command.id, event: .recovered, by: CommandLifecycle.system, now: now)
            logger.warning(
                "command was being sent when the server stopped; it is not sent again",
                metadata: ["command": "\(command.id)", "device": "\(command.device)"])
        }
    }

    /// One pass over the unfinished commands, oldest first: dispatch queued commands whose
    /// device is reachable while `sender` is connected, record PUBACKs, read confirming state
    /// metrics, and let deadlines pass.
    public func pass(sender: (any CommandSender)?) {
        do {
            try markPublished(sender)
            let open = try store.commands(CommandQuery(states: CommandQuery.unfinishedStates, limit: 100_000))
            var offline: [String: Bool] = [:]
            for command in open.reversed() {
                let now = clock.now()
                switch command.state {
                case .queued:
                    if now >= command.expiresAt {
                        try apply(.tick, command)
                        continue
                    }
                    guard let sender, sender.isConnected else { continue }
                    if offline[command.device] == nil {
                        offline[command.device] = try store.deviceRecords(id: command.device).first?.presence == "offline"
                    }
                    if offline[command.device] == true { continue }
                    guard let decision = try store.applyCommandEvent(id: command.id, event: .dispatch, by: CommandLifecycle.system, now: now)
                    else { continue }
                    if decision.actions.contains(.publish) {
                        send(decision.command, sender)
                    }
                    perform(decision)
                case .sending, .sent, .acknowledged:
                    if let confirm = command.confirm, command.confirmedAt == nil, let since = command.sendingAt {
                        let readings = try store.readings(device: command.device, metric: confirm.metric, from: since, to: now + 1)
                        if let hit = readings.first(where: { $0.value == confirm.value }) {
                            if let decision = try store.applyCommandEvent(
                                id: command.id, event: .stateReport(value: hit.value, at: hit.timestamp),
                                by: "device:\(command.device)", now: now)
                            {
                                perform(decision)
                                continue
                            }
                        }
                    }
                    try apply(.tick, command)
                default:
                    continue
                }
            }
            try markPublished(sender)
            try checkEffects()
        } catch {
            logger.error("command pass failed; trying again at the next", metadata: ["error": "\(error)"])
        }
    }

    private func apply(_ event: CommandEvent, _ command: CommandRecord) throws {
        if let decision = try store.applyCommandEvent(id: command.id, event: event, by: CommandLifecycle.system, now: clock.now()) {
            perform(decision)
        }
    }

    private func send(_ command: CommandRecord, _ sender: any CommandSender) {
        do {
            let ticket = try sender.send(command)
            inFlight.withLock { $0.append((command.id, ticket)) }
            logger.info("command sent", metadata: ["command": "\(command.id)", "device": "\(command.device)", "name": "\(command.name)"])
        } catch {
            // Recorded as sending: it is not sent again; its reply deadline ends it.
            logger.error(
                "command publish refused; it times out unless the device answers",
                metadata: ["command": "\(command.id)", "error": "\(error)"])
        }
    }

    /// Records `sent` for every command whose publish the broker has acknowledged.
    private func markPublished(_ sender: (any CommandSender)?) throws {
        guard let sender else { return }
        let acknowledged = sender.acknowledgedCount
        let done = inFlight.withLock { list in
            let done = list.filter { $0.ticket <= acknowledged }
            list.removeAll { $0.ticket <= acknowledged }
            return done
        }
        for item in done {
            _ = try store.applyCommandEvent(id: item.id, event: .published, by: CommandLifecycle.system, now: clock.now())
        }
    }

    /// The alert side of a decision.
    func perform(_ decision: CommandDecision) {
        for action in decision.actions {
            switch action {
            case .publish: continue
            case .actuatorUnresponsive(let reason): actuatorAlert(decision.command, raise: true, reason: reason)
            case .actuatorResponded: actuatorAlert(decision.command, raise: false, reason: nil)
            }
        }
    }

    private func actuatorAlert(_ command: CommandRecord, raise: Bool, reason: String?) {
        let message =
            raise
            ? "命令 \(command.name)（\(command.id)）：\(reason ?? "")。请现场检查设备、电源和线路。"
            : "命令 \(command.name)（\(command.id)）已确认，设备恢复响应。"
        alert(
            rule: Self.unresponsiveRule, device: command.device, metric: command.confirm?.metric,
            level: raise ? options.unresponsiveLevel : nil, value: nil, title: Self.unresponsiveTitle, message: message)
        if raise {
            logger.warning(
                "actuator did not respond", metadata: ["device": "\(command.device)", "command": "\(command.id)", "why": "\(reason ?? "")"])
        }
    }

    /// Raises (or moves) the live alert of (`rule`, `device`) to `level`, or clears it (`nil`).
    func alert(rule: String, device: String, metric: String?, level: AlertLevel?, value: Double?, title: String, message: String) {
        do {
            let live = try store.alerts(AlertQuery(statuses: [.open, .acknowledged], device: device, rule: rule, limit: 1)).first
            if level == nil && live == nil { return }
            let domain = try store.device(id: device)?.domain.rawValue ?? "water"
            let change = AlertLevelChange(
                rule: rule, device: device, domain: domain, metric: metric, from: live?.level, to: level, value: value,
                threshold: nil, at: clock.now(), late: false, title: title, message: message)
            let notices = try store.applyRuleEvaluation(states: [], changes: [change], now: clock.now())
            if !notices.isEmpty { notify.withLock { $0 }?(notices) }
        } catch {
            logger.error("cannot record a command alert", metadata: ["device": "\(device)", "rule": "\(rule)", "error": "\(error)"])
        }
    }
}

/// Publishes commands: the MQTT side of ``CommandCenter/pass(sender:)``.
public protocol CommandSender: Sendable {
    /// Whether the broker connection is up (queued commands wait while it is not).
    var isConnected: Bool { get }
    /// Publishes `command` on its topic (QoS 1); returns a ticket: the publish is acknowledged
    /// by the broker once ``acknowledgedCount`` reaches it.
    func send(_ command: CommandRecord) throws -> Int
    /// Publishes the broker has acknowledged so far.
    var acknowledgedCount: Int { get }
}
