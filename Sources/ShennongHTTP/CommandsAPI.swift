import Foundation
import Hummingbird
import ShennongAPI
import ShennongCommands
import ShennongCore
import ShennongRules

/// Device commands under `/api/v1` (bearer token; reads need viewer, sending and cancelling operator):
///
/// - `POST /api/v1/devices/{id}/commands` `{"name", "args", "expires_in", "by"}` → 201 the queued
///   command; 404 for an unknown device, 400 for a command the profile does not declare or bad
///   arguments (nothing is recorded or sent)
/// - `GET /api/v1/commands[?device=&state=&rule=&alert=&limit=]`
/// - `GET /api/v1/commands/{id}`: the command and every transition
/// - `POST /api/v1/commands/{id}/cancel` `{"note", "by"}`: a queued command only (409 otherwise)
public struct CommandsAPI: RouteGroup {
    let center: CommandCenter
    let tokens: any TokenStore

    public init(center: CommandCenter, tokens: any TokenStore) {
        self.center = center
        self.tokens = tokens
    }

    public func register(on router: Router<StaffContext>) {
        let api = router.group("api/v1").add(middleware: BearerAuthMiddleware(store: tokens))
        api.post("devices/{id}/commands") { request, context in try await self.issue(request, context) }
        api.get("commands") { request, context in try self.list(request, context) }
        api.get("commands/{id}") { request, context in try self.show(request, context) }
        api.post("commands/{id}/cancel") { request, context in try await self.cancel(request, context) }
    }

    /// `by (token name)` when the body names someone, else the token's name.
    static func who(_ by: String?, _ context: StaffContext) -> String {
        let token = context.token?.name ?? "staff"
        return by.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : "\($0) (token \(token))" } ?? token
    }

    private func issue(_ request: Request, _ context: StaffContext) async throws -> EditedResponse<API.Command> {
        try context.require(.operator)
        let device = try context.parameters.require("id")
        _ = try context.gate.device(device, center.store)
        let body = try await request.decode(as: API.NewCommand.self, context: context)
        let command: CommandRecord
        do {
            command = try center.issue(
                CommandRequest(
                    device: device, name: body.name, args: body.args ?? [:], expiresIn: body.expiresIn.map { $0 * 1000 },
                    by: Self.who(body.by, context)))
        } catch let refusal as CommandRefusal {
            switch refusal.code {
            case .unknownDevice, .notFound: throw APIError(.notFound, refusal.message)
            case .conflict: throw APIError(.conflict, refusal.message)
            case .unknownCommand, .invalidArgument: throw APIError(.badRequest, refusal.message)
            }
        }
        return EditedResponse(status: .created, response: API.Command(command))
    }

    private func list(_ request: Request, _ context: StaffContext) throws -> API.CommandList {
        try context.require(.viewer)
        let q = request.uri.queryParameters
        var query = CommandQuery(limit: min(Int(q["limit"] ?? "") ?? 1000, 100_000))
        if let state = q["state"] {
            guard let s = CommandState(rawValue: String(state)) else {
                throw APIError(.badRequest, "state must be one of \(CommandState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.states = [s]
        }
        query.device = q["device"].map(String.init)
        query.rule = q["rule"].map(String.init)
        if let alert = q["alert"] {
            guard let id = Int64(alert) else { throw APIError(.badRequest, "alert must be an alert id") }
            query.alert = id
        }
        guard let visible = try context.gate.visibleDevices(center.store) else {
            return API.CommandList(commands: try center.store.commands(query).map(API.Command.init))
        }
        // A scoped token lists the commands of its devices: filtered, then limited.
        let limit = query.limit
        query.limit = 100_000
        let commands = try center.store.commands(query).filter { visible.contains($0.device) }.prefix(limit)
        return API.CommandList(commands: commands.map(API.Command.init))
    }

    private func commandID(_ context: StaffContext) throws -> String {
        let id = try context.parameters.require("id")
        guard CommandID.isValid(id) else { throw APIError(.badRequest, "not a command id: \(id)") }
        return id
    }

    private func show(_ request: Request, _ context: StaffContext) throws -> API.CommandDetail {
        try context.require(.viewer)
        let id = try commandID(context)
        let found = try center.store.command(id: id)
        try context.gate.check(device: found?.device, kind: "command", id: id, center.store)
        guard let command = found else { throw APIError(.notFound, "命令不存在 no command \(id)") }
        return API.CommandDetail(
            command: API.Command(command), transitions: try center.store.commandTransitions(id: id).map(API.CommandTransition.init))
    }

    private func cancel(_ request: Request, _ context: StaffContext) async throws -> API.Command {
        try context.require(.operator)
        let id = try commandID(context)
        if context.gate.isScoped {
            try context.gate.check(device: try center.store.command(id: id)?.device, kind: "command", id: id, center.store)
        }
        let body = (try? await request.decode(as: API.CommandCancel.self, context: context)) ?? API.CommandCancel()
        do {
            return API.Command(try center.cancel(id: id, by: Self.who(body.by, context), note: body.note))
        } catch let error as StoreError {
            switch error.code {
            case .notFound: throw APIError(.notFound, error.message)
            case .conflict: throw APIError(.conflict, error.message)
            default: throw error
            }
        }
    }
}

extension API.Command: ResponseEncodable {}
extension API.CommandList: ResponseEncodable {}
extension API.CommandDetail: ResponseEncodable {}
