import Logging
import Metrics
import ShennongAlerts
import ShennongCommands
import ShennongCore
import Synchronization

/// Rules acting on devices: a ``Notifier`` that hears every committed alert transition and
/// sends the rule's ``RuleActions`` (per level when an alert is raised, escalates or steps
/// down; `clear` when the system resolves it after the rule's clear delay), each command
/// through ``AutomationPolicy`` (interlocks) and the ``CommandCenter`` (recorded with its rule,
/// its alert and what fired it). Late alerts (backfill) are never pushed, so they never act.
public final class RuleAutomation: Notifier {
    private let center: CommandCenter
    private let rules: Mutex<(@Sendable (String) -> Rule?)?>
    private let offsetMinutes: Int
    private let logger: Logger
    private let skipped = Counter(label: "shennong_automation_skipped_total")

    public init(center: CommandCenter, offsetMinutes: Int = 480, logger: Logger) {
        self.center = center
        self.rules = Mutex(nil)
        self.offsetMinutes = offsetMinutes
        self.logger = logger
    }

    /// Where the rules in force are looked up (the rules module's catalog, set once it exists).
    public func setRules(_ lookup: @escaping @Sendable (String) -> Rule?) {
        rules.withLock { $0 = lookup }
    }

    /// The rules in force with actions (for the manual hold the dashboard shows).
    private let catalog = Mutex<RuleCatalog?>(nil)

    /// Looks rules up in `catalog` (reloads included).
    public func setRules(catalog: RuleCatalog) {
        self.catalog.withLock { $0 = catalog }
        setRules { [catalog] id in catalog.rule(id: id) }
    }

    /// Until when a person's command holds automation off `device` (the longest `manual_hold`
    /// of the rules with actions after the person's newest command), or `nil` when it does not.
    public func holdUntil(device: String, now: Int64) throws -> (until: Int64, command: CommandRecord)? {
        let hold = catalog.withLock { $0 }?.rules.compactMap { $0.actions?.interlock.manualHold }.max() ?? 0
        guard hold > 0,
            let manual = try center.store.commands(CommandQuery(device: device, automatic: false, issuedSince: now - hold, limit: 1)).first
        else { return nil }
        return (manual.issuedAt + hold, manual)
    }

    public func wants(_ notice: AlertNotice) -> Bool {
        switch notice.transition.kind {
        case .raised, .escalated, .steppedDown: true
        case .resolved: notice.transition.by == AlertLifecycle.system
        default: false
        }
    }

    public var name: String { "automation" }

    public func run(_ messages: AsyncStream<AlertMessage>, settled: @escaping @Sendable (AlertMessage) -> Void) async throws {
        for await message in messages {
            act(message.notice)
            settled(message)
        }
    }

    /// The commands `notice` calls for, after the interlocks; returns the commands issued.
    @discardableResult
    public func act(_ notice: AlertNotice) -> [CommandRecord] {
        guard wants(notice), let rule = rules.withLock({ $0 })?(notice.alert.rule), let actions = rule.actions else { return [] }
        let trigger: String
        let list: [RuleAction]
        if notice.transition.kind == .resolved {
            (trigger, list) = ("clear", actions.clear)
        } else {
            trigger = notice.alert.level.name
            list = actions.levels[notice.alert.level] ?? []
        }
        guard !list.isEmpty else { return [] }
        let device = notice.alert.device
        var issued: [CommandRecord] = []
        do {
            guard let registered = try center.store.device(id: device) else { return [] }
            for action in list {
                guard let spec = center.spec(device: registered, name: action.command) else {
                    skip(rule.id, device, action.command, "设备配置未声明此命令 the profile \(registered.profile) does not declare it")
                    continue
                }
                let now = center.clock.now()
                let history = try center.store.commands(CommandQuery(device: device, limit: 500))
                // A transition handed over again (the process stopped before its cursor passed it)
                // does not act twice: its command is already recorded.
                if history.contains(where: {
                    $0.origin.alert == notice.alert.id && $0.origin.trigger == trigger && $0.name == action.command
                        && $0.issuedAt >= notice.transition.recordedAt
                }) {
                    skip(rule.id, device, action.command, "已为此告警变化发送 already sent for this transition")
                    continue
                }
                let latest = try spec.state.flatMap { state in
                    try center.store.latest(device: device).first { $0.metric == state.metric }?.value
                }
                switch AutomationPolicy.decide(
                    spec: spec, interlock: actions.interlock, history: history, latestState: latest, now: now,
                    offsetMinutes: offsetMinutes)
                {
                case .skip(let why):
                    skip(rule.id, device, action.command, why)
                case .issue(let notBefore, let cancel):
                    for id in cancel {
                        _ = try? center.cancel(id: id, by: "rule:\(rule.id)", note: "条件已变化 superseded by \(action.command) (\(trigger))")
                    }
                    let command = try center.issue(
                        CommandRequest(
                            device: device, name: action.command, args: action.args, expiresIn: actions.expires,
                            by: "rule:\(rule.id)",
                            origin: CommandOrigin(rule: rule.id, alert: notice.alert.id, trigger: trigger), notBefore: notBefore))
                    issued.append(command)
                    logger.notice(
                        "rule sent a command",
                        metadata: [
                            "rule": "\(rule.id)", "alert": "\(notice.alert.id)", "device": "\(device)", "command": "\(command.id)",
                            "name": "\(action.command)", "trigger": "\(trigger)",
                        ])
                }
            }
        } catch {
            logger.error("rule action failed", metadata: ["rule": "\(rule.id)", "device": "\(device)", "error": "\(error)"])
        }
        return issued
    }

    private func skip(_ rule: String, _ device: String, _ command: String, _ why: String) {
        skipped.increment()
        logger.info("rule action held back", metadata: ["rule": "\(rule)", "device": "\(device)", "command": "\(command)", "why": "\(why)"])
    }
}
