import Dispatch
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import ShennongAlerts
import ShennongCore
import ShennongHTTP
import ShennongRules
import Synchronization

/// Leadership among the nodes of one database (``Leadership``, ``LeaderLease``): every node
/// serves HTTP; the leader-only services (MQTT ingest, the rules' periodic checks and
/// escalation, device commands, store maintenance) start only once this node holds the lease.
///
/// - Standby: tries the lease every second; `/healthz` says `role: standby` and which node leads.
/// - Acquired: the rule states are loaded from the database (what the last leader committed),
///   then the leader-only services start; the ingest connects with the shared client id and
///   resumes the persistent MQTT session; `shennong_leader{node}` is 1.
/// - Lost (the lease's session is gone, or not confirmed within `cluster.lease_timeout`, as
///   after a SIGSTOP): the store already refuses this node's leader-only commits (fencing), so
///   nothing more is acknowledged; the process logs why and exits with status
///   ``lostExitStatus`` (75, EX_TEMPFAIL) at once, and its supervisor (systemd
///   `Restart=always`) starts it again as a standby. Leading again in the same process would
///   carry memory of the lost term (rule runtimes, notifier positions, an ingest connection).
///
/// With SQLite the lease is always granted: the node leads from the start.
final class LeadershipService: Service, Sendable {
    /// The exit status of a node that lost the lease (EX_TEMPFAIL).
    static let lostExitStatus: Int32 = 75

    let lease: any LeaderLease
    let node: String
    let timeout: Int64
    let clock: WallClock
    let logger: Logger
    private let state: Mutex<State>
    private let gauge: Gauge

    private struct State {
        var machine: Leadership
        /// The node holding the lease as last read (standby), or this one.
        var holder: LeaseGrant?
        /// Set once the hooks ran after acquisition: the leader-only services may start.
        var ready = false
        var inFlight = false
        var hooks: [@Sendable () throws -> Void] = []
        var warned = false
        /// Leader-only services waiting for ``ready`` (``waitUntilLeading()``), by token.
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Graceful shutdown began (the whole service group's): nothing waits any more.
        var shuttingDown = false
    }

    init(lease: any LeaderLease, node: String, timeout: Int64, clock: WallClock, logger: Logger) {
        self.lease = lease
        self.node = node
        self.timeout = timeout
        self.clock = clock
        self.logger = logger
        state = Mutex(State(machine: Leadership(timeout: timeout)))
        gauge = Gauge(label: "shennong_leader", dimensions: [("node", node)])
        gauge.record(0)
    }

    /// Runs `hook` after the lease is taken and before the leader-only services start (loading
    /// the rule states). A hook that throws ends the leadership.
    func onLeading(_ hook: @escaping @Sendable () throws -> Void) {
        state.withLock { $0.hooks.append(hook) }
    }

    /// Whether the leader-only services may run now.
    var isLeading: Bool {
        let now = clock.now()
        let shared = lease.isShared
        // A single node's lease (SQLite) is never confirmed: it cannot be lost.
        return state.withLock { $0.ready && (!shared || $0.machine.isLeading(at: now)) }
    }

