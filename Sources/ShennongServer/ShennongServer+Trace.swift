import ShennongCore
import Logging
import ServiceLifecycle
import ShennongHTTP
import ShennongStore
import ShennongSeal
import ShennongTrace

extension ShennongServer {
    /// Traceability in `shennong serve`: public trace pages, staff trace routes, and the
    /// service that writes scan counters.
    /// `ruleName` names the rules in force (``ModuleWiring/ruleName``) on the warnings table.
    static func makeTrace(
        config: ServerConfig, store: any ServerStore, seals: SealWatch?, ruleName: (@Sendable (String) -> String?)? = nil,
        logger: Logger
    ) throws -> ModuleWiring {
        var wiring = ModuleWiring()
        guard config.trace.enabled else { return wiring }
        let trace = try makeTraceability(
            config: config, store: store, warnings: AlertWarningHistory(store: store, ruleName: ruleName ?? { _ in nil }),
            logger: logger)
        let templates = try TracePages.loadTemplates(directory: config.trace.templatesDir)
        var pages = TracePages(trace: trace, templates: templates, trustForwardedFor: config.trace.trustForwardedFor)
        pages.seals = seals
        wiring.routes = [
            pages,
            TraceAPI(trace: trace, store: store),
        ]
        wiring.services = [
            .init(service: ScanFlushService(scans: trace.scans, interval: .milliseconds(config.trace.scanFlushInterval), logger: logger))
        ]
        return wiring
    }

    /// The Traceability of this configuration: secrets loaded (or created, 0600) beside the
    /// database unless configured elsewhere. Warnings come from `warnings` (none until the
    /// alerts store is connected).
    public static func makeTraceability(
        config: ServerConfig, store: any ServerStore, warnings: any WarningHistory = NoWarningHistory(), logger: Logger
    ) throws -> Traceability {
        let secret = try TraceKeys.loadOrCreate(path: config.trace.secretPath(database: config.database.path))
        let signing = try TraceKeys.loadOrCreate(path: config.trace.signingKeyPath(database: config.database.path))
        var settings = TraceSettings()
        settings.publicBaseURL = config.trace.publicBaseURL
        settings.cloneScanLimit = Int64(config.trace.cloneScanLimit)
        settings.cloneNetworkLimit = config.trace.cloneNetworkLimit
        settings.missBurst = config.trace.missBurst
        settings.missPerMinute = config.trace.missPerMinute
        settings.maxCodesPerIssue = config.trace.maxCodesPerIssue
        return try Traceability(
            store: store, secret: secret, signingKey: signing, settings: settings, warnings: warnings, logger: logger)
    }
}

/// Writes scan counters to the database every interval and once more at shutdown.
///
/// Services stop in reverse order and this one is added after HTTP, so it stops first:
/// scans answered while HTTP drains after its last flush are not written.
struct ScanFlushService: Service {
    let scans: ScanTracker
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            do {
                try scans.flush()
            } catch {
                logger.error("trace scan counters not written; retrying", metadata: ["error": "\(error)"])
            }
        }
    }
}
