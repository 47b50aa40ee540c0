import ArgumentParser
import ShennongServer

/// `shennong alerts ...`: graded early warnings and their closed loop.
struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Early warnings (预警): list, show, acknowledge, resolve, close, export as CAP.")
}

/// `shennong rules ...`: the warning rules.
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Warning rules (预警规则): list, check a file, replay over stored history.")
}
