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

/// Runs `script` on the SQLite file at `path` with the sqlite3 tool (`options`, such as
/// `-separator " "`, before the file) and returns its output rows; throws unless it exits 0.
/// Tests use it to read or alter a database behind the store's back (tampering, old formats).
@discardableResult
public func sqlite3(_ path: String, _ script: String, options: [String] = []) throws -> String {
    let result = try runTool(["sqlite3"] + options + [path, script])
    guard result.status == 0 else {
        throw TestBrokerError("sqlite3 exited \(result.status) on \(script.prefix(200)): \(result.output)")
    }
    return result.output
}
