import ArgumentParser
import Foundation
import ShennongClient
import ShennongServer

/// `shennong alerts ...`: graded early warnings and their closed loop.
struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Early warnings (预警): list, show, acknowledge, resolve, close, export as CAP.",
        subcommands: [List.self, Show.self, Ack.self, Resolve.self, Close.self, Export.self])

    struct List: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "List alerts, newest first.")
        @Flag(help: "Only open or acknowledged alerts.") var open = false
        @Option(help: "Only this status: open, acknowledged, resolved, closed.") var status: String?
        @Option(help: "Only this level: blue, yellow, orange, red.") var level: String?
        @Option(help: "Only this domain.") var domain: String?
        @Option(help: "Only this device.") var device: String?
        @Option(help: "Only this rule.") var rule: String?
        @Option(help: "Most alerts to list.") var limit = 200
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.list(
                client, open: open, status: status, level: level, domain: domain, device: device, rule: rule, limit: limit, format: format)
        }
    }

    struct Show: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "One alert with every transition (who, when, note).")
        @Argument(help: "Alert id.") var id: Int64
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.show(client, id: id, format: format)
        }
    }

    struct Ack: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an open alert (operator).")
        @Argument(help: "Alert id.") var id: Int64
        @Option(help: "What is being done.") var note: String?
        @Option(help: "Who (defaults to the token's name).") var by: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.act(client, action: "ack", id: id, note: note, by: by, format: format)
        }
    }

    struct Resolve: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an alert handled (operator).")
        @Argument(help: "Alert id.") var id: Int64
        @Option(help: "What was done.") var note: String?
        @Option(help: "Who (defaults to the token's name).") var by: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.act(client, action: "resolve", id: id, note: note, by: by, format: format)
        }
    }

    struct Close: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Close a resolved alert with a note (operator).")
        @Argument(help: "Alert id.") var id: Int64
        @Option(help: "How it ended (required).") var note: String
        @Option(help: "Who (defaults to the token's name).") var by: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.act(client, action: "close", id: id, note: note, by: by, format: format)
        }
    }

    struct Export: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Export alerts as CAP 1.2 XML.")
        @Flag(help: "CAP 1.2 XML (the only export format).") var cap = false
        @Argument(help: "Alert ids (default: every alert, or the open ones with --open).") var ids: [Int64] = []
        @Flag(help: "Only open or acknowledged alerts.") var open = false
        @Option(help: "Write one file per alert into this directory.") var out: String?
        @OptionGroup var staff: StaffOptions

        func validate() throws {
            guard cap else { throw ValidationError(CLIStrings.current.capRequired) }
        }

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.exportCAP(client, ids: ids, open: open, directory: out)
        }
    }
}

/// `shennong rules ...`: the warning rules.
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Warning rules (预警规则): list, check a file, replay over stored history.",
        subcommands: [List.self, Check.self, Replay.self])

    struct List: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "The rules the server has in force.")
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.rules(client, format: format)
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check rule files; errors name the file and line (exit 1).")
        @Argument(help: "Rule files (YAML).") var files: [String]
        @Option(help: "Device profiles directory: rule actions are checked against the commands its profiles declare.")
        var profiles: String = "devices"

        func run() async throws {
            let (report, ok) = RuleFileCheck.check(files: files, profilesDirectory: profiles)
            print(report, terminator: "")
            if !ok { throw ExitCode(1) }
        }
    }

    struct Replay: StaffCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the rules over a device's stored history and print the alerts they would have raised (writes nothing).")
        @Option(help: "Device id.") var device: String
        @Option(help: "Start: RFC 3339, epoch s/ms, now, or -7d.") var from: String = "-7d"
        @Option(help: "End (exclusive), same forms.") var to: String = "now"
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await AlertCommands.replay(client, device: device, from: from, to: to, format: format)
        }
    }
}
