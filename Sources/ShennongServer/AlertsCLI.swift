import ShennongCore
import Foundation
import ShennongRules

/// What `shennong alerts ...` and `shennong rules ...` do; the executable only parses arguments.
public enum AlertsCLI {
    public static let listColumns = ["id", "level", "status", "rule", "device", "value", "threshold", "raised_at", "title"]
    public static let transitionColumns = ["id", "kind", "from_level", "to_level", "status", "at", "by", "note"]

    /// `alerts list`: the rows.
    public static func list(
        client: StaffClient, open: Bool, status: String?, level: String?, domain: String?, device: String?, rule: String?, limit: Int
    ) async throws -> [[String: Any]] {
        let body = try await client.get(
            "api/v1/alerts",
            query: [
                "open": open ? "true" : nil, "status": status, "level": level, "domain": domain, "device": device, "rule": rule,
                "limit": String(limit),
            ])
        return body["alerts"] as? [[String: Any]] ?? []
    }

    /// `alerts show ID`: the alert with its transitions.
    public static func show(client: StaffClient, id: Int64, format: OutputFormat) async throws -> String {
        let body = try await client.get("api/v1/alerts/\(id)")
        if format == .json { return format.render([body], columns: []) }
        let fields = [
            "id", "title", "level", "peak_level", "status", "rule", "rule_name", "device", "domain", "metric", "value",
            "threshold", "raised_at", "updated_at", "late", "message", "instruction", "acknowledged_by", "acknowledged_at",
            "resolved_by", "resolved_at", "closed_by", "closed_at", "contact_tier",
        ]
        let rows = fields.compactMap { key -> [String: Any]? in
            guard let value = body[key], !(value is NSNull) else { return nil }
            return ["field": key, "value": OutputFormat.text(value)]
        }
        let transitions = body["transitions"] as? [[String: Any]] ?? []
        return format.render(rows, columns: ["field", "value"]) + "\n" + format.render(transitions, columns: transitionColumns)
    }

    /// `alerts ack|resolve|close ID`: the alert after the transition.
    public static func act(client: StaffClient, action: String, id: Int64, note: String?, by: String?) async throws -> [String: Any] {
        var body: [String: Any] = [:]
        if let note { body["note"] = note }
        if let by { body["by"] = by }
        return try await client.post("api/v1/alerts/\(id)/\(action)", body: body)
    }

    /// `alerts export --cap`: the CAP XML of each alert, to stdout or one file per alert in `directory`.
    public static func exportCAP(client: StaffClient, ids: [Int64], open: Bool, directory: String?) async throws -> String {
        var ids = ids
        if ids.isEmpty {
            let rows = try await list(client: client, open: open, status: nil, level: nil, domain: nil, device: nil, rule: nil, limit: 10_000)
            ids = rows.compactMap { ($0["id"] as? NSNumber)?.int64Value }
        }
        guard !ids.isEmpty else { throw ClientError("no alerts to export (give alert ids, or --open)") }
        if ids.count > 1 && directory == nil {
            throw ClientError("\(ids.count) alerts: give --out DIR (one CAP file per alert) or one alert id")
        }
        var out = ""
        for id in ids {
            let xml = try await client.getText("api/v1/alerts/\(id)/cap")
            if let directory {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let path = (directory as NSString).appendingPathComponent("alert-\(id).cap.xml")
                try xml.write(toFile: path, atomically: true, encoding: .utf8)
                out += "\(path)\n"
            } else {
                out += xml
            }
        }
        return out
    }

    /// `rules check FILE...`: every problem with file and line; empty when all is well.
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
