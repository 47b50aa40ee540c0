import ShennongCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import ShennongRules
import ShennongStore

/// The warnings' periodic work and reloads: silence checks and contact escalation every
/// `rules.check_interval`, and rule files reloaded on SIGHUP.
///
/// A reload with any error in any file keeps the rules in force (and logs every error with
/// its line), so a typo never silently switches warnings off.
final class RulesService: Service, Sendable {
    private let stage: RulesStage
    private let store: Store
    private let catalog: RuleCatalog
    private let notifier: AlertNotifier
    private let config: ServerConfig.Rules
    private let logger: Logger
    /// Rules in force (`shennong_rules_loaded`), set at start and after each reload.
    private let loaded = Gauge(label: "shennong_rules_loaded")

    init(stage: RulesStage, store: Store, catalog: RuleCatalog, notifier: AlertNotifier, config: ServerConfig.Rules, logger: Logger) {
        self.stage = stage
        self.store = store
        self.catalog = catalog
        self.notifier = notifier
        self.config = config
        self.logger = logger
        loaded.record(catalog.rules.count)
    }

    func run() async throws {
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
                    try? await Task.sleep(for: .milliseconds(self.config.checkInterval))
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Reads the rule files again; keeps the rules in force if any file has an error.
    func reload() {
        let (rules, errors) = RuleLoader.load(directory: config.directory)
        guard errors.isEmpty else {
            catalog.replace(rules: catalog.rules, errors: errors)
            for error in errors { logger.error("rule file error; keeping the rules in force", metadata: ["error": "\(error)"]) }
            return
        }
        catalog.replace(rules: rules, errors: [])
        stage.reload(rules: rules)
        loaded.record(rules.count)
        logger.notice("rules reloaded", metadata: ["rules": "\(rules.count)", "directory": "\(config.directory)"])
    }

    /// Open orange/red alerts nobody acknowledged within `escalate_after`: the next tier.
    func escalate() {
        let tiers = config.escalation.tiers
        guard tiers.count > 1 else { return }
        let now = RulesStage.now()
        do {
            let due = try store.alertsAwaitingAcknowledgement(
                minLevel: config.escalation.minLevel.rawValue, notifiedBefore: now - config.escalation.escalateAfter,
                maxTier: tiers.count - 1)
            for alert in due {
                let tier = tiers[alert.contactTier + 1]
                let names = tier.contacts.map(\.name).joined(separator: "、")
                let note = "unacknowledged for \(DurationText.format(config.escalation.escalateAfter)): escalated to \(tier.name)"
                    + (names.isEmpty ? "" : " (\(names))")
                if let notice = try store.recordContactEscalation(id: alert.id, tier: alert.contactTier + 1, note: note, now: now) {
                    logger.warning("alert escalated to the next tier of contacts", metadata: ["alert": "\(alert.id)", "tier": "\(tier.name)"])
                    notifier.enqueue([notice])
                }
            }
        } catch {
            logger.error("contact escalation failed", metadata: ["error": "\(error)"])
        }
    }
}
