import Foundation
import Logging
import ShennongAlerts
import ShennongCommands
import ShennongCore
import ShennongStore
import Synchronization
import Testing

@testable import ShennongRules

/// Rule actions: parsing, `rules check` against profiles, the interlocks as a pure decision,
/// and the automation and command center on a real SQLite store with a stepping clock.
@Suite struct AutomationTests {
    static let on = CommandSpec(
        name: "aerator_on", description: "开启增氧机", state: CommandStateSpec(metric: "aerator_on", value: 1), replyWithin: 60,
        confirmWithin: 180)
    static let off = CommandSpec(
        name: "aerator_off", description: "关闭增氧机", state: CommandStateSpec(metric: "aerator_on", value: 0), replyWithin: 60,
        confirmWithin: 180)
    static let pond = Device(id: "pond-1", profile: "pond", domain: .water, createdAt: 1)
    /// A command without a state to confirm: the interlocks never hold it back.
    static let siren = CommandSpec(name: "siren", description: "鸣笛")

    static func profiles() throws -> [String: DeviceProfile] {
        var p = DeviceProfile(name: "pond", domain: .water, description: "池塘", expectedInterval: 60)
        p.commands = [on.name: on, off.name: off, siren.name: siren]
        return [p.name: p, DeviceProfile.generic.name: .generic]
    }

    /// A command of the device's history (newest first lists are built by the tests).
    static func command(
        _ id: String, _ spec: CommandSpec, state: CommandState, at: Int64, automatic: Bool = true
    ) -> CommandRecord {
        CommandRecord(
            id: id, device: "pond-1", name: spec.name, state: state, issuedBy: automatic ? "rule:do" : "陈伟",
            origin: automatic ? CommandOrigin(rule: "do", alert: 1, trigger: "orange") : .person, issuedAt: at,
            expiresAt: at + 600_000, replyWithin: 60_000, confirm: spec.state, confirmWithin: 180_000,
            sendingAt: state.wasSent ? at : nil)
    }

    // MARK: parsing

