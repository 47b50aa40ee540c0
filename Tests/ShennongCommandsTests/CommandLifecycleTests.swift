import ShennongCore
import Testing

@testable import ShennongCommands

/// The command lifecycle without I/O: every transition, every refusal, and the actions each asks for.
@Suite struct CommandLifecycleTests {
    static let t0: Int64 = 1_763_683_200_000
    static let pond = Device(id: "pond-01", profile: "pond-oxygen-probe", domain: .water, createdAt: 1)
    static let aeratorOn = CommandSpec(
        name: "aerator_on", description: "开启增氧机", state: CommandStateSpec(metric: "aerator_on", value: 1),
        replyWithin: 60, confirmWithin: 180)
    static let setLimits = CommandSpec(
        name: "set_do_limits", description: "设置溶氧上下限",
        args: [
            CommandArgumentSpec(name: "lower", type: .number, minimum: 0, maximum: 20, unit: "mg/L"),
            CommandArgumentSpec(name: "upper", type: .number, minimum: 0, maximum: 20, required: false),
            CommandArgumentSpec(name: "mode", type: .string, allowed: ["auto", "manual"], required: false),
            CommandArgumentSpec(name: "count", type: .integer, minimum: 1, maximum: 5, required: false),
            CommandArgumentSpec(name: "night", type: .boolean, required: false),
        ])

    func queued(_ spec: CommandSpec = aeratorOn, args: [String: CommandValue] = [:], expiresIn: Int64? = nil)
        throws(CommandRefusal) -> CommandRecord
    {
        try CommandLifecycle.issue(
            CommandRequest(device: "pond-01", name: spec.name, args: args, expiresIn: expiresIn, by: "陈伟"),
            device: Self.pond, spec: spec, id: "c1", now: Self.t0
        ).command
    }

    func apply(_ event: CommandEvent, _ c: CommandRecord, at offset: Int64, by: String = "system")
        throws(CommandRefusal) -> CommandDecision?
    {
        try CommandLifecycle.apply(event, to: c, by: by, now: Self.t0 + offset)
    }

    // MARK: issue

    @Test func issueQueuesWithWhoWhenAndDeadlinesFromTheSpec() throws {
        let d = try CommandLifecycle.issue(
            CommandRequest(device: "pond-01", name: "aerator_on", expiresIn: 300_000, by: "陈伟"),
            device: Self.pond, spec: Self.aeratorOn, id: "c1", now: Self.t0)
        #expect(d.command.state == .queued)
        #expect(d.command.issuedBy == "陈伟" && d.command.issuedAt == Self.t0)
        #expect(d.command.expiresAt == Self.t0 + 300_000)
        #expect(d.command.replyWithin == 60_000 && d.command.confirmWithin == 180_000)
        #expect(d.command.confirm == CommandStateSpec(metric: "aerator_on", value: 1))
        #expect(d.transition == CommandTransition(commandID: "c1", from: nil, to: .queued, at: Self.t0, by: "陈伟", note: nil))
        #expect(d.actions.isEmpty)
        #expect(try queued().expiresAt == Self.t0 + CommandLifecycle.defaultExpiry)
    }

