import ShennongCore
import Testing

/// The leadership state machine, driven by hand: what a node does as the lease answers and
/// the clock moves.
struct LeadershipTests {
    @Test("standby tries every second until granted, then leads with the epoch and confirms every quarter timeout")
    func standbyToLeader() {
        var l = Leadership(timeout: 8_000)
        #expect(l.heartbeatInterval == 2_000 && l.retryInterval == 1_000)
        #expect(l.isDue(at: 0) && !l.isLeading(at: 0) && l.epoch == nil)
        #expect(l.attempted(granted: nil, at: 0) == .none)
        #expect(!l.isDue(at: 999) && l.isDue(at: 1_000))
        #expect(l.attempted(granted: 4, at: 1_000) == .startLeading(epoch: 4))
        #expect(l.role == .leading(epoch: 4, since: 1_000) && l.epoch == 4 && l.isLeading(at: 1_000))
        #expect(!l.isDue(at: 2_999) && l.isDue(at: 3_000))
        #expect(l.confirmed(true, startedAt: 3_000, at: 3_010) == .none)
        #expect(l.isLeading(at: 10_999) && !l.isLeading(at: 11_000), "confirmed at 3 s: good until 11 s")
        // A second grant while leading changes nothing.
        #expect(l.attempted(granted: 5, at: 3_100) == .none && l.epoch == 4)
    }

    @Test("a failed confirmation steps the leader down, for good")
    func lostSession() {
        var l = Leadership(timeout: 8_000)
        _ = l.attempted(granted: 1, at: 0)
        #expect(l.confirmed(false, startedAt: 2_000, at: 2_001) == .stopLeading(reason: "the lease's session is gone"))
        #expect(l.role == .steppingDown(epoch: 1, reason: "the lease's session is gone") && !l.isLeading(at: 2_001))
        #expect(!l.isDue(at: 100_000))
        #expect(l.attempted(granted: 2, at: 100_000) == .none, "a node that lost the lease does not lead again")
        #expect(l.tick(at: 200_000) == .none)
    }

    @Test("a hung leader (no confirmation for the timeout) steps down at the next tick, and a late confirmation does not save it")
    func hungLeader() {
        var l = Leadership(timeout: 8_000)
        _ = l.attempted(granted: 1, at: 0)
        #expect(l.tick(at: 7_999) == .none)
        // Stopped from 1 s to 20 s: the first thing it sees is the clock.
        if case .stopLeading = l.tick(at: 20_000) {} else { Issue.record("should step down") }
        #expect(!l.isLeading(at: 20_000))

        // A confirmation that started after the timeout had passed does not count either.
        var m = Leadership(timeout: 8_000)
        _ = m.attempted(granted: 1, at: 0)
        if case .stopLeading = m.confirmed(true, startedAt: 9_000, at: 9_001) {} else { Issue.record("late confirmation") }
    }

    @Test("the timeout has a floor of 1 s and intervals follow it")
    func bounds() {
        let l = Leadership(timeout: 10)
        #expect(l.timeout == 1_000 && l.heartbeatInterval == 250 && l.retryInterval == 250)
    }
}
