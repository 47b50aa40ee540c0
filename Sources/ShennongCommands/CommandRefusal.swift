import ShennongCore

/// Why a command was refused or an event on it did not apply.
public enum CommandRefusalCode: String, Sendable, Hashable {
    /// No such command.
    case notFound = "not_found"
    /// No such device.
    case unknownDevice = "unknown_device"
    /// The device's profile does not declare the command.
    case unknownCommand = "unknown_command"
    /// An argument is missing, undeclared, of the wrong type or out of range; or an expiry is not in the future.
    case invalidArgument = "invalid_argument"
    /// The command's state does not allow it (cancelling a sent command, a reply to a command never sent).
    case conflict = "conflict"
}

/// A refusal of the command lifecycle, with a stable code and a message (Chinese first).
public typealias CommandRefusal = CodedError<CommandRefusalCode>