    @Test func issueRefusesUnknownDeviceUndeclaredCommandAndBadExpiry() {
        let request = CommandRequest(device: "nope", name: "aerator_on", by: "x")
        #expect(throws: CommandRefusal.self) {
            try CommandLifecycle.issue(request, device: nil, spec: Self.aeratorOn, id: "c1", now: Self.t0)
        }
        do {
            _ = try CommandLifecycle.issue(request, device: nil, spec: Self.aeratorOn, id: "c1", now: Self.t0)
        } catch { #expect(error.code == .unknownDevice) }
        do {
            _ = try CommandLifecycle.issue(
                CommandRequest(device: "pond-01", name: "open_valve", by: "x"), device: Self.pond, spec: nil, id: "c1",
                now: Self.t0)
            Issue.record("undeclared command accepted")
        } catch { #expect(error.code == .unknownCommand && error.message.contains("open_valve")) }
        for expiry: Int64 in [0, -1, CommandLifecycle.maximumExpiry + 1] {
            do {
                _ = try queued(expiresIn: expiry)
                Issue.record("expiry \(expiry) accepted")
            } catch { #expect(error.code == .invalidArgument) }
        }
    }

    @Test func issueChecksArgumentsAgainstTheProfile() throws {
        let ok = try queued(
            Self.setLimits,
            args: ["lower": .string("3.5"), "upper": .number(6), "mode": .string("auto"), "count": .number(2), "night": .string("true")])
        #expect(ok.args == ["lower": .number(3.5), "upper": .number(6), "mode": .string("auto"), "count": .number(2), "night": .bool(true)])
        let bad: [([String: CommandValue], String)] = [
            ([:], "lower"),  // missing required
            (["lower": .number(25)], "lower"),  // above max
            (["lower": .number(-1)], "lower"),  // below min
            (["lower": .string("high")], "lower"),  // not a number
            (["lower": .bool(true)], "lower"),  // wrong type
            (["lower": .number(3), "speed": .number(1)], "speed"),  // undeclared
            (["lower": .number(3), "mode": .string("turbo")], "mode"),  // not an allowed value
            (["lower": .number(3), "count": .number(2.5)], "count"),  // not an integer
            (["lower": .number(3), "night": .string("maybe")], "night"),  // not a boolean
        ]
        for (args, argument) in bad {
            do {
                _ = try queued(Self.setLimits, args: args)
                Issue.record("accepted \(args)")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(argument), "\(error.message)")
            }
        }
        // A command without arguments takes none.
        #expect(throws: CommandRefusal.self) { try queued(args: ["x": .number(1)]) }
    }

    // MARK: dispatch, publish

    @Test func dispatchBeforeExpirySendsAndAsksToPublish() throws {
        let c = try queued()
        let d = try #require(try apply(.dispatch, c, at: 1000))
        #expect(d.command.state == .sending && d.command.sendingAt == Self.t0 + 1000)
        #expect(d.actions == [.publish])
        #expect(d.transition.from == .queued && d.transition.to == .sending && d.transition.at == Self.t0 + 1000)
        let sent = try #require(try apply(.published, d.command, at: 1100))
        #expect(sent.command.state == .sent && sent.command.sentAt == Self.t0 + 1100)
        #expect(sent.actions.isEmpty)
        // Dispatching or publishing again changes nothing.
        #expect(try apply(.dispatch, d.command, at: 1200) == nil)
        #expect(try apply(.dispatch, sent.command, at: 1200) == nil)
        #expect(try apply(.published, sent.command, at: 1200) == nil)
        #expect(try apply(.published, c, at: 1200) == nil)
    }

    @Test func dispatchAtOrAfterExpiryExpiresInsteadNeverBoth() throws {
        let c = try queued(expiresIn: 60_000)
        let d = try #require(try apply(.dispatch, c, at: 60_000))
        #expect(d.command.state == .expired && d.actions.isEmpty && d.command.sendingAt == nil)
        #expect(d.command.finishedAt == Self.t0 + 60_000)
        #expect(try apply(.dispatch, d.command, at: 60_001) == nil)
    }

    @Test func tickExpiresAQueuedCommandOnlyAtItsExpiry() throws {
        let c = try queued(expiresIn: 60_000)
        #expect(try apply(.tick, c, at: 59_999) == nil)
        let d = try #require(try apply(.tick, c, at: 60_000))
        #expect(d.command.state == .expired && d.transition.by == "system" && d.command.detail != nil)
        #expect(c.nextDeadline == Self.t0 + 60_000)
        #expect(d.command.nextDeadline == nil)
    }

    // MARK: replies

    @Test func replyOkAcknowledgesFromSentAndFromSending() throws {
        let sending = try #require(try apply(.dispatch, try queued(), at: 0)).command
        let sent = try #require(try apply(.published, sending, at: 10)).command
        for c in [sending, sent] {
            let d = try #require(try apply(.reply(.ok, detail: "已开启"), c, at: 500, by: "device:pond-01"))
            #expect(d.command.state == .acknowledged && d.command.repliedAt == Self.t0 + 500)
            #expect(d.command.detail == "已开启" && d.transition.by == "device:pond-01")
            #expect(d.command.sentAt != nil)
            // Awaiting the state metric: not finished, no "responded" yet.
            #expect(!d.command.isFinished && d.actions.isEmpty)
            #expect(d.command.nextDeadline == Self.t0 + 180_000)
            // The same reply again (redelivery) changes nothing.
            #expect(try apply(.reply(.ok, detail: "已开启"), d.command, at: 600) == nil)
        }
    }

    @Test func replyOkWithoutStateMetricFinishes() throws {
        let spec = CommandSpec(name: "reboot", description: "重启")
        let c = try #require(try apply(.dispatch, try queued(spec), at: 0)).command
        let d = try #require(try apply(.reply(.ok, detail: nil), c, at: 100))
        #expect(d.command.isFinished && d.actions == [.actuatorResponded])
    }

    @Test func replyFailedFailsAndReportsTheActuator() throws {
        let c = try #require(try apply(.dispatch, try queued(), at: 0)).command
        let d = try #require(try apply(.reply(.failed, detail: "relay stuck"), c, at: 100))
        #expect(d.command.state == .failed && d.command.detail == "relay stuck" && d.command.finishedAt == Self.t0 + 100)
        guard case .actuatorUnresponsive(let reason)? = d.actions.first else {
            Issue.record("no unresponsive action")
            return
        }
        #expect(reason.contains("relay stuck"))
        #expect(try apply(.reply(.failed, detail: "relay stuck"), d.command, at: 200) == nil)
    }

    @Test func repliesThatDoNotApplyAreRefused() throws {
        let q = try queued()
        #expect(throws: CommandRefusal.self) { try apply(.reply(.ok, detail: nil), q, at: 10) }
        let expired = try #require(try apply(.tick, q, at: CommandLifecycle.defaultExpiry)).command
        #expect(throws: CommandRefusal.self) { try apply(.reply(.ok, detail: nil), expired, at: CommandLifecycle.defaultExpiry + 1) }
        let sending = try #require(try apply(.dispatch, q, at: 0)).command
        let timedOut = try #require(try apply(.tick, sending, at: 60_000)).command
        #expect(timedOut.state == .timedOut)
        // A late reply does not resurrect a timed-out command.
        do {
            _ = try apply(.reply(.ok, detail: nil), timedOut, at: 61_000)
            Issue.record("late reply accepted")
        } catch { #expect(error.code == .conflict) }
        // An acknowledged command then replied failed: refused, stays acknowledged.
        let acked = try #require(try apply(.reply(.ok, detail: nil), sending, at: 100)).command
        #expect(throws: CommandRefusal.self) { try apply(.reply(.failed, detail: nil), acked, at: 200) }
    }

    // MARK: timers

    @Test func noReplyInTimeTimesOutAndReportsTheActuator() throws {
        let c = try #require(try apply(.dispatch, try queued(), at: 1000)).command
        #expect(c.nextDeadline == Self.t0 + 61_000)
        #expect(try apply(.tick, c, at: 60_999) == nil)
        let sent = try #require(try apply(.published, c, at: 1100)).command
        let d = try #require(try apply(.tick, sent, at: 61_000))
        #expect(d.command.state == .timedOut && d.transition.from == .sent && d.command.finishedAt == Self.t0 + 61_000)
        guard case .actuatorUnresponsive? = d.actions.first else {
            Issue.record("no unresponsive action")
            return
        }
        #expect(try apply(.tick, d.command, at: 120_000) == nil)
    }

    @Test func stateMetricConfirmsAnAcknowledgedCommand() throws {
        let sending = try #require(try apply(.dispatch, try queued(), at: 1000)).command
        let acked = try #require(try apply(.reply(.ok, detail: nil), sending, at: 2000)).command
        // Another value, or a report older than the sending, does not confirm.
        #expect(try apply(.stateReport(value: 0, at: Self.t0 + 3000), acked, at: 3000) == nil)
        #expect(try apply(.stateReport(value: 1, at: Self.t0 + 500), acked, at: 3000) == nil)
        let d = try #require(try apply(.stateReport(value: 1, at: Self.t0 + 4000), acked, at: 4100))
        #expect(d.command.state == .acknowledged && d.command.confirmedAt == Self.t0 + 4100)
        #expect(d.transition.from == .acknowledged && d.transition.to == .acknowledged)
        #expect(d.transition.note?.contains("aerator_on=1") == true)
        #expect(d.actions == [.actuatorResponded] && d.command.isFinished)
        #expect(try apply(.tick, d.command, at: 1_000_000) == nil)
        #expect(try apply(.stateReport(value: 1, at: Self.t0 + 5000), d.command, at: 5000) == nil)
    }

    @Test func stateReportedBeforeTheReplyCountsWhenTheReplyComes() throws {
        let sending = try #require(try apply(.dispatch, try queued(), at: 1000)).command
        let confirmed = try #require(try apply(.stateReport(value: 1, at: Self.t0 + 1500), sending, at: 1600))
        #expect(confirmed.command.state == .sending && confirmed.actions.isEmpty)
        let d = try #require(try apply(.reply(.ok, detail: nil), confirmed.command, at: 2000))
        #expect(d.command.isFinished && d.actions == [.actuatorResponded])
    }

    @Test func acknowledgedButNotConfirmedInTimeFails() throws {
        let sending = try #require(try apply(.dispatch, try queued(), at: 1000)).command
        let acked = try #require(try apply(.reply(.ok, detail: nil), sending, at: 2000)).command
        #expect(try apply(.tick, acked, at: 180_999) == nil)
        let d = try #require(try apply(.tick, acked, at: 181_000))
        #expect(d.command.state == .failed && d.transition.from == .acknowledged)
        #expect(d.command.detail?.contains("aerator_on") == true)
        guard case .actuatorUnresponsive? = d.actions.first else {
            Issue.record("no unresponsive action")
            return
        }
    }

    // MARK: cancel, recovery

    @Test func onlyAQueuedCommandCanBeCancelled() throws {
        let q = try queued()
        let d = try #require(try apply(.cancel(note: "不需要了"), q, at: 10, by: "陈伟"))
        #expect(d.command.state == .cancelled && d.transition.by == "陈伟" && d.transition.note == "不需要了")
        #expect(d.command.finishedAt == Self.t0 + 10)
        let sending = try #require(try apply(.dispatch, q, at: 0)).command
        let sent = try #require(try apply(.published, sending, at: 1)).command
        for c in [sending, sent, d.command] {
            do {
                _ = try apply(.cancel(note: nil), c, at: 20)
                Issue.record("cancelled a \(c.state) command")
            } catch { #expect(error.code == .conflict) }
        }
        // A cancelled command is never sent.
        #expect(try apply(.dispatch, d.command, at: 30) == nil)
    }

    @Test func recoveryNeverPublishesASendingCommandAgain() throws {
        let sending = try #require(try apply(.dispatch, try queued(), at: 1000)).command
        let d = try #require(try apply(.recovered, sending, at: 5000))
        #expect(d.command.state == .sending && d.actions.isEmpty)
        #expect(d.transition.from == .sending && d.transition.to == .sending && d.transition.note != nil)
        // Its deadline still counts from the first sending: it times out, it is not re-sent.
        #expect(try apply(.dispatch, d.command, at: 6000) == nil)
        #expect(try #require(try apply(.tick, d.command, at: 61_000)).command.state == .timedOut)
        // A reply still ends it.
        #expect(try #require(try apply(.reply(.ok, detail: nil), d.command, at: 7000)).command.state == .acknowledged)
        // Recovery changes nothing else.
        #expect(try apply(.recovered, try queued(), at: 5000) == nil)
    }

    @Test func finalStatesAreTerminal() throws {
        for state in CommandState.allCases {
            #expect(state.isTerminal == [.failed, .timedOut, .expired, .cancelled].contains(state))
        }
    }

    // MARK: payload

    @Test func payloadHasIdNameArgsIssuedExpires() throws {
        let spec = CommandSpec(
            name: "set_do_limits", description: "x",
            args: [
                CommandArgumentSpec(name: "lower", type: .number), CommandArgumentSpec(name: "upper", type: .number),
                CommandArgumentSpec(name: "mode", type: .string),
            ])
        let c = try queued(spec, args: ["upper": .number(6), "lower": .number(3.5), "mode": .string("a\"b")])
        let text = String(decoding: c.payload, as: UTF8.self)
        #expect(
            text
                == #"{"id":"c1","name":"set_do_limits","args":{"lower":3.5,"mode":"a\"b","upper":6},"issued":"2025-11-21T00:00:00.000Z","expires":"2025-11-21T00:10:00.000Z"}"#
        )
        let parsed = try JSONParser.parse(c.payload)
        guard case .object(let o) = parsed else {
            Issue.record("not an object")
            return
        }
        #expect(o.members.map(\.key) == ["id", "name", "args", "issued", "expires"])
    }

    @Test func commandIDsAreUniqueAndValid() {
        let ids = (0..<1000).map { _ in CommandID.make() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy(CommandID.isValid))
        #expect(!CommandID.isValid("../x") && !CommandID.isValid(""))
    }
}

extension CommandLifecycleTests {
    @Test func notBeforeHoldsDispatchAndMovesTheExpiry() throws {
        let d = try CommandLifecycle.issue(
            CommandRequest(device: "pond-01", name: "aerator_on", expiresIn: 60_000, by: "rule:do", notBefore: Self.t0 + 30_000),
            device: Self.pond, spec: Self.aeratorOn, id: "c1", now: Self.t0)
        #expect(d.command.notBefore == Self.t0 + 30_000 && d.command.expiresAt == Self.t0 + 90_000)
        #expect(try apply(.dispatch, d.command, at: 29_999) == nil)
        #expect(try apply(.tick, d.command, at: 29_999) == nil)
        #expect(try #require(try apply(.dispatch, d.command, at: 30_000)).command.state == .sending)
        // A past notBefore is none.
        let past = try CommandLifecycle.issue(
            CommandRequest(device: "pond-01", name: "aerator_on", by: "x", notBefore: Self.t0 - 1), device: Self.pond,
            spec: Self.aeratorOn, id: "c2", now: Self.t0)
        #expect(past.command.notBefore == nil)
    }
}
