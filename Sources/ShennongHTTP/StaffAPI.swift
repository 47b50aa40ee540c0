import Foundation
import Hummingbird
import ShennongAPI
import ShennongCore

/// The staff API under `/api/v1`: devices, readings, rejects. Every route needs a bearer
/// token; reads need `viewer`, writes `operator`.
struct StaffAPI {
    let store: any StaffStore
    let profiles: @Sendable () -> [String: DeviceProfile]
    /// Decodes stored rejects again (blocking; the ingest pipeline's), if this server ingests.
    var replayRejects: (@Sendable (RejectReplayRequest) throws -> RejectReplayCounts)? = nil
    /// Creation times of devices, "now" of time expressions.
    var clock: WallClock = .system
    /// Local time of the answers' `time` fields (+08:00: 480).
    var offsetMinutes = 480

    func register(on router: Router<StaffContext>) {
        let api = router.group("api/v1").add(middleware: BearerAuthMiddleware(store: store))
        api.get("devices") { request, context in try self.listDevices(request, context) }
        api.post("devices") { request, context in try await self.addDevice(request, context) }
        api.post("devices/import") { request, context in try await self.importDevices(request, context) }
        api.get("devices/{id}") { request, context in try self.showDevice(request, context) }
        api.get("readings/latest") { request, context in try self.latest(request, context) }
        api.get("readings") { request, context in try self.readings(request, context) }
        api.get("rejects") { request, context in try self.rejects(request, context) }
        api.post("rejects/replay") { request, context in try await self.replay(request, context) }
    }

    private func listDevices(_ request: Request, _ context: StaffContext) throws -> API.DeviceList {
        try context.require(.viewer)
        let query = request.uri.queryParameters
        let records = try store.deviceRecords(site: query["site"].map(String.init), domain: try domain(query["domain"]))
            .filter { context.scope.contains($0.device) }
        return API.DeviceList(devices: records.map { API.Device($0, offsetMinutes: offsetMinutes) })
    }

    private func showDevice(_ request: Request, _ context: StaffContext) throws -> API.Device {
        try context.require(.viewer)
        let id = try context.parameters.require("id")
        let record = try store.deviceRecords(id: id).first
        if context.gate.isScoped, !(record.map { context.scope.contains($0.device) } ?? false) {
            throw ScopeGate.refusal("device", id)
        }
        guard let record else {
            throw APIError(.notFound, "no device \(id)")
        }
        return API.Device(record, offsetMinutes: offsetMinutes)
    }

