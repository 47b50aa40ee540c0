import ArgumentParser
import ShennongServer

/// `shennong trace ...`: one item, one code (一物一码).
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Traceability (一物一码): producers, plots, batches, codes, events, verify, recall, export.")
}