    @Test func parsesActionsAndInterlock() throws {
        let r = try rule(
            """
            - id: do
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels: { orange: { below: 3 } }
              actions:
                orange: [aerator_on]
                red: [{ command: set_do_limits, args: { lower: 3.5, mode: "夜间" } }]
                clear: aerator_off
                expires: 5m
                interlock: { min_on: 30m, min_off: 5m, max_starts_per_hour: 4, quiet_hours: "22:00-06:00", manual_hold: 1h }
            """)
        let actions = try #require(r.actions)
        #expect(actions.levels[.orange] == [RuleAction(command: "aerator_on")])
        #expect(actions.levels[.red] == [RuleAction(command: "set_do_limits", args: ["lower": .number(3.5), "mode": .string("夜间")])])
        #expect(actions.clear == [RuleAction(command: "aerator_off")])
        #expect(actions.expires == 300_000)
        #expect(
            actions.interlock
                == Interlock(minOn: 1_800_000, minOff: 300_000, maxStartsPerHour: 4, quietHours: QuietHours(start: 1320, end: 360), manualHold: 3_600_000))
    }

    @Test func refusesBadActionsWithTheLine() {
        for (bad, fragment) in [
            ("actions: { purple: [x] }", "purple"),
            ("actions: { orange: [{ args: {} }] }", "command"),
            ("actions: { interlock: { max_starts_per_hour: 0 } }", "max_starts_per_hour"),
            ("actions: { interlock: { quiet_hours: \"25:00-06:00\" } }", "quiet_hours"),
            ("actions: { interlock: { min_on: soon } }", "min_on"),
            ("actions: { interlock: { speed: 1 } }", "speed"),
        ] {
            let yaml = "rules:\n  - id: do\n    metric: dissolved_oxygen\n    condition: { kind: threshold }\n    levels: { orange: { below: 3 } }\n    \(bad)\n"
            let parsed = RuleParser.parse(yaml: yaml, file: "t.yaml")
            #expect(parsed.rules.isEmpty, "\(bad)")
            #expect(parsed.errors.contains { $0.message.contains(fragment) && $0.line == 6 }, "\(bad): \(parsed.errors)")
        }
    }

    @Test func quietHoursWrapMidnightInLocalTime() {
        let q = QuietHours(start: 22 * 60, end: 6 * 60)
        // t0 is local midnight (+08:00).
        #expect(q.contains(t0, offsetMinutes: 480))
        #expect(q.contains(t0 + 5 * hour + 59 * minute, offsetMinutes: 480))
        #expect(!q.contains(t0 + 6 * hour, offsetMinutes: 480))
        #expect(q.contains(t0 - 2 * hour, offsetMinutes: 480))
        #expect(!q.contains(t0 - 2 * hour - 1, offsetMinutes: 480))
    }

    @Test func checkActionsAgainstProfiles() throws {
        let profiles = try Self.profiles()
        var r = try rule(
            """
            - id: do
              metric: dissolved_oxygen
              select: { domains: [water] }
              condition: { kind: threshold }
              levels: { orange: { below: 3 } }
              actions: { orange: [aerator_on], clear: [open_valve] }
            """)
        let problems = r.checkActions(profiles: profiles)
        #expect(problems.count == 1 && problems[0].contains("open_valve"), "\(problems)")
        r.actions?.clear = [RuleAction(command: "aerator_off", args: ["speed": .number(1)])]
        #expect(r.checkActions(profiles: profiles).first?.contains("speed") == true)
        r.actions?.clear = [RuleAction(command: "aerator_off")]
        #expect(r.checkActions(profiles: profiles).isEmpty)
        r.selector.profiles = ["generic"]
        #expect(!r.checkActions(profiles: profiles).isEmpty)
    }

    @Test func shippedPresetsCheckAgainstTheShippedProfiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var profiles: [String: DeviceProfile] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("devices").path) where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: root.appendingPathComponent("devices/\(name)"), encoding: .utf8)
            let p = try DeviceProfile.parse(yaml: text, sourceName: name)
            profiles[p.name] = p
        }
        let (rules, errors) = RuleLoader.load(directory: root.appendingPathComponent("Config/rules").path)
        #expect(errors.isEmpty)
        let pond = try #require(rules.first { $0.id == "pond-do-low" })
        #expect(pond.actions?.levels[.orange] == [RuleAction(command: "aerator_on")])
        for r in rules { #expect(r.checkActions(profiles: profiles).isEmpty, "\(r.id)") }
    }

    // MARK: interlocks

    func decide(_ spec: CommandSpec, _ interlock: Interlock, _ history: [CommandRecord], state: Double? = nil, at now: Int64)
        -> AutomationDecision
    {
        AutomationPolicy.decide(spec: spec, interlock: interlock, history: history, latestState: state, now: now, offsetMinutes: 480)
    }

    @Test func manualCommandHoldsAutomationForTheHoldTime() {
        let lock = Interlock(manualHold: 2 * hour)
        let manual = Self.command("m", Self.off, state: .acknowledged, at: t0, automatic: false)
        guard case .skip(let why) = decide(Self.on, lock, [manual], at: t0 + 2 * hour - 1) else {
            Issue.record("automation not held")
            return
        }
        #expect(why.contains("手动"))
        #expect(decide(Self.on, lock, [manual], state: 0, at: t0 + 2 * hour) == .issue(notBefore: nil, cancel: []))
    }

    @Test func alreadyCommandedOrAlreadyInStateSendsNothing() {
        let lock = Interlock()
        let pending = Self.command("a", Self.on, state: .sent, at: t0)
        guard case .skip = decide(Self.on, lock, [pending], at: t0 + minute) else { Issue.record("duplicate start"); return }
        guard case .skip = decide(Self.on, lock, [], state: 1, at: t0) else { Issue.record("start of a running aerator"); return }
        // A finished start and the aerator reported off: start again.
        let done = Self.command("b", Self.on, state: .timedOut, at: t0)
        #expect(decide(Self.on, lock, [done], state: 0, at: t0 + minute) == .issue(notBefore: nil, cancel: []))
    }

    @Test func minimumOnAndOffTimesDelayTheSwitch() {
        let lock = Interlock(minOn: 30 * minute, minOff: 5 * minute)
        let start = Self.command("s", Self.on, state: .acknowledged, at: t0)
        #expect(decide(Self.off, lock, [start], state: 1, at: t0 + 10 * minute) == .issue(notBefore: t0 + 30 * minute, cancel: []))
        #expect(decide(Self.off, lock, [start], state: 1, at: t0 + 31 * minute) == .issue(notBefore: nil, cancel: []))
        let stop = Self.command("t", Self.off, state: .acknowledged, at: t0 + 40 * minute)
        #expect(decide(Self.on, lock, [stop, start], state: 0, at: t0 + 41 * minute) == .issue(notBefore: t0 + 45 * minute, cancel: []))
    }

    @Test func aStartCancelsAQueuedAutomaticStop() {
        let lock = Interlock(minOn: 30 * minute)
        let start = Self.command("s", Self.on, state: .acknowledged, at: t0)
        var queuedStop = Self.command("q", Self.off, state: .queued, at: t0 + 5 * minute)
        queuedStop.notBefore = t0 + 30 * minute
        // The newest live command is the queued stop (another value): the start is issued and the stop cancelled.
        #expect(decide(Self.on, lock, [queuedStop, start], state: 1, at: t0 + 10 * minute) == .issue(notBefore: nil, cancel: ["q"]))
    }

    @Test func startsPerHourAreCapped() {
        let lock = Interlock(maxStartsPerHour: 3)
        var history: [CommandRecord] = []
        for i in 0..<3 {
            history.insert(Self.command("on\(i)", Self.on, state: .acknowledged, at: t0 + Int64(i) * 15 * minute), at: 0)
            history.insert(Self.command("off\(i)", Self.off, state: .acknowledged, at: t0 + Int64(i) * 15 * minute + 5 * minute), at: 0)
        }
        guard case .skip(let why) = decide(Self.on, lock, history, state: 0, at: t0 + 50 * minute) else {
            Issue.record("a fourth start within the hour")
            return
        }
        #expect(why.contains("3"))
        // An hour after the first start, one may start again.
        #expect(decide(Self.on, lock, history, state: 0, at: t0 + 60 * minute + 1) == .issue(notBefore: nil, cancel: []))
    }

    @Test func quietHoursHoldStartsNotStops() {
        let lock = Interlock(quietHours: QuietHours(start: 22 * 60, end: 6 * 60))
        guard case .skip = decide(Self.on, lock, [], state: 0, at: t0 + hour) else { Issue.record("start in quiet hours"); return }
        #expect(decide(Self.off, lock, [], state: 1, at: t0 + hour) == .issue(notBefore: nil, cancel: []))
        #expect(decide(Self.on, lock, [], state: 0, at: t0 + 7 * hour) == .issue(notBefore: nil, cancel: []))
    }
}

