import Foundation
import GRDB
import ShennongCommands
import ShennongCore

/// A row of `commands`. Arguments are a JSON object (keys sorted); the origin is three
/// columns (`rule`, `alert_id`, `trigger`), the confirming state two (`confirm_metric`, `confirm_value`).
struct CommandRow: Codable, SnakeCaseColumns, FetchableRecord, PersistableRecord {
    static let databaseTableName = "commands"

    var id: String
    var device: String
    var name: String
    var args: String
    var state: String
    var issuedBy: String
    var rule: String?
    var alertId: Int64?
    var trigger: String?
    var issuedAt: Int64
    var expiresAt: Int64
    var notBefore: Int64?
    var replyWithin: Int64
    var confirmMetric: String?
    var confirmValue: Double?
    var confirmWithin: Int64
    var sendingAt: Int64?
    var sentAt: Int64?
    var repliedAt: Int64?
    var confirmedAt: Int64?
    var finishedAt: Int64?
    var detail: String?
    var updatedAt: Int64

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    init(_ c: CommandRecord) throws {
        id = c.id
        device = c.device
        name = c.name
        args = String(decoding: try Self.encoder.encode(c.args), as: UTF8.self)
        state = c.state.rawValue
        issuedBy = c.issuedBy
        rule = c.origin.rule
        alertId = c.origin.alert
        trigger = c.origin.trigger
        issuedAt = c.issuedAt
        expiresAt = c.expiresAt
        notBefore = c.notBefore
        replyWithin = c.replyWithin
        confirmMetric = c.confirm?.metric
        confirmValue = c.confirm?.value
        confirmWithin = c.confirmWithin
        sendingAt = c.sendingAt
        sentAt = c.sentAt
        repliedAt = c.repliedAt
        confirmedAt = c.confirmedAt
        finishedAt = c.finishedAt
        detail = c.detail
        updatedAt = c.updatedAt
    }

    func command() throws -> CommandRecord {
        guard let state = CommandState(rawValue: state) else {
            throw StoreError(.corrupt, "command \(id) has an unknown state \(self.state)")
        }
        let args: [String: CommandValue]
        do {
            args = try JSONDecoder().decode([String: CommandValue].self, from: Data(self.args.utf8))
        } catch {
            throw StoreError(.corrupt, "command \(id) has arguments that are not a JSON object: \(self.args)")
        }
        return CommandRecord(
            id: id, device: device, name: name, args: args, state: state, issuedBy: issuedBy,
            origin: CommandOrigin(rule: rule, alert: alertId, trigger: trigger), issuedAt: issuedAt, expiresAt: expiresAt,
            notBefore: notBefore, replyWithin: replyWithin,
            confirm: confirmMetric.flatMap { m in confirmValue.map { CommandStateSpec(metric: m, value: $0) } },
            confirmWithin: confirmWithin, sendingAt: sendingAt, sentAt: sentAt, repliedAt: repliedAt,
            confirmedAt: confirmedAt, finishedAt: finishedAt, detail: detail, updatedAt: updatedAt)
    }
}

/// A row of `command_transitions`.
struct CommandTransitionRow: Codable, SnakeCaseColumns, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "command_transitions"

    var id: Int64?
    var commandId: String
    var fromState: String?
    var toState: String
    var at: Int64
    var by: String
    var note: String?

    init(_ t: CommandTransition) {
        id = t.id == 0 ? nil : t.id
        commandId = t.commandID
        fromState = t.from?.rawValue
        toState = t.to.rawValue
        at = t.at
        by = t.by
        note = t.note
    }

    var transition: CommandTransition {
        CommandTransition(
            id: id ?? 0, commandID: commandId, from: fromState.flatMap(CommandState.init(rawValue:)),
            to: CommandState(rawValue: toState) ?? .queued, at: at, by: by, note: note)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
