import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ShennongClient
import ShennongCore
import ShennongServer
import ShennongSimulator

@main
struct Shennong: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shennong",
        abstract: "Shennong (神农): MQTT sensor ingest, early warnings and produce traceability for Guangdong's farms, ponds and villages.",
        discussion:
            "Messages and table headers are in Chinese (zh-CN); `--lang en` (before or after any verb) or SHENNONG_LANG=en "
            + "gives English. CSV headers and JSON keys are the API's names in every language. Times are local time (the "
            + "configuration's local_time, Beijing by default).",
        subcommands: [
            Serve.self, Simulate.self, Devices.self, Readings.self, Alerts.self, Rules.self, Trace.self, Tokens.self,
            DashboardCommand.self, DB.self,
        ])

    /// Chooses the language (`--lang`, else SHENNONG_LANG, else Chinese) before the command
    /// line is parsed, and runs the command with it as the CLI's language; then as
    /// swift-argument-parser's own `main` does.
    static func main() async {
        let language: Language
        let arguments: [String]
        do {
            (language, arguments) = try CLIStrings.choose(
                arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        } catch {
            exit(withError: ValidationError("\(error)"))
        }
        await CLIStrings.$language.withValue(language) {
            do {
                var command = try parseAsRoot(arguments)
                if var asyncCommand = command as? AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                exit(withError: error)
            }
        }
    }
}

/// Options of every staff command that talks to a running server.
struct StaffOptions: ParsableArguments {
    @Option(help: "Server URL (env SHENNONG_SERVER).")
    var server: String = ProcessInfo.processInfo.environment["SHENNONG_SERVER"] ?? "http://127.0.0.1:8080"

    @Option(help: "Bearer token (env SHENNONG_TOKEN).")
    var token: String?

    @Option(help: "Output format: table, csv or json.")
    var format: OutputFormat = .table

    func client() throws -> StaffClient {
        try StaffClient(server: server, token: token ?? ProcessInfo.processInfo.environment["SHENNONG_TOKEN"])
    }
}

/// Prints what a command made, as it is (it ends with its own newline).
func emit(_ text: String) {
    print(text, terminator: "")
}

/// A staff command: one answer from a running server, printed as it is. The command names
/// its options and what it asks; the client (server, token) and the output format come
/// from its ``StaffOptions``.
protocol StaffCommand: AsyncParsableCommand {
    var staff: StaffOptions { get }

    /// The text to print, asked of the server through `client`, written in `format`.
    func answer(_ client: StaffClient, format: OutputFormat) async throws -> String
}

extension StaffCommand {
    func run() async throws {
        emit(try await answer(try staff.client(), format: staff.format))
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// Options of admin commands that act on the database file.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Configuration file whose database.path is used.")
    var config: String = "Config/shennong.yaml"

    @Option(help: "Database file or postgres:// URL (overrides the configuration).")
    var db: String?
}

/// Log line format: `text` for people, `json` (one object per line) for log collectors.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

func bootstrapLogging(level: Logger.Level, format: LogFormat = .text) {
    LoggingSystem.bootstrap { label in
        switch format {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server: MQTT ingest, HTTP API and (with mqtt.broker: embedded) a local broker.")

    @Option(help: "Configuration file.")
    var config: String = "Config/shennong.yaml"

    @Option(help: "Also run the simulator with this many devices.")
    var simulate: Int?

    @Option(help: "Simulator rate, messages per second (with --simulate).")
    var rate: Double?

    @Option(help: "Play a scripted episode with the simulator: rainstorm, do-crash, drought, fire, flood, silent, backfill or aerator (implies --simulate).")
    var scenario: Scenario?

    @Flag(help: "Also run two simulated ponds with aerators that obey commands (pond 02's ignores them): the closed loop of 自动控制.")
    var aeratorPonds = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: text or json (one JSON object per line; env SHENNONG_LOG_FORMAT).")
    var logFormat: LogFormat = LogFormat(rawValue: ProcessInfo.processInfo.environment["SHENNONG_LOG_FORMAT"] ?? "") ?? .text

    @Flag(help: "Validate the configuration, device profiles and rule files, print every error (file:line) and exit.")
    var check = false

    func run() async throws {
        if check {
            let report = ServeCheck.run(configPath: config, requireFile: config != "Config/shennong.yaml")
            let words = CLIStrings.current
            for error in report.errors { print(words.checkError("\(error)")) }
            if report.isValid {
                print(words.checkOK(report.checked.joined(separator: "; ")))
                return
            }
            print(words.errorsFound(report.errors.count))
            throw ExitCode(1)
        }
        bootstrapLogging(level: logLevel, format: logFormat)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var settings = try ServerConfig.load(path: config, requireFile: config != "Config/shennong.yaml")
        if let simulate {
            settings.simulator.enabled = true
            settings.simulator.devices = simulate
        }
        if let rate { settings.simulator.rate = rate }
        if let scenario {
            settings.simulator.enabled = true
            settings.simulator.scenario = scenario.rawValue
        }
        if aeratorPonds { settings.simulator.aeratorPonds = true }
        try await ShennongServer.run(config: settings, registry: registry, logger: Logger(label: "shennong"))
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish realistic readings for N simulated devices across the five domains.")

    @Option(help: "Number of devices (spread over water, soil, weather, fire, flood).")
    var devices: Int = 25

    @Option(help: "Messages per second, all devices together.")
    var rate: Double = 5

    @Option(help: "Random seed: the same seed gives the same readings.")
    var seed: UInt64 = 1

    @Option(help: "Stop after this many messages.")
    var count: Int?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Broker host.")
    var host: String = "127.0.0.1"

    @Option(help: "Broker port.")
    var port: Int = 1883

    @Option(help: "Topic prefix.")
    var prefix: String = "agri"

    @Option(help: "Play a scripted episode instead of the steady model: rainstorm, do-crash, drought, fire, flood, silent, backfill or aerator (timestamps end now; aerator then runs its ponds live until stopped; deterministic for --seed).")
    var scenario: Scenario?

    func run() async throws {
        bootstrapLogging(level: .info)
        try await SimulateCommand.run(
            options: .init(devices: devices, rate: rate, seed: seed, count: count,
                           duration: duration.map { .milliseconds(Int64($0 * 1000)) }, topicPrefix: prefix, scenario: scenario),
            host: host, port: port)
    }
}

// Tokens: TokenCommands.swift

extension Role: ExpressibleByArgument {}

extension Scenario: ExpressibleByArgument {}
