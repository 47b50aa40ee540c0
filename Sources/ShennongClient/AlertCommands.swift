import Foundation
import ShennongAPI
import ShennongCore

/// `shennong alerts ...` and the server-side `rules` verbs.
public enum AlertCommands {
    public static let listColumns = ["id", "level", "status", "rule", "device", "value", "threshold", "raised_at", "title"]
    public static let transitionColumns = ["id", "kind", "from_level", "to_level", "status", "at", "by", "note"]
    /// The fields `alerts show` lists, in order (absent ones left out).
    static let showFields = [
        "id", "title", "level", "peak_level", "status", "rule", "rule_name", "device", "domain", "metric", "value",
        "threshold", "raised_at", "updated_at", "late", "message", "instruction", "acknowledged_by", "acknowledged_at",
        "resolved_by", "resolved_at", "closed_by", "closed_at", "contact_tier",
    ]

    /// The alerts of a listing.
    public static func alerts(
        _ client: StaffClient, open: Bool, status: String?, level: String?, domain: String?, device: String?, rule: String?,
        limit: Int
    ) async throws -> [API.Alert] {
        try await client.get(
            API.AlertList.self, "api/v1/alerts",
            query: [
                "open": open ? "true" : nil, "status": status, "level": level, "domain": domain, "device": device, "rule": rule,
                "limit": String(limit),
            ]
        ).alerts
    }

    /// `alerts list`.
    public static func list(
        _ client: StaffClient, open: Bool, status: String?, level: String?, domain: String?, device: String?, rule: String?,
        limit: Int, format: OutputFormat
    ) async throws -> String {
        let alerts = try await alerts(client, open: open, status: status, level: level, domain: domain, device: device, rule: rule, limit: limit)
        return try format.render(alerts, columns: listColumns)
    }

    /// `alerts show ID`: the alert with its transitions.
    public static func show(_ client: StaffClient, id: Int64, format: OutputFormat) async throws -> String {
        let detail = try await client.get(API.AlertDetail.self, "api/v1/alerts/\(id)")
        if format == .json { return try format.render([detail], columns: []) }
        let alert = try JSONValue(encoding: detail.alert)
        // A table names each field in the CLI's language; CSV by its key.
        let strings = CLIStrings.current
        let rows = showFields.compactMap { key -> JSONValue? in
            guard let value = alert[key], value != .null else { return nil }
            let field = format == .table ? strings.header(for: key) : key
            return OutputFormat.row(["field": .string(field), "value": .string(OutputFormat.text(value))])
        }
        var out = format.render(rows, columns: ["field", "value"]) + "\n"
            + (try format.render(detail.transitions, columns: transitionColumns))
        // The commands its rule sent because of it (自动控制), when the server has commands.
        if let commands = try? await client.get(API.CommandList.self, "api/v1/commands", query: ["alert": String(id)]).commands,
            !commands.isEmpty
        {
            out += "\n" + (try format.render(commands, columns: ["id", "name", "trigger", "state", "state_zh", "issued_at", "detail"]))
        }
        return out
    }

    /// `alerts ack|resolve|close ID`: the alert after the transition.
    public static func act(
        _ client: StaffClient, action: String, id: Int64, note: String?, by: String?, format: OutputFormat
    ) async throws -> String {
        let alert = try await client.post(API.Alert.self, "api/v1/alerts/\(id)/\(action)", body: API.AlertAction(note: note, by: by))
        let who = ["ack": "acknowledged_by", "resolve": "resolved_by", "close": "closed_by"][action] ?? "by"
        return try format.render([alert], columns: listColumns + [who])
    }

    /// `alerts export --cap`: the CAP XML of each alert, to stdout or one file per alert in `directory`.
    public static func exportCAP(_ client: StaffClient, ids: [Int64], open: Bool, directory: String?) async throws -> String {
        var ids = ids
        if ids.isEmpty {
            ids = try await alerts(client, open: open, status: nil, level: nil, domain: nil, device: nil, rule: nil, limit: 10_000).map(\.id)
        }
        guard !ids.isEmpty else { throw ClientError(CLIStrings.current.noAlertsToExport) }
        if ids.count > 1 && directory == nil {
            throw ClientError(CLIStrings.current.manyAlertsNeedDirectory(ids.count))
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

    /// `rules list`: the rules the server has in force.
    public static func rules(_ client: StaffClient, format: OutputFormat) async throws -> String {
        let list = try await client.get(API.RuleList.self, "api/v1/rules")
        return try format.render(list.rules, columns: ["id", "kind", "metric", "levels", "late_skipped", "name", "file", "line"])
    }

    /// `rules replay`: the level changes the rules would have made.
    public static func replay(_ client: StaffClient, device: String, from: String, to: String, format: OutputFormat) async throws -> String {
        let list = try await client.get(API.LevelChangeList.self, "api/v1/rules/replay", query: ["device": device, "from": from, "to": to])
        return try format.render(list.changes, columns: ["at", "rule", "from", "to", "value", "threshold", "message"])
    }
}