    /// Returns once this node leads (at once when it does), or `false` once graceful shutdown
    /// or cancellation came first. Woken when the lease is taken, not by polling: a leader-only
    /// service (the ingest) starts the moment the node may lead.
    func waitUntilLeading() async -> Bool {
        while !isLeading {
            if Task.isShuttingDownGracefully || Task.isCancelled { return false }
            let token = state.withLock { state in
                defer { state.nextWaiter += 1 }
                return state.nextWaiter
            }
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                        // Checked under the lock that `onCancel` takes: a cancellation either
                        // comes before (seen here) or finds this waiter registered.
                        let now = state.withLock { state in
                            guard !state.ready && !state.shuttingDown && !Task.isCancelled else { return true }
                            state.waiters[token] = waiter
                            return false
                        }
                        if now { waiter.resume() }
                    }
                } onCancel: {
                    // Only this wait ends: the other services' tasks go on waiting.
                    self.state.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
                }
            } onGracefulShutdown: {
                self.wakeWaiters(shuttingDown: true)
            }
        }
        return true
    }

    /// How many leader-only services wait for the lease now.
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Marks the leader-only services free to start and wakes those waiting.
    private func becomeReady() {
        state.withLock { $0.ready = true }
        wakeWaiters(shuttingDown: false)
    }

    private func wakeWaiters(shuttingDown: Bool) {
        let waiters = state.withLock { state in
            if shuttingDown { state.shuttingDown = true }
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The node that leads, as far as this node knows.
    var leader: String? {
        state.withLock { state in
            if state.ready { return node }
            return state.holder?.node
        }
    }

    /// `/healthz`: the report of the leader-only ingest (a standby's MQTT is `standby`) with
    /// `node`, `role` and `leader` when the database is shared.
    func health(_ report: HealthReport) -> HealthReport {
        guard lease.isShared else { return report }
        var report = report
        let leading = isLeading
        report.standby = !leading
        report.details["node"] = node
        report.details["role"] = leading ? "leader" : "standby"
        if let leader { report.details["leader"] = leader }
        return report
    }

    /// Throws unless this node leads: a reject replay goes through the leader's ingest and rules.
    func requireLeading() throws {
        guard !isLeading else { return }
        throw StoreError(
            .conflict, "本节点为备用节点，请在主节点重放 this node stands by; replay rejects on the leader (\(leader ?? "none"))")
    }

    /// `services`, each started only once this node leads. The alert notifier too: it follows
    /// the committed transitions (the outbox), those people make on any node's pages included,
    /// so only the leader sends, each notification from where the last leader's cursor stopped.
    func gate(_ services: [ServiceGroupConfiguration.ServiceConfiguration]) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        services.map { .init(service: LeaderOnly(leadership: self, service: $0.service)) }
    }

    /// One leader-only service.
    func gate(_ service: any Service) -> ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: LeaderOnly(leadership: self, service: service))
    }

    func run() async throws {
        guard lease.isShared else {
            // One process owns the database: lead from the start.
            let grant = try lease.acquireLease(node: node, timeout: timeout)
            let hooks = state.withLock { state in
                _ = state.machine.attempted(granted: grant?.epoch ?? 1, at: clock.now())
                state.holder = grant
                return state.hooks
            }
            for hook in hooks { try hook() }
            becomeReady()
            gauge.record(1)
            try? await gracefulShutdown()
            return
        }
        logger.info("standing by for the leader lease", metadata: ["node": "\(node)", "lease_timeout_ms": "\(timeout)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            step()
            try? await Task.sleep(for: .milliseconds(100))
        }
        if isLeading {
            lease.releaseLease()
            gauge.record(0)
            logger.notice("leader lease released (shutdown)", metadata: ["node": "\(node)"])
        }
    }

    /// One turn of the loop: the clock's verdict, then (when due and none in flight) a try or
    /// a confirmation of the lease on a thread of its own, so a hung database never stops the
    /// clock's verdict.
    private func step() {
        let now = clock.now()
        let (action, due) = state.withLock { state -> (Leadership.Action, Bool) in
            let action = state.machine.tick(at: now)
            guard !state.inFlight, state.machine.isDue(at: now) else { return (action, false) }
            state.inFlight = true
            return (action, true)
        }
        if case .stopLeading(let reason) = action { stepDown(reason) }
        guard due else { return }
        DispatchQueue.global().async { [self] in
            defer { state.withLock { $0.inFlight = false } }
            if state.withLock({ $0.machine.epoch }) == nil { attempt() } else { confirm() }
        }
    }

    private func attempt() {
        let grant: LeaseGrant?
        do {
            grant = try lease.acquireLease(node: node, timeout: timeout)
        } catch {
            let first = state.withLock { state in
                defer { state.warned = true }
                return !state.warned
            }
            if first { logger.warning("the leader lease cannot be tried; retrying", metadata: ["error": "\(error)"]) }
            _ = state.withLock { $0.machine.attempted(granted: nil, at: clock.now()) }
            return
        }
        let holder = grant == nil ? (try? lease.leaseHolder()) ?? nil : grant
        let (action, changed, hooks) = state.withLock { state in
            let changed = state.holder?.epoch != holder?.epoch
            state.holder = holder
            state.warned = false
            return (state.machine.attempted(granted: grant?.epoch, at: clock.now()), changed, state.hooks)
        }
        guard case .startLeading(let epoch) = action else {
            if changed, let holder {
                logger.info("another node leads", metadata: ["leader": "\(holder.node)", "epoch": "\(holder.epoch)"])
            }
            return
        }
        do {
            for hook in hooks { try hook() }
        } catch {
            stepDown("loading the leader's state failed: \(error)")
        }
        becomeReady()
        gauge.record(1)
        logger.notice("leader lease acquired: this node leads", metadata: ["node": "\(node)", "epoch": "\(epoch)"])
    }

    private func confirm() {
        let started = clock.now()
        let confirmed: Bool
        do {
            try lease.confirmLease()
            confirmed = true
        } catch {
            logger.error("leader lease confirmation failed", metadata: ["error": "\(error)"])
            confirmed = false
        }
        let action = state.withLock { $0.machine.confirmed(confirmed, startedAt: started, at: clock.now()) }
        if case .stopLeading(let reason) = action { stepDown(reason) }
    }

    /// The lease is gone: the store refuses this node's leader-only commits already; stop
    /// everything now (see the type's documentation).
    private func stepDown(_ reason: String) -> Never {
        state.withLock { $0.ready = false }
        gauge.record(0)
        logger.critical(
            "leader lease lost: stepping down; exiting so that the supervisor restarts this node as a standby",
            metadata: ["node": "\(node)", "reason": "\(reason)", "exit_status": "\(Self.lostExitStatus)"])
        _exit(Self.lostExitStatus)
    }
}

