import Foundation
import Logging
import ServiceLifecycle
import ShennongCore
import ShennongStore
import Synchronization
import Testing

@testable import ShennongServer

/// Leader-only services wait for the lease without polling: they start when the node leads,
/// and a wait cut short by shutdown or cancellation ends without starting them.
struct LeadershipWaitTests {
    /// A leader-only service that records that it ran.
    final class Probe: Service, Sendable {
        let started = Mutex(false)
        func run() async throws { started.withLock { $0 = true } }
    }

    static func withStore(_ body: (Store) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-lead-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false)
        defer { try? store.close() }
        try await body(store)
    }

    static func leadership(_ store: Store) -> LeadershipService {
        LeadershipService(lease: store, node: "node-a", timeout: 5000, clock: .system, logger: Logger(label: "test"))
    }

    @Test("a leader-only service that starts waiting before the node leads runs once it leads (woken, not left waiting)", .timeLimit(.minutes(1)))
    func startsWhenLeading() async throws {
        try await Self.withStore { store in
            let leadership = Self.leadership(store)
            let probe = Probe()
            let gated = LeaderOnly(leadership: leadership, service: probe)
            // The gated service waits first: nothing leads yet.
            async let gatedRun: Void = gated.run()
            #expect(!leadership.isLeading)
            // The leadership service leads at once on SQLite (and then waits for shutdown).
            let lead = Task { try await leadership.run() }
            try await gatedRun
            #expect(probe.started.withLock { $0 })
            #expect(leadership.isLeading)
            lead.cancel()
        }
    }

    @Test("a wait for a lease that never comes ends without running the service when its task is cancelled", .timeLimit(.minutes(1)))
    func cancelledWaitDoesNotRun() async throws {
        try await Self.withStore { store in
            // `run()` is never called: this node never leads.
            let leadership = Self.leadership(store)
            let probe = Probe()
            let waiting = Task { try await LeaderOnly(leadership: leadership, service: probe).run() }
            let led = Task { await leadership.waitUntilLeading() }
            waiting.cancel()
            led.cancel()
            try await waiting.value
            #expect(await led.value == false)
            #expect(!probe.started.withLock { $0 })
        }
    }

    @Test("cancelling one service's wait leaves the others waiting, and they run once the node leads", .timeLimit(.minutes(1)))
    func cancellingOneWaitKeepsOthers() async throws {
        try await Self.withStore { store in
            let leadership = Self.leadership(store)
            let first = Task { await leadership.waitUntilLeading() }
            let second = Task { await leadership.waitUntilLeading() }
            while leadership.waitingCount < 2 { await Task.yield() }
            first.cancel()
            #expect(await first.value == false)
            // The second is still registered (not released into a loop of retries).
            #expect(leadership.waitingCount == 1)
            let lead = Task { try await leadership.run() }
            #expect(await second.value == true)
            #expect(leadership.waitingCount == 0)
            lead.cancel()
        }
    }
}
