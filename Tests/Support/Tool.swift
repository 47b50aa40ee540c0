import Foundation
import ShennongProcess

/// Runs a system tool (`openssl`, `mosquitto_passwd`, `mount`, …) found on PATH and waits
/// at most `timeout` seconds; its standard output and error together.
public func runTool(_ arguments: [String], timeout: TimeInterval = 60) throws -> CLIResult {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-tool-\(UUID().uuidString).out").path
    defer { try? FileManager.default.removeItem(atPath: output) }
    let process = try ChildProcess(executable: "/usr/bin/env", arguments: arguments, outputPath: output)
    guard let status = process.wait(timeout: timeout) else {
        process.signal(SIGKILL)
        _ = process.wait(timeout: 5)
        throw TestBrokerError("\(arguments.joined(separator: " ")) did not finish in \(timeout) s")
    }
    return CLIResult(status: status, output: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
}
