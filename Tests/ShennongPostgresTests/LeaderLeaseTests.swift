import Foundation
import ShennongAlerts
import ShennongCore
import ShennongPostgres
import ShennongTestSupport
import Testing

/// The leader lease on PostgreSQL between two stores (two nodes) on one database: one holds it,
/// the other takes it when the holder's session ends, and the old holder's fenced writes then
/// fail with nothing committed.
@Suite("PostgreSQL leader lease")
struct LeaderLeaseTests {
    static let t0: Int64 = 1_763_683_200_000

    static func burst(_ value: Double, at t: Int64) -> IngestBatch {
        var batch = IngestBatch()
        batch.newDevices = [Device(id: "p1", profile: "generic", domain: .water, createdAt: 1)]
        batch.readings = [Reading(device: "p1", metric: "ph", timestamp: t, value: value)]
        return batch
    }

    @Test("one node holds the lease; when its session ends the other takes it with the next epoch, and the old holder cannot commit")
    func takeoverAndFence() throws {
        let url = try TestPostgres.shared().createDatabase()
        let a = try PostgresStore(url: url), b = try PostgresStore(url: url)
        defer {
            try? a.close()
            try? b.close()
        }
        #expect(a.isShared && b.isShared)
        let first = try #require(try a.acquireLease(node: "node-a", timeout: 5_000))
        #expect(first.epoch == 1 && first.node == "node-a")
        #expect(try b.acquireLease(node: "node-b", timeout: 5_000) == nil, "held by node-a")
        try a.confirmLease()
        #expect(try b.leaseHolder()?.node == "node-a")
        // The holder's fenced writes commit.
        #expect(try a.commit(Self.burst(7.0, at: Self.t0)).inserted == 1)
        _ = try a.applyRuleEvaluation(states: [], changes: [Self.change(at: Self.t0)])

        // node-a's session ends (as the server ends a silent one): node-b takes the lease.
        a.releaseLease()
        let second = try #require(try b.acquireLease(node: "node-b", timeout: 5_000))
        #expect(second.epoch == 2)
        #expect(try a.leaseHolder() == second)
        #expect(throws: StoreError.self) { try a.confirmLease() }

        // node-a, still running, can commit nothing of the leader's work any more.
        let refused = #expect(throws: StoreError.self) { try a.commit(Self.burst(7.5, at: Self.t0 + 60_000)) }
        #expect(refused?.code == .conflict && refused?.message.contains("no longer leads") == true)
        #expect(throws: StoreError.self) { try a.applyRuleEvaluation(states: [], changes: [Self.change(at: Self.t0 + 1)]) }
        #expect(try b.readings(device: "p1", metric: "ph", from: 0, to: .max).map(\.value) == [7.0], "nothing of node-a's later burst")
        // ...while people's writes (HTTP on any node) still work there.
        _ = try a.createToken(name: "still-serving", role: .viewer)
        // node-b's commit goes through.
        #expect(try b.commit(Self.burst(8.0, at: Self.t0 + 120_000)).inserted == 1)
    }

    @Test("a hung holder's session is ended by the server after the lease timeout; the other node then takes the lease")
    func silentHolderLoses() throws {
        let url = try TestPostgres.shared().createDatabase()
        let a = try PostgresStore(url: url), b = try PostgresStore(url: url)
        defer {
            try? a.close()
            try? b.close()
        }
        _ = try #require(try a.acquireLease(node: "node-a", timeout: 1_000))
        // node-a says nothing (as if stopped): within the timeout and a little, its lock is gone.
        let deadline = Date().addingTimeInterval(10)
        var grant: LeaseGrant?
        while grant == nil && Date() < deadline {
            grant = try b.acquireLease(node: "node-b", timeout: 1_000)
            if grant == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(grant?.epoch == 2)
        #expect(throws: StoreError.self) { try a.confirmLease() }
    }

    static func change(at t: Int64) -> AlertLevelChange {
        AlertLevelChange(
            rule: "ph-high", device: "p1", domain: "water", metric: "ph", from: nil, to: .blue, value: 9, threshold: 8.5, at: t,
            late: false, title: "t", message: "m")
    }
}
