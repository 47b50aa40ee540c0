import Foundation
import ShennongAPI
import ShennongCore

/// `shennong devices command …` and `devices commands`: device commands (自动控制).
public enum ControlCommands {
    public static let listColumns = [
        "id", "device", "name", "args", "state", "state_zh", "issued_by", "rule", "alert", "issued_at", "detail",
    ]
    public static let transitionColumns = ["id", "from", "to", "at", "by", "note"]

    /// `k=v` pairs as typed values (`true`/`false`, numbers, else text; the server checks them
    /// against the profile).
    public static func arguments(_ pairs: [String]) throws -> [String: CommandValue] {
        var out: [String: CommandValue] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ClientError("--arg 须为 名称=值 must be name=value, not \(pair)")
            }
            out[String(pair[..<eq])] = CommandValue(text: String(pair[pair.index(after: eq)...]))
        }
        return out
    }

    /// Seconds in `30s`, `10m`, `2h`, `1d` (or a plain number of seconds).
    public static func seconds(_ text: String) throws -> Int64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        if let n = Int64(t), n > 0 { return n }
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            if let n = Int64(t.dropLast()), n > 0, n <= 7 * 86_400 { return n * scale }
        }
        throw ClientError("--expires 须为时长 must be a duration like 30s, 10m, 2h or 1d, not \(text)")
    }

    /// `devices command ID NAME [--arg k=v …] [--expires 10m]`: the queued command.
    public static func send(
        _ client: StaffClient, device: String, name: String, args: [String], expires: String?, by: String?,
        format: OutputFormat
    ) async throws -> String {
        let body = API.NewCommand(
            name: name, args: try arguments(args), expiresIn: try expires.map(seconds), by: by)
        let command = try await client.post(API.Command.self, "api/v1/devices/\(device)/commands", body: body)
        return try format.render([command], columns: listColumns + ["expires_at"])
    }

    /// `devices commands [ID] [--state S]`.
    public static func list(
        _ client: StaffClient, device: String?, state: String?, rule: String?, limit: Int, format: OutputFormat
    ) async throws -> String {
        let list = try await client.get(
            API.CommandList.self, "api/v1/commands",
            query: ["device": device, "state": state, "rule": rule, "limit": String(limit)])
        return try format.render(list.commands, columns: listColumns)
    }

    /// `devices command show CMD`: the command with every transition.
    public static func show(_ client: StaffClient, id: String, format: OutputFormat) async throws -> String {
        let detail = try await client.get(API.CommandDetail.self, "api/v1/commands/\(id)")
        if format == .json { return try format.render([detail], columns: []) }
        return try format.render([detail.command], columns: listColumns + ["sent_at", "replied_at", "confirmed_at", "finished_at"])
            + "\n" + (try format.render(detail.transitions, columns: transitionColumns))
    }

    /// `devices command cancel CMD`.
    public static func cancel(
        _ client: StaffClient, id: String, note: String?, by: String?, format: OutputFormat
    ) async throws -> String {
        let command = try await client.post(API.Command.self, "api/v1/commands/\(id)/cancel", body: API.CommandCancel(note: note, by: by))
        return try format.render([command], columns: listColumns)
    }
}
