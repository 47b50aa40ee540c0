import Foundation
import ShennongCommands
import ShennongCore
import Testing

extension StoreEngine {
    /// A fresh store of this engine as a ``CommandStore``; an engine that does not open that
    /// door yet fails here by name (rather than being skipped).
    func openCommands() throws -> any CommandStore {
        let store = try open(StoreOptions())
        guard let commands = store as? any CommandStore else {
            throw StoreError(.invalidArgument, "engine \(name) does not implement CommandStore")
        }
        return commands
    }
}

/// The command persistence door on every engine: issued commands and the lifecycle's decisions
/// written and read back field for field, refusals as store errors, transitions in order, queries.
@Suite("store contract: commands")
struct CommandContractTests {
    typealias F = Fixture
    static let spec = CommandSpec(
        name: "set_do_limits", description: "设置溶氧上下限",
        args: [CommandArgumentSpec(name: "lower", type: .number), CommandArgumentSpec(name: "mode", type: .string, required: false)],
        state: CommandStateSpec(metric: "aerator_on", value: 1), replyWithin: 60, confirmWithin: 180)

    static func issue(
        _ id: String, device: String = "pond-1", at m: Int64 = 0, by: String = "陈伟", origin: CommandOrigin = .person
    ) throws -> CommandDecision {
        try CommandLifecycle.issue(
            CommandRequest(
                device: device, name: "set_do_limits", args: ["lower": .number(3.5), "mode": .string("夜间")],
                expiresIn: 600_000, by: by, origin: origin),
            device: F.device(device), spec: spec, id: id, now: F.t0 + m)
    }

    @Test("an issued command reads back field for field with its first transition", arguments: StoreEngine.all)
    func insertAndRead(engine: StoreEngine) throws {
        let store = try engine.openCommands()
        let decision = try Self.issue("c1", origin: CommandOrigin(rule: "pond-do-aerator", alert: 42, trigger: "orange"))
        let written = try store.insertCommand(decision)
        #expect(written.transition.id > 0)
        #expect(try store.command(id: "c1") == decision.command)
        #expect(try store.command(id: "c2") == nil)
        let transitions = try store.commandTransitions(id: "c1")
        #expect(transitions.count == 1)
        #expect(transitions.first?.from == nil && transitions.first?.to == .queued && transitions.first?.by == "陈伟")
        #expect(transitions.first?.id == written.transition.id)
        // The same id twice is refused.
        #expect(throws: StoreError.self) { try store.insertCommand(decision) }
    }

