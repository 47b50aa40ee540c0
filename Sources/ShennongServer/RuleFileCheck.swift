import Foundation
import ShennongRules

/// `shennong rules check FILE...`: rule files parsed here, without a server.
public enum RuleFileCheck {
    /// Every problem with file and line, or one OK line per file; `ok` when all parse.
    public static func check(files: [String]) -> (report: String, ok: Bool) {
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
            if errors.isEmpty {
                report += "\(file): \(rules.count) rule\(rules.count == 1 ? "" : "s") OK (\(rules.map(\.id).joined(separator: ", ")))\n"
            } else {
                ok = false
            }
        }
        return (report, ok)
    }
}
