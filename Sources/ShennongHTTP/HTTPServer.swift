import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ShennongAPI
import ShennongCore

/// What `/healthz` reports beside the database check.
public struct HealthReport: Sendable {
    public var mqttConnected: Bool
    /// Why the last commit of readings failed (a full disk, say); `nil` while commits succeed.
    public var storageError: String?
    public var details: [String: String]
    /// A standby node of several: the leader holds the MQTT session (`mqtt: standby`, not degraded).
    public var standby = false

    public init(mqttConnected: Bool, storageError: String? = nil, details: [String: String] = [:]) {
        self.mqttConnected = mqttConnected
        self.storageError = storageError
        self.details = details
    }
}

/// Builds the HTTP application: public routes (`/healthz`, `/metrics`, `/openapi.yaml`) and
/// the staff API.
public enum ShennongHTTPServer {
    /// The application, a swift-service-lifecycle `Service`; `onRunning` receives the bound
    /// port (useful with port 0). `replayRejects` runs a reject replay (the ingest pipeline's);
    /// without it `POST /api/v1/rejects/replay` answers 503.
    public static func makeApplication(
        host: String, port: Int, store: any StaffStore, registry: PrometheusCollectorRegistry?,
        profiles: @escaping @Sendable () -> [String: DeviceProfile],
        health: @escaping @Sendable () -> HealthReport,
        routes: [any RouteGroup] = [],
        rateLimit: PublicRateLimit = PublicRateLimit(),
        replayRejects: (@Sendable (RejectReplayRequest) throws -> RejectReplayCounts)? = nil,
        offsetMinutes: Int = 480,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: StaffContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: PublicRateLimitMiddleware(limit: rateLimit, logger: logger))
        router.get("healthz") { _, _ -> EditedResponse<API.Health> in
            var body = API.Health(status: "ok", database: "ok", mqtt: "connected", storage: "ok")
            var status = HTTPResponse.Status.ok
            do {
                try store.checkHealth()
            } catch {
                body.database = "error: \(error)"
                body.status = "unavailable"
                status = .serviceUnavailable
            }
            let report = health()
            body.mqtt = report.standby ? "standby" : report.mqttConnected ? "connected" : "disconnected"
            if !report.mqttConnected && !report.standby && status == .ok { body.status = "degraded" }
            // Ingest commits failing (full disk, I/O error): readings wait unacknowledged in the broker.
            body.storage = report.storageError.map { "degraded: \($0)" } ?? "ok"
            if report.storageError != nil && status == .ok { body.status = "degraded" }
            body.details = report.details
            return EditedResponse(status: status, response: body)
        }
        // The contract, as built into the binary from the repository's openapi.yaml.
        router.get("openapi.yaml") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: APIContract.openAPIYAML)))
        }
        router.get("metrics") { _, _ -> Response in
            let text = registry?.emitToBuffer() ?? []
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        StaffAPI(store: store, profiles: profiles, replayRejects: replayRejects, offsetMinutes: offsetMinutes).register(on: router)
        for group in routes { group.register(on: router) }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "shennong"),
            onServerRunning: { channel in
                await onRunning(channel.localAddress?.port ?? port)
            },
            logger: logger)
    }
}
