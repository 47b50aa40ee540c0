import Foundation
import ShennongProcess

/// The result of one CLI run.
public struct CLIResult: Sendable {
    public var status: Int32
    public var output: String
}

/// Where the `shennong` binary under test is: `SHENNONG_BIN` (set by `make test`), else the
/// debug build of this package.
public enum ShennongBinary {
    public static var path: String {
        if let path = ProcessInfo.processInfo.environment["SHENNONG_BIN"], !path.isEmpty { return path }
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/shennong").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return ".build/debug/shennong"
    }

    /// The repository root (where `devices/` lives).
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("devices/generic.yaml").path) {
                return url
            }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// Runs the CLI with `arguments` and waits (at most `timeout` seconds) for it to finish.
    public static func run(_ arguments: [String], timeout: TimeInterval = 60, environment: [String: String] = [:]) throws
        -> CLIResult
    {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-cli-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(executable: path, arguments: arguments, outputPath: output, environment: environment)
        guard let status = process.wait(timeout: timeout) else {
            process.signal(SIGKILL)
            throw TestBrokerError("shennong \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
        }
        return CLIResult(status: status, output: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
