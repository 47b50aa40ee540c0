import Foundation
import ShennongAPI

/// `shennong devices ...`: what each verb asks the server and prints.
public enum DeviceCommands {
    public static let columns = ["id", "profile", "domain", "site", "name", "last_seen", "presence", "metrics"]

    /// `devices list`.
    public static func list(_ client: StaffClient, site: String?, domain: String?, format: OutputFormat) async throws -> String {
        let list = try await client.get(API.DeviceList.self, "api/v1/devices", query: ["site": site, "domain": domain])
        return try format.render(list.devices, columns: columns)
    }

    /// `devices show ID`.
    public static func show(_ client: StaffClient, id: String, format: OutputFormat) async throws -> String {
        let device = try await client.get(API.Device.self, "api/v1/devices/\(id)")
        return try format.render([device], columns: columns + ["latitude", "longitude", "area_code", "owner", "created_at"])
    }

    /// `devices add ID`.
    public static func add(_ client: StaffClient, _ device: API.NewDevice, format: OutputFormat) async throws -> String {
        let created = try await client.post(API.Device.self, "api/v1/devices", body: device)
        return try format.render([created], columns: columns)
    }

    /// `devices import FILE.csv`.
    public static func importCSV(_ client: StaffClient, file: String, format: OutputFormat) async throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let result = try await client.post(API.DeviceImport.self, "api/v1/devices/import", data: data, contentType: "text/csv")
        return try format.render([result], columns: ["imported", "created", "updated"])
    }
}

/// `shennong readings ...`.
public enum ReadingCommands {
    /// `readings latest`.
    public static func latest(
        _ client: StaffClient, site: String?, domain: String?, device: String?, format: OutputFormat
    ) async throws -> String {
        let list = try await client.get(
            API.LatestList.self, "api/v1/readings/latest", query: ["site": site, "domain": domain, "device": device])
        return try format.render(list.latest, columns: ["device", "site", "domain", "metric", "value", "unit", "time"])
    }

    /// `readings query`: raw readings, or aggregates with `every`.
    public static func query(
        _ client: StaffClient, device: String, metric: String?, from: String, to: String, every: String?, limit: Int?,
        format: OutputFormat
    ) async throws -> String {
        let query: [String: String?] = [
            "device": device, "metric": metric, "from": from, "to": to, "every": every, "limit": limit.map(String.init),
        ]
        if every != nil {
            let list = try await client.get(API.AggregateList.self, "api/v1/readings", query: query)
            return try format.render(list.aggregates, columns: ["time", "metric", "count", "min", "max", "mean", "first", "last", "unit"])
        }
        let list = try await client.get(API.ReadingList.self, "api/v1/readings", query: query)
        return try format.render(list.readings, columns: ["time", "metric", "value", "unit", "ts"])
    }

    /// `readings rejects`.
    public static func rejects(_ client: StaffClient, since: String?, limit: Int, format: OutputFormat) async throws -> String {
        let list = try await client.get(API.RejectList.self, "api/v1/rejects", query: ["since": since, "limit": String(limit)])
        return try format.render(list.rejects, columns: ["received_at", "device", "code", "field", "reason", "topic"])
    }

    /// `readings rejects replay`: the server decodes the selected rejects again with its current
    /// profiles (`POST /api/v1/rejects/replay`); one row of counts.
    public static func replayRejects(
        _ client: StaffClient, since: String?, reason: String?, device: String?, dryRun: Bool, format: OutputFormat
    ) async throws -> String {
        let counts = try await client.post(
            API.RejectReplay.self, "api/v1/rejects/replay",
            body: API.RejectReplayRequest(since: since, reason: reason, device: device, dryRun: dryRun))
        return try format.render([counts], columns: ["examined", "stored", "still_rejected", "replayed_rejects", "dry_run"])
    }
}

/// `shennong dashboard login-link`.
public enum DashboardCommands {
    /// A one-time login URL of the dashboard for the client's token.
    public static func loginLink(_ client: StaffClient) async throws -> String {
        let code = try await client.post(API.LoginCode.self, "api/v1/dashboard/login-code")
        var base = client.server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + code.path
    }
}
