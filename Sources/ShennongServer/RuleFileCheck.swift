import Foundation
import ShennongCore
import ShennongIngest
import ShennongRules

/// `shennong rules check FILE...`: rule files parsed here, without a server.
public enum RuleFileCheck {
    /// Every problem with file and line, or one OK line per file; `ok` when all parse.
    /// With `profiles`, every rule's `actions:` are checked against the profiles' commands too
    /// (each command declared by the selected profiles, with arguments they accept).
    public static func check(files: [String], profiles: [String: DeviceProfile]? = nil) -> (report: String, ok: Bool) {
        var report = ""
        var ok = true
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                report += "\(file): cannot read the file\n"
                ok = false
                continue
            }
            let (rules, errors) = RuleParser.parse(yaml: text, file: file)
            for error in errors { report += "\(error)\n" }
            var problems: [String] = []
            if let profiles, errors.isEmpty {
                for rule in rules {
                    problems += rule.checkActions(profiles: profiles).map { "\(file):\(rule.line): \($0)" }
                }
            }
            for problem in problems { report += "\(problem)\n" }
            if errors.isEmpty && problems.isEmpty {
                report += "\(file): \(rules.count) rule\(rules.count == 1 ? "" : "s") OK (\(rules.map(\.id).joined(separator: ", ")))\n"
            } else {
                ok = false
            }
        }
        return (report, ok)
    }

    /// ``check(files:profiles:)`` with the profiles of `profilesDirectory` (when it exists: rule
    /// actions are then checked against their commands).
    public static func check(files: [String], profilesDirectory: String) -> (report: String, ok: Bool) {
        guard FileManager.default.fileExists(atPath: profilesDirectory) else { return check(files: files) }
        do {
            return check(files: files, profiles: try ProfileRegistry.load(directory: profilesDirectory))
        } catch {
            return ("\(profilesDirectory): \(error)\n", false)
        }
    }
}