    /// A CSV of devices (DeviceCSV), registered or updated all together or not at all.
    private func importDevices(_ request: Request, _ context: StaffContext) async throws -> API.DeviceImport {
        try context.require(.operator)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "request body is larger than \(context.maxUploadSize) bytes")
        }
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        let known = profiles()
        switch DeviceCSV.parse(text, createdAt: clock.now(), profileDomain: { name in known[name].map { $0.domain } }) {
        case .failure(let failure):
            let problems = failure.problems
            let shown = problems.prefix(50).map(\.description).joined(separator: "\n")
            let more = problems.count > 50 ? "\n… and \(problems.count - 50) more" : ""
            throw APIError(
                .badRequest, "\(problems.count) problem(s) in the CSV, nothing imported:\n\(shown)\(more)")
        case .success(let devices):
            // A scoped token imports devices of its scope only, and changes none outside it.
            try context.gate.checkRegistering(devices, store)
            let created = try store.upsertDevices(devices)
            return API.DeviceImport(imported: devices.count, created: created, updated: devices.count - created)
        }
    }

    private func addDevice(_ request: Request, _ context: StaffContext) async throws -> EditedResponse<API.Device> {
        try context.require(.operator)
        let body = try await request.decode(as: API.NewDevice.self, context: context)
        guard Device.isValidID(body.id) else {
            throw APIError(.badRequest, "device id must match [A-Za-z0-9_.-]{1,64}")
        }
        guard let profile = profiles()[body.profile] else {
            let known = profiles().keys.sorted().joined(separator: ", ")
            throw APIError(.badRequest, "unknown profile \(body.profile); known: \(known)")
        }
        guard let domain = try domain(body.domain.map { Substring($0) }) ?? profile.domain else {
            throw APIError(.badRequest, "profile \(profile.name) has no domain of its own: give one (water, soil, weather, fire, flood)")
        }
        let device = Device(body, domain: domain, createdAt: clock.now())
        // A scoped token adds devices of its scope only (and learns nothing of one outside).
        try context.gate.checkRegistering([device], store)
        do {
            try store.addDevice(device)
        } catch let error as StoreError where error.code == .conflict {
            throw APIError(.conflict, error.message)
        }
        guard let record = try store.deviceRecords(id: device.id).first else {
            throw APIError(.internalServerError, "device \(device.id) was added but cannot be read back")
        }
        return EditedResponse(status: .created, response: API.Device(record, offsetMinutes: offsetMinutes))
    }

    private func latest(_ request: Request, _ context: StaffContext) throws -> API.LatestList {
        try context.require(.viewer)
        let query = request.uri.queryParameters
        if let device = query["device"].map(String.init) {
            // A named device: a scoped token is refused one outside its scope (or missing).
            _ = try context.gate.device(device, store)
        }
        let values = try store.latest(
            device: query["device"].map(String.init), site: query["site"].map(String.init),
            domain: try domain(query["domain"]))
            .filter(try visible(context))
        return API.LatestList(latest: values.map { API.Latest($0, offsetMinutes: offsetMinutes) })
    }

    /// Raw readings, or aggregates with `every`: the two answers of `GET /api/v1/readings`.
    private enum ReadingsAnswer: ResponseGenerator {
        case raw(API.ReadingList)
        case aggregated(API.AggregateList)

        func response(from request: Request, context: some RequestContext) throws -> Response {
            switch self {
            case .raw(let list): try list.response(from: request, context: context)
            case .aggregated(let list): try list.response(from: request, context: context)
            }
        }
    }

    private func readings(_ request: Request, _ context: StaffContext) throws -> ReadingsAnswer {
        try context.require(.viewer)
        let query = request.uri.queryParameters
        let (device, from, to) = try historyWindow(query, context, store, now: clock.now(), back: 86_400_000)
        let metric = query["metric"].map(String.init)
        if let metric, MetricCatalogue.metric(named: metric) == nil {
            throw APIError(.badRequest, "unknown metric \(metric)")
        }
        if let every = query["every"] {
            guard let span = TimeExpression.duration(String(every)), span >= 1000 else {
                throw APIError(.badRequest, "every must be a span like 1m, 1h or 1d")
            }
            let points = try store.aggregates(device: device, metric: metric, from: from, to: to, every: span)
            return .aggregated(API.AggregateList(device: device, every: String(every), aggregates: points.map { API.Aggregate($0, offsetMinutes: offsetMinutes) }))
        }
        let limit = min(Int(query["limit"] ?? "") ?? 100_000, 1_000_000)
        let readings = try store.readings(device: device, metric: metric, from: from, to: to, limit: limit)
        return .raw(API.ReadingList(device: device, readings: readings.map { API.Reading($0, offsetMinutes: offsetMinutes) }))
    }

    private func rejects(_ request: Request, _ context: StaffContext) throws -> API.RejectList {
        try context.require(.viewer)
        let query = request.uri.queryParameters
        let now = clock.now()
        let since = try queryTime(query["since"], default: 0, now: now, name: "since")
        let limit = min(Int(query["limit"] ?? "") ?? 1000, 100_000)
        let gate = context.gate
        var rejects: [RejectRecord]
        if let visible = try gate.visibleDevices(store) {
            // A scoped token sees the rejects of its devices only (none that name no device).
            rejects = try store.rejects(since: since, limit: 100_000).filter { $0.device.map(visible.contains) ?? false }
            rejects = Array(rejects.prefix(limit))
        } else {
            rejects = try store.rejects(since: since, limit: limit)
        }
        return API.RejectList(rejects: rejects.map { API.Reject($0, offsetMinutes: offsetMinutes) })
    }

    /// Decodes the selected rejects again on a thread of its own (it blocks on commits and may
    /// wait for the ingest burst in hand), then answers the counts.
    private func replay(_ request: Request, _ context: StaffContext) async throws -> API.RejectReplay {
        try context.require(.operator)
        let body = try await request.decode(as: API.RejectReplayRequest.self, context: context)
        let since = try queryTime(body.since.map { Substring($0) }, default: 0, now: clock.now(), name: "since")
        if let device = body.device, !Device.isValidID(device) {
            throw APIError(.badRequest, "device id must match [A-Za-z0-9_.-]{1,64}")
        }
        if context.gate.isScoped {
            // A scoped token replays the rejects of one device of its scope.
            guard let device = body.device else {
                throw APIError(.forbidden, "a scoped token replays one device of its scope: give device")
            }
            _ = try context.gate.device(device, store)
        }
        guard let replayRejects else {
            throw APIError(.serviceUnavailable, "this server does not ingest: no replay")
        }
        let wanted = RejectReplayRequest(
            since: since, reason: body.reason.flatMap { $0.isEmpty ? nil : $0 }, device: body.device,
            dryRun: body.dryRun ?? false)
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<RejectReplayCounts, any Error>) in
            let thread = Thread { done.resume(with: Result { try replayRejects(wanted) }) }
            thread.name = "shennong-reject-replay"
            thread.start()
        }
    }

    /// A filter of latest values by the token's scope.
    private func visible(_ context: StaffContext) throws -> (LatestValue) -> Bool {
        guard let ids = try context.gate.visibleDevices(store) else { return { _ in true } }
        return { ids.contains($0.device) }
    }

    private func domain(_ text: Substring?) throws -> Domain? {
        guard let text else { return nil }
        guard let domain = Domain(rawValue: String(text)) else {
            let known = Domain.deviceDomains.map(\.rawValue).joined(separator: ", ")
            throw APIError(.badRequest, "unknown domain \(text); known: \(known)")
        }
        return domain
    }

}

/// A time argument `name` (a ``TimeExpression``: RFC 3339, epoch s/ms, `now`, `-6h`), `value`
/// when absent, or a 400 naming it.
func queryTime(_ text: Substring?, default value: Int64, now: Int64, name: String) throws -> Int64 {
    guard let text else { return value }
    guard let parsed = TimeExpression.parse(String(text), now: now) else {
        throw APIError(.badRequest, "\(name): cannot read \(text) as a time (RFC 3339, epoch s/ms, now, -6h)")
    }
    return parsed
}

/// The `device`, `from` and `to` parameters of a query over one device's history: the device is
/// required and must be in the token's scope, `from` defaults to `back` ms before `now`, `to`
/// to just after it, and `from` must come before `to` (each a 400 otherwise).
func historyWindow(
    _ query: Parameters, _ context: StaffContext, _ registry: any DeviceRegistry, now: Int64, back: Int64
) throws -> (device: String, from: Int64, to: Int64) {
    guard let device = query["device"].map(String.init), !device.isEmpty else {
        throw APIError(.badRequest, "query parameter device is required")
    }
    _ = try context.gate.device(device, registry)
    let from = try queryTime(query["from"], default: now - back, now: now, name: "from")
    let to = try queryTime(query["to"], default: now + 1, now: now, name: "to")
    guard from < to else { throw APIError(.badRequest, "from must be before to") }
    return (device, from, to)
}
