/// One change of a command: from which state to which, when, by whom, and a note.
///
/// A transition whose `from` equals `to` records an event that did not change the state (the
/// state metric confirmed an acknowledged command; a restart found it being sent).
public struct CommandTransition: Sendable, Hashable, Codable {
    /// The store's id; 0 until written.
    public var id: Int64
    public var commandID: String
    /// The state before; `nil` when the command was issued.
    public var from: CommandState?
    public var to: CommandState
    /// Wall clock (ms).
    public var at: Int64
    /// `system`, the device (`device:{id}`), or the person who made it.
    public var by: String
    public var note: String?

    public init(id: Int64 = 0, commandID: String, from: CommandState?, to: CommandState, at: Int64, by: String, note: String?) {
        self.id = id
        self.commandID = commandID
        self.from = from
        self.to = to
        self.at = at
        self.by = by
        self.note = note
    }
}

/// A device's answer on `{prefix}/{device}/command/reply`: `{"id", "status": "ok"|"failed", "detail"}`.
public struct CommandReply: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case ok
        case failed
    }

    public var id: String
    public var status: Status
    public var detail: String?

    public init(id: String, status: Status, detail: String? = nil) {
        self.id = id
        self.status = status
        self.detail = detail
    }
}