/// A sender that records what it is asked to publish; acknowledged when told.
final class RecordingSender: CommandSender, Sendable {
    private let state = Mutex<(sent: [String], acked: Int, connected: Bool)>(([], 0, true))
    var isConnected: Bool { state.withLock { $0.connected } }
    var acknowledgedCount: Int { state.withLock { $0.acked } }
    var sent: [String] { state.withLock { $0.sent } }
    func send(_ command: CommandRecord) throws -> Int {
        state.withLock {
            $0.sent.append(command.id)
            return $0.sent.count
        }
    }
    func acknowledgeAll() { state.withLock { $0.acked = $0.sent.count } }
    func setConnected(_ c: Bool) { state.withLock { $0.connected = c } }
}

/// A value behind a lock, shared by reference (a clock the test moves, notices collected).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// The command center's passes on a real SQLite store with a clock the test moves.
@Suite struct CommandCenterTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("center-\(UUID().uuidString)")
    let now = Locked<Int64>(t0)

    func make() throws -> (Store, CommandCenter, Locked<[AlertNotice]>) {
        let store = try Store(path: directory.appendingPathComponent("s.db").path, durable: false)
        try store.addDevice(AutomationTests.pond)
        let notices = Locked<[AlertNotice]>([])
        let clock = WallClock { [now] in now.withLock { $0 } }
        let center = CommandCenter(
            store: store, profiles: try AutomationTests.profiles(), clock: clock,
            notify: { n in notices.withLock { $0 += n } }, logger: Logger(label: "test"))
        return (store, center, notices)
    }

    func advance(_ ms: Int64) { now.withLock { $0 += ms } }

    func presence(_ store: Store, _ state: String) throws {
        var batch = IngestBatch()
        batch.presence["pond-1"] = Presence(state: state, at: now.withLock { $0 })
        try store.commit(batch)
    }

    @Test func passSendsOnlineCommandsOnceRecordsPubackAndConfirmation() throws {
        let (store, center, notices) = try make()
        let sender = RecordingSender()
        let c = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", by: "陈伟"))
        center.pass(sender: sender)
        center.pass(sender: sender)
        #expect(sender.sent == [c.id])
        #expect(try store.command(id: c.id)?.state == .sending)
        sender.acknowledgeAll()
        center.pass(sender: sender)
        #expect(try store.command(id: c.id)?.state == .sent)
        try center.handleReply(device: "pond-1", payload: Array(#"{"id":"\#(c.id)","status":"ok"}"#.utf8))
        #expect(try store.command(id: c.id)?.state == .acknowledged)
        // The state metric reports on: confirmed at the next pass.
        advance(5000)
        var batch = IngestBatch()
        batch.readings = [Reading(device: "pond-1", metric: "aerator_on", timestamp: now.withLock { $0 }, value: 1)]
        try store.commit(batch)
        center.pass(sender: sender)
        let done = try #require(try store.command(id: c.id))
        #expect(done.confirmedAt != nil && done.isFinished)
        #expect(notices.withLock { $0 }.isEmpty)
    }

    @Test func offlineDeviceWaitsDisconnectedSenderWaitsExpiryWins() throws {
        let (store, center, _) = try make()
        let sender = RecordingSender()
        try presence(store, "offline")
        let c = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", expiresIn: 60_000, by: "陈伟"))
        center.pass(sender: sender)
        #expect(sender.sent.isEmpty)
        #expect(try store.command(id: c.id)?.state == .queued)
        try presence(store, "online")
        sender.setConnected(false)
        center.pass(sender: sender)
        #expect(sender.sent.isEmpty)
        advance(60_000)
        sender.setConnected(true)
        center.pass(sender: sender)
        #expect(sender.sent.isEmpty)
        #expect(try store.command(id: c.id)?.state == .expired)
    }

    @Test func noReplyTimesOutAndRaisesTheRedActuatorAlertWhichAConfirmedCommandClears() throws {
        let (store, center, notices) = try make()
        let sender = RecordingSender()
        let c = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", by: "陈伟"))
        center.pass(sender: sender)
        sender.acknowledgeAll()
        advance(60_000)
        center.pass(sender: sender)
        #expect(try store.command(id: c.id)?.state == .timedOut)
        let alert = try #require(
            try store.alerts(AlertQuery(statuses: [.open], device: "pond-1", rule: CommandCenter.unresponsiveRule)).first)
        #expect(alert.level == .red && alert.title.contains("设备未响应"))
        #expect(notices.withLock { $0.map(\.transition.kind) } == [.raised])

        // A later command that is acknowledged and confirmed clears it.
        let again = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", by: "陈伟"))
        center.pass(sender: sender)
        try center.handleReply(device: "pond-1", payload: Array(#"{"id":"\#(again.id)","status":"ok"}"#.utf8))
        advance(1000)
        var batch = IngestBatch()
        batch.readings = [Reading(device: "pond-1", metric: "aerator_on", timestamp: now.withLock { $0 }, value: 1)]
        try store.commit(batch)
        center.pass(sender: sender)
        #expect(try store.alert(id: alert.id)?.status == .resolved)
    }

    @Test func recoveryMarksSendingAndNeverSendsItAgain() throws {
        let (store, center, _) = try make()
        let first = RecordingSender()
        let c = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", by: "陈伟"))
        center.pass(sender: first)
        #expect(try store.command(id: c.id)?.state == .sending)
        // "Restart": a new center on the same store.
        let restarted = CommandCenter(store: store, profiles: try AutomationTests.profiles(), clock: WallClock { [now] in now.withLock { $0 } }, logger: Logger(label: "test"))
        try restarted.recover()
        let second = RecordingSender()
        restarted.pass(sender: second)
        #expect(second.sent.isEmpty)
        #expect(try store.commandTransitions(id: c.id).last?.note?.contains("never sent again") == true)
        advance(60_000)
        restarted.pass(sender: second)
        #expect(try store.command(id: c.id)?.state == .timedOut && second.sent.isEmpty)
    }

    @Test func repliesFromAnotherDeviceOrUnknownIdsChangeNothing() throws {
        let (store, center, _) = try make()
        try store.addDevice(Device(id: "pond-2", profile: "pond", domain: .water, createdAt: 1))
        let sender = RecordingSender()
        let c = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", by: "陈伟"))
        center.pass(sender: sender)
        try center.handleReply(device: "pond-2", payload: Array(#"{"id":"\#(c.id)","status":"ok"}"#.utf8))
        try center.handleReply(device: "pond-1", payload: Array(#"{"id":"cnope","status":"ok"}"#.utf8))
        try center.handleReply(device: "pond-1", payload: Array("not json".utf8))
        try center.handleReply(device: "pond-1", payload: Array(#"{"id":"\#(c.id)","status":"maybe"}"#.utf8))
        #expect(try store.command(id: c.id)?.state == .sending)
    }

    @Test func automationIssuesPerLevelAndOnClearAfterTheMinimumRunTime() throws {
        let (store, center, _) = try make()
        let automation = RuleAutomation(center: center, logger: Logger(label: "test"))
        var r = try rule(
            """
            - id: do
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels: { orange: { below: 3 } }
              actions: { orange: [aerator_on], clear: [aerator_off], interlock: { min_on: 30m } }
            """)
        r.actions?.interlock.manualHold = 0
        automation.setRules { [r] id in id == r.id ? r : nil }
        let change = AlertLevelChange(
            rule: "do", device: "pond-1", domain: "water", metric: "dissolved_oxygen", from: nil, to: .orange, value: 2.5,
            threshold: 3, at: now.withLock { $0 }, late: false, title: "t", message: "m")
        let raised = try #require(try store.applyRuleEvaluation(states: [], changes: [change], now: now.withLock { $0 }).first)
        let started = automation.act(raised)
        #expect(started.map(\.name) == ["aerator_on"])
        #expect(started.first?.origin == CommandOrigin(rule: "do", alert: raised.alert.id, trigger: "orange"))
        #expect(started.first?.issuedBy == "rule:do")
        let sender = RecordingSender()
        center.pass(sender: sender)
        advance(10 * minute)
        var clear = change
        clear.from = .orange
        clear.to = nil
        clear.at = now.withLock { $0 }
        let resolved = try #require(try store.applyRuleEvaluation(states: [], changes: [clear], now: now.withLock { $0 }).first)
        let stopped = automation.act(resolved)
        #expect(stopped.map(\.name) == ["aerator_off"])
        #expect(stopped.first?.notBefore == t0 + 30 * minute && stopped.first?.origin.trigger == "clear")
        // The alert's commands, as its history shows them.
        #expect(try store.commands(CommandQuery(alert: raised.alert.id)).map(\.name) == ["aerator_off", "aerator_on"])
        // A person's resolve does not act.
        var manual = resolved
        manual.transition.by = "陈伟"
        #expect(automation.act(manual).isEmpty)
    }
}

extension CommandCenterTests {
    /// A pond whose aerator_on names its effect: DO must rise within 60 s.
    func makeWithEffect() throws -> (Store, CommandCenter) {
        let store = try Store(path: directory.appendingPathComponent("e.db").path, durable: false)
        try store.addDevice(AutomationTests.pond)
        var on = AutomationTests.on
        on.effect = CommandEffectSpec(metric: "dissolved_oxygen", risesWithin: 60, title: "增氧机运行中溶解氧仍下降")
        var p = DeviceProfile(name: "pond", domain: .water, description: "池塘", expectedInterval: 60)
        p.commands = [on.name: on, AutomationTests.off.name: AutomationTests.off]
        let center = CommandCenter(
            store: store, profiles: [p.name: p], clock: WallClock { [now] in now.withLock { $0 } }, logger: Logger(label: "test"))
        return (store, center)
    }

    func report(_ store: Store, _ values: [String: Double]) throws {
        var batch = IngestBatch()
        batch.readings = values.map { Reading(device: "pond-1", metric: $0.key, timestamp: now.withLock { $0 }, value: $0.value) }
        try store.commit(batch)
    }

    /// Issues aerator_on, sends, replies ok and confirms it with aerator_on = 1 and DO `start`.
    func confirmedStart(_ store: Store, _ center: CommandCenter, start: Double) throws -> CommandRecord {
        let sender = RecordingSender()
        try report(store, ["dissolved_oxygen": start])
        advance(1000)
        let c = try center.issue(CommandRequest(device: "pond-1", name: "aerator_on", by: "陈伟"))
        center.pass(sender: sender)
        try center.handleReply(device: "pond-1", payload: Array(#"{"id":"\#(c.id)","status":"ok"}"#.utf8))
        advance(1000)
        try report(store, ["aerator_on": 1])
        center.pass(sender: sender)
        return try #require(try store.command(id: c.id))
    }

    @Test func aeratorRunningAndDOStillFallingRaisesTheNoEffectAlert() throws {
        let (store, center) = try makeWithEffect()
        let c = try confirmedStart(store, center, start: 3.2)
        #expect(c.confirmedAt != nil)
        advance(30_000)
        try report(store, ["dissolved_oxygen": 3.0, "aerator_on": 1])
        advance(6000)
        center.pass(sender: RecordingSender())
        #expect(try store.alerts(AlertQuery(rule: CommandCenter.noEffectRule)).isEmpty, "judged before its time")
        advance(30_000)
        try report(store, ["dissolved_oxygen": 2.9, "aerator_on": 1])
        center.pass(sender: RecordingSender())
        let alert = try #require(try store.alerts(AlertQuery(statuses: [.open], rule: CommandCenter.noEffectRule)).first)
        #expect(alert.title == "增氧机运行中溶解氧仍下降" && alert.level == .orange && alert.device == "pond-1")
        #expect(alert.message.contains("2.9"))
    }

    @Test func doRisingWhileTheAeratorRunsRaisesNothing() throws {
        let (store, center) = try makeWithEffect()
        _ = try confirmedStart(store, center, start: 3.2)
        advance(61_000)
        try report(store, ["dissolved_oxygen": 4.1, "aerator_on": 1])
        center.pass(sender: RecordingSender())
        #expect(try store.alerts(AlertQuery(rule: CommandCenter.noEffectRule)).isEmpty)
    }
}

extension CommandCenterTests {
    @Test func automationActsOnceOnATransitionHandedOverAgain() throws {
        let (store, center, _) = try make()
        let automation = RuleAutomation(center: center, logger: Logger(label: "test"))
        let r = try rule(
            """
            - id: do
              metric: dissolved_oxygen
              condition: { kind: threshold }
              levels: { orange: { below: 3 } }
              actions: { orange: [siren] }
            """)
        automation.setRules { [r] id in id == r.id ? r : nil }
        let change = AlertLevelChange(
            rule: "do", device: "pond-1", domain: "water", metric: "dissolved_oxygen", from: nil, to: .orange, value: 2.5,
            threshold: 3, at: now.withLock { $0 }, late: false, title: "t", message: "m")
        let raised = try #require(try store.applyRuleEvaluation(states: [], changes: [change], now: now.withLock { $0 }).first)
        #expect(automation.act(raised).map(\.name) == ["siren"])
        // The outbox hands the same transition over again (the process stopped before its
        // cursor passed it): its command is recorded, nothing more is issued.
        advance(5000)
        #expect(automation.act(raised).isEmpty)
        #expect(try store.commands(CommandQuery(alert: raised.alert.id)).count == 1)
        // A later escalation to the same level (after a step down) acts again.
        let again = try #require(
            try store.applyRuleEvaluation(
                states: [], changes: [AlertLevelChange(
                    rule: "do", device: "pond-1", domain: "water", metric: "dissolved_oxygen", from: .orange, to: .yellow,
                    value: 3.2, threshold: 3, at: now.withLock { $0 }, late: false, title: "t", message: "m")],
                now: now.withLock { $0 }).first)
        #expect(again.transition.kind == .steppedDown)
        advance(5000)
        var up = change
        up.from = .yellow
        up.at = now.withLock { $0 }
        let escalated = try #require(try store.applyRuleEvaluation(states: [], changes: [up], now: now.withLock { $0 }).first)
        #expect(automation.act(escalated).map(\.name) == ["siren"])
    }
}
