import ArgumentParser
import Foundation
import ShennongClient

/// `shennong devices command …` and `shennong devices commands`.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "command",
        abstract: "Send a command to a device (operator), show one, or cancel a queued one. 发送设备命令。",
        subcommands: [Send.self, Show.self, Cancel.self], defaultSubcommand: Send.self)

    struct Send: StaffCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a command the device's profile declares: devices command ID NAME [--arg k=v …] [--expires 10m].",
            discussion: """
                The command is queued, sent when the device is online (agri/{device}/status), and
                expires if it could not be sent in time. Arguments are checked against the profile.
                """)
        @Argument(help: "Device id.") var device: String
        @Argument(help: "Command name (as the device's profile declares it).") var name: String
        @Option(name: .customLong("arg"), help: "An argument name=value (repeatable).") var args: [String] = []
        @Option(help: "How long it may wait to be sent (30s, 10m, 2h, 1d; default 10m).") var expires: String?
        @Option(help: "Who (defaults to the token's name).") var by: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await ControlCommands.send(client, device: device, name: name, args: args, expires: expires, by: by, format: format)
        }
    }

    struct Show: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "One command with every transition (who, when, note).")
        @Argument(help: "Command id.") var id: String
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await ControlCommands.show(client, id: id, format: format)
        }
    }

    struct Cancel: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued command (operator). 取消排队中的命令。")
        @Argument(help: "Command id.") var id: String
        @Option(help: "Why.") var note: String?
        @Option(help: "Who (defaults to the token's name).") var by: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await ControlCommands.cancel(client, id: id, note: note, by: by, format: format)
        }
    }
}

/// `shennong devices commands [ID] [--state S]`.
struct DeviceCommandList: StaffCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands", abstract: "List device commands, newest first. 命令记录。")
    @Argument(help: "Only this device's commands.") var device: String?
    @Option(help: "Only this state: queued, sending, sent, acknowledged, failed, timed_out, expired, cancelled.") var state: String?
    @Option(help: "Only commands of this rule's automation.") var rule: String?
    @Option(help: "Most commands to list.") var limit = 200
    @OptionGroup var staff: StaffOptions

    func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
        try await ControlCommands.list(client, device: device, state: state, rule: rule, limit: limit, format: format)
    }
}