/// A leader-only service: waits (serving nothing) until this node leads, then runs.
struct LeaderOnly: Service {
    let leadership: LeadershipService
    let service: any Service

    func run() async throws {
        guard await leadership.waitUntilLeading() else { return }
        try await service.run()
    }
}

/// Work repeated on every node at an interval until shutdown (the open-alerts gauge's recount:
/// alerts change on the leader and on any node's HTTP).
struct PeriodicTask: Service {
    let interval: Duration
    let body: @Sendable () -> Void

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            body()
            // Ends at once on shutdown: the process does not wait out the interval to exit.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }
}

extension ShennongServer {
    /// The leadership of this node (``LeadershipService``) with the rules stage's reload as a
    /// hook, and the open-alerts gauge's periodic recount (every node, every 15 s).
    static func makeLeadership(
        config: ServerConfig, store: any ServerStore, rules: ModuleWiring, clock: WallClock, logger: Logger
    ) -> (leadership: LeadershipService, services: [ServiceGroupConfiguration.ServiceConfiguration]) {
        let leadership = LeadershipService(
            lease: store, node: config.cluster.nodeID, timeout: config.cluster.leaseTimeout, clock: clock, logger: logger)
        if store.isShared, let stage = rules.ingestObserver as? RulesStage {
            leadership.onLeading { try stage.resume() }
        }
        let recount = PeriodicTask(interval: .seconds(15)) { OpenAlertsGauge.update(store: store, logger: logger) }
        return (leadership, [.init(service: leadership), .init(service: recount)])
    }

    /// The MQTT client id of this node's alert publisher: `{client_id}-alerts`, and
    /// `-{node}` after it when nodes share the database (the old leader's publisher may still be
    /// connected while the new one starts).
    static func alertsClientID(config: ServerConfig, store: any ServerStore) -> String {
        config.mqtt.clientID + "-alerts" + (store.isShared ? "-" + config.cluster.nodeID : "")
    }
}
