import Foundation
import Logging
import Metrics
import ServiceLifecycle
import ShennongAlerts
import ShennongCore

/// Settings of the warnings' periodic work (the server's `rules:` section).
public struct RulesSettings: Sendable {
    /// Where the rule files are (read again on SIGHUP).
    public var directory: String
    /// Silence and escalation checks, every this many ms.
    public var checkInterval: Int64
    /// Who hears of alerts, tier by tier.
    public var escalation: ContactEscalation

    public init(directory: String, checkInterval: Int64 = 30_000, escalation: ContactEscalation = ContactEscalation()) {
        self.directory = directory
        self.checkInterval = checkInterval
        self.escalation = escalation
    }
}

/// The warnings' periodic work and reloads: silence checks and contact escalation every
/// `rules.check_interval`, and rule files reloaded on SIGHUP.
///
/// A reload with any error in any file keeps the rules in force (and logs every error with
/// its line), so a typo never silently switches warnings off.
public final class RulesService: Service, Sendable {
    private let stage: RulesStage
    private let store: any AlertStore
    private let catalog: RuleCatalog
    private let notifier: AlertNotifier
    private let settings: RulesSettings
    private let logger: Logger
    /// Rules in force (`shennong_rules_loaded`), set at start and after each reload.
    private let loaded = Gauge(label: "shennong_rules_loaded")

    public init(
        stage: RulesStage, store: any AlertStore, catalog: RuleCatalog, notifier: AlertNotifier, settings: RulesSettings,
        logger: Logger
    ) {
        self.stage = stage
        self.store = store
        self.catalog = catalog
        self.notifier = notifier
        self.settings = settings
        self.logger = logger
        loaded.record(catalog.rules.count)
    }

    public func run() async throws {
        let (hangups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        defer {
            source.cancel()
            continuation.finish()
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() { self.reload() }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    self.stage.checkSilence()
                    self.escalate()
                    try? await Task.sleep(for: .milliseconds(self.settings.checkInterval))
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Reads the rule files again; keeps the rules in force if any file has an error.
    public func reload() {
        let (rules, errors) = RuleLoader.load(directory: settings.directory)
        guard errors.isEmpty else {
            catalog.replace(rules: catalog.rules, errors: errors)
            for error in errors { logger.error("rule file error; keeping the rules in force", metadata: ["error": "\(error)"]) }
            return
        }
        catalog.replace(rules: rules, errors: [])
        stage.reload(rules: rules)
        loaded.record(rules.count)
        logger.notice("rules reloaded", metadata: ["rules": "\(rules.count)", "directory": "\(settings.directory)"])
    }

    /// Open alerts of the escalating levels nobody acknowledged within `escalate_after`: the next tier.
    public func escalate() {
        let policy = settings.escalation
        guard policy.escalates else { return }
        let now = stage.clock.now()
        do {
            let due = try store.alertsAwaitingAcknowledgement(
                minLevel: policy.minLevel, notifiedBefore: now - policy.escalateAfter, maxTier: policy.topTier)
            for alert in due {
                guard let (tier, note) = policy.next(after: alert.contactTier) else { continue }
                if let notice = try store.recordContactEscalation(id: alert.id, tier: tier, note: note, now: now) {
                    logger.warning(
                        "alert escalated to the next tier of contacts",
                        metadata: ["alert": "\(alert.id)", "tier": "\(policy.tiers[tier].name)"])
                    notifier.enqueue([notice])
                }
            }
        } catch {
            logger.error("contact escalation failed", metadata: ["error": "\(error)"])
        }
    }
}