    @Test("events persisted: dispatch, publish, reply, confirm; every field and every transition reads back", arguments: StoreEngine.all)
    func lifecycle(engine: StoreEngine) throws {
        let store = try engine.openCommands()
        _ = try store.insertCommand(try Self.issue("c1"))
        let sending = try #require(try store.applyCommandEvent(id: "c1", event: .dispatch, by: "system", now: F.t0 + 10))
        #expect(sending.actions == [.publish] && sending.command.state == .sending)
        #expect(try store.command(id: "c1") == sending.command)
        // Dispatching again changes nothing and records nothing.
        #expect(try store.applyCommandEvent(id: "c1", event: .dispatch, by: "system", now: F.t0 + 11) == nil)
        _ = try store.applyCommandEvent(id: "c1", event: .published, by: "system", now: F.t0 + 20)
        let acked = try #require(
            try store.applyCommandEvent(id: "c1", event: .reply(.ok, detail: "已设置"), by: "device:pond-1", now: F.t0 + 30))
        #expect(acked.command.state == .acknowledged && acked.command.detail == "已设置")
        let confirmed = try #require(
            try store.applyCommandEvent(id: "c1", event: .stateReport(value: 1, at: F.t0 + 35), by: "device:pond-1", now: F.t0 + 40))
        let read = try #require(try store.command(id: "c1"))
        #expect(read == confirmed.command)
        #expect(read.sendingAt == F.t0 + 10 && read.sentAt == F.t0 + 20 && read.repliedAt == F.t0 + 30)
        #expect(read.confirmedAt == F.t0 + 40 && read.isFinished)
        let transitions = try store.commandTransitions(id: "c1")
        #expect(transitions.map(\.to) == [.queued, .sending, .sent, .acknowledged, .acknowledged])
        #expect(transitions.map(\.by) == ["陈伟", "system", "system", "device:pond-1", "device:pond-1"])
        #expect(transitions.map(\.at) == [F.t0, F.t0 + 10, F.t0 + 20, F.t0 + 30, F.t0 + 40])
        #expect(transitions.map(\.id) == transitions.map(\.id).sorted() && Set(transitions.map(\.id)).count == 5)
    }

    @Test("refusals are store errors and change nothing: not found, cancelling a sent command, a reply to a queued one", arguments: StoreEngine.all)
    func refusals(engine: StoreEngine) throws {
        let store = try engine.openCommands()
        do {
            _ = try store.applyCommandEvent(id: "nope", event: .tick, by: "system", now: F.t0)
            Issue.record("no error for a missing command")
        } catch let error as StoreError { #expect(error.code == .notFound) }
        _ = try store.insertCommand(try Self.issue("c1"))
        do {
            _ = try store.applyCommandEvent(id: "c1", event: .reply(.ok, detail: nil), by: "device:pond-1", now: F.t0 + 1)
            Issue.record("reply to a queued command accepted")
        } catch let error as StoreError { #expect(error.code == .conflict) }
        _ = try store.applyCommandEvent(id: "c1", event: .dispatch, by: "system", now: F.t0 + 2)
        do {
            _ = try store.applyCommandEvent(id: "c1", event: .cancel(note: nil), by: "陈伟", now: F.t0 + 3)
            Issue.record("cancelled a command being sent")
        } catch let error as StoreError { #expect(error.code == .conflict) }
        #expect(try store.command(id: "c1")?.state == .sending)
        #expect(try store.commandTransitions(id: "c1").count == 2)
    }

    @Test("queries: by device, state, rule, alert, automatic or not, issue time; newest first; limit", arguments: StoreEngine.all)
    func queries(engine: StoreEngine) throws {
        let store = try engine.openCommands()
        _ = try store.insertCommand(try Self.issue("c1", device: "pond-1", at: 0))
        _ = try store.insertCommand(
            try Self.issue("c2", device: "pond-1", at: 1, by: "rule:do", origin: CommandOrigin(rule: "do", alert: 7, trigger: "orange")))
        _ = try store.insertCommand(
            try Self.issue("c3", device: "pond-2", at: 2, by: "rule:do", origin: CommandOrigin(rule: "do", alert: 8, trigger: "clear")))
        _ = try store.insertCommand(try Self.issue("c4", device: "pond-2", at: 3))
        _ = try store.applyCommandEvent(id: "c4", event: .cancel(note: "不需要"), by: "陈伟", now: F.t0 + 4)
        func ids(_ q: CommandQuery) throws -> [String] { try store.commands(q).map(\.id) }
        #expect(try ids(CommandQuery()) == ["c4", "c3", "c2", "c1"])
        #expect(try ids(CommandQuery(device: "pond-1")) == ["c2", "c1"])
        #expect(try ids(CommandQuery(states: [.cancelled])) == ["c4"])
        #expect(try ids(CommandQuery(states: CommandQuery.unfinishedStates)) == ["c3", "c2", "c1"])
        #expect(try ids(CommandQuery(rule: "do")) == ["c3", "c2"])
        #expect(try ids(CommandQuery(alert: 7)) == ["c2"])
        #expect(try ids(CommandQuery(automatic: true)) == ["c3", "c2"])
        #expect(try ids(CommandQuery(automatic: false)) == ["c4", "c1"])
        #expect(try ids(CommandQuery(issuedSince: F.t0 + 2)) == ["c4", "c3"])
        #expect(try ids(CommandQuery(device: "pond-2", automatic: false)) == ["c4"])
        #expect(try ids(CommandQuery(limit: 2)) == ["c4", "c3"])
        let c3 = try #require(try store.command(id: "c3"))
        #expect(c3.origin == CommandOrigin(rule: "do", alert: 8, trigger: "clear") && c3.issuedBy == "rule:do")
    }
}
