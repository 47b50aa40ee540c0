@testable import MosquittoClient
import Testing

/// The ingest loop's rules on the ``IngestLoop`` value alone: no broker, socket, thread or clock.
///
/// Each test drives the value with the events ``MQTTIngestConnection`` feeds it and checks what
/// it answers: which commit starts, what the driver waits for, how far output may be released
/// (``IngestLoop/releasedThrough``: output waiting for a burst up to this one may leave), when
/// the connection is dropped, how long the back-off is, and when the loop finishes.
@Suite struct IngestLoopStateTests {
    /// Back-off from 1 s, doubling to at most 4 s.
    let delay = MQTTConfiguration.ReconnectDelay(minimum: .seconds(1), maximum: .seconds(4))
    let start = ContinuousClock.now

    /// A loop whose connection the broker has accepted, ready for a service round.
    func connectedLoop(pipelined: Bool) -> IngestLoop {
        var loop = IngestLoop(pipelined: pipelined, reconnectDelay: delay, now: start)
        #expect(loop.nextStep() == .connect)
        loop.connectionOpened()
        #expect(loop.connected(at: start) == nil, "the first connection is no restoration")
        #expect(loop.nextStep() == .service)
        return loop
    }

    // MARK: - Ack after commit

    @Test("A burst's output is released only after its own commit and every commit before it")
    func burstCommitted() {
        var loop = connectedLoop(pipelined: true)
        #expect(loop.burstRead(messages: 10) == .startCommit(burst: 1))
        #expect(loop.newestBurst == 1, "output captured now waits for burst 1")
        #expect(loop.releasedThrough == 0, "nothing of burst 1 leaves while it commits")
        #expect(loop.mayRead, "pipelined: the next burst is read while burst 1 commits")

        #expect(loop.burstRead(messages: 7) == .awaitCommit, "burst 2 waits for burst 1's commit")
        #expect(loop.newestBurst == 2)
        #expect(loop.prepared == IngestLoop.Burst(number: 2, messages: 7))
        #expect(!loop.mayRead, "one burst commits and one waits, no third is read")
        #expect(loop.releasedThrough == 0)

        #expect(loop.commitEnded(succeeded: true, at: start) == .startCommit(burst: 2))
        #expect(loop.releasedThrough == 1, "burst 1's output leaves; burst 2's waits for its own commit")
        #expect(loop.committing == IngestLoop.Burst(number: 2, messages: 7))
        #expect(loop.prepared == nil)
        #expect(loop.mayRead)
        #expect(loop.nextStep() == .service)

        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.releasedThrough == 2)
        #expect(loop.committing == nil)
        #expect(loop.link == .connected)
    }

    // MARK: - Failed commit

    @Test("A failed commit releases nothing of it, abandons the burst prepared behind it and reconnects after a back-off")
    func commitFailed() {
        var loop = connectedLoop(pipelined: true)
        #expect(loop.burstRead(messages: 3) == .startCommit(burst: 1))
        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.burstRead(messages: 4) == .startCommit(burst: 2))
        #expect(loop.burstRead(messages: 5) == .awaitCommit)

        #expect(loop.commitEnded(succeeded: false, at: start) == .dropConnection(abandoned: 3),
                "burst 3's job never runs")
        #expect(loop.releasedThrough == 1, "nothing of bursts 2 and 3 is released")
        #expect(loop.committing == nil)
        #expect(loop.prepared == nil)
        #expect(loop.link == .down)
        #expect(loop.nextStep() == .pause(seconds: 1), "reconnect after the commit back-off")
        #expect(loop.nextStep() == .connect)

        // The new connection owes nothing to the old bursts: its output (CONNECT) may leave.
        loop.connectionOpened()
        #expect(loop.releasedThrough == loop.newestBurst)
        #expect(loop.connected(at: start + .seconds(2)) == .seconds(2), "the outage began with the failed commit")
        #expect(loop.nextStep() == .service)

        // Failing again doubles the back-off.
        #expect(loop.burstRead(messages: 1) == .startCommit(burst: 4))
        #expect(loop.commitEnded(succeeded: false, at: start) == .dropConnection(abandoned: nil))
        #expect(loop.nextStep() == .pause(seconds: 2))
        #expect(loop.nextStep() == .connect)
        loop.connectionOpened()
        _ = loop.connected(at: start)

        // A successful commit resets it.
        #expect(loop.burstRead(messages: 1) == .startCommit(burst: 5))
        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.burstRead(messages: 1) == .startCommit(burst: 6))
        #expect(loop.commitEnded(succeeded: false, at: start) == .dropConnection(abandoned: nil))
        #expect(loop.nextStep() == .pause(seconds: 1))
    }

    @Test("Serial mode: a failed commit drops the connection; nothing was read behind it")
    func serialCommitFailed() {
        var loop = connectedLoop(pipelined: false)
        #expect(loop.burstRead(messages: 9) == .commitAndAwait(burst: 1))
        #expect(loop.commitEnded(succeeded: false, at: start) == .dropConnection(abandoned: nil))
        #expect(loop.releasedThrough == 0)
        #expect(loop.link == .down)
        #expect(loop.nextStep() == .pause(seconds: 1))
        #expect(loop.nextStep() == .connect)
    }

    // MARK: - Lost connection

    @Test("A connection lost mid-burst releases nothing of it; its commit ends before the reconnect")
    func connectionLostMidBurst() {
        var loop = connectedLoop(pipelined: true)
        #expect(loop.burstRead(messages: 8) == .startCommit(burst: 1))
        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.burstRead(messages: 6) == .startCommit(burst: 2))

        #expect(loop.connectionLost(at: start) == true, "the outage's first failure is worth a warning")
        #expect(loop.link == .down)
        #expect(loop.nextStep() == .pause(seconds: 1), "reconnect after the connect back-off")
        #expect(loop.nextStep() == .awaitCommit, "burst 2's commit belongs to the old connection: it ends first")
        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.releasedThrough == 1, "burst 2's output died with the connection: never released")
        #expect(loop.nextStep() == .connect)
    }

    @Test("A burst read just before the loss was noticed is still committed, never released")
    func burstReadBeforeLossStillCommitted() {
        var loop = connectedLoop(pipelined: true)
        #expect(loop.burstRead(messages: 8) == .startCommit(burst: 1))
        // The read that fails still hands over what it read: burst 2 waits for burst 1.
        #expect(loop.burstRead(messages: 2) == .awaitCommit)
        #expect(loop.commitEnded(succeeded: true, at: start) == .startCommit(burst: 2))
        #expect(loop.connectionLost(at: start) == true)
        #expect(loop.nextStep() == .pause(seconds: 1))
        #expect(loop.nextStep() == .awaitCommit)
        // A commit that fails after the loss needs no connection dropped twice and adds no
        // commit back-off: the reconnect follows at once.
        #expect(loop.commitEnded(succeeded: false, at: start) == .dropConnection(abandoned: nil))
        #expect(loop.releasedThrough == 1)
        #expect(loop.nextStep() == .connect)
    }

    @Test("Failed connects back off exponentially up to the maximum and warn once per outage")
    func connectBackoff() {
        var loop = IngestLoop(pipelined: true, reconnectDelay: delay, now: start)
        #expect(loop.nextStep() == .connect)
        #expect(loop.connectFailed(at: start) == true)
        #expect(loop.nextStep() == .pause(seconds: 1))
        #expect(loop.nextStep() == .connect)
        #expect(loop.connectFailed(at: start) == false, "one warning per outage")
        #expect(loop.nextStep() == .pause(seconds: 2))
        #expect(loop.nextStep() == .connect)
        #expect(loop.connectFailed(at: start) == false)
        #expect(loop.nextStep() == .pause(seconds: 4))
        #expect(loop.nextStep() == .connect)
        #expect(loop.connectFailed(at: start) == false)
        #expect(loop.nextStep() == .pause(seconds: 4), "capped at the maximum")
        #expect(loop.nextStep() == .connect)

        loop.connectionOpened()
        #expect(loop.link == .connecting)
        #expect(loop.nextStep() == .service)
        #expect(loop.connected(at: start + .seconds(10)) == nil, "the first connection")
        #expect(loop.link == .connected)

        #expect(loop.connectionLost(at: start + .seconds(20)) == true, "a new outage warns again")
        #expect(loop.nextStep() == .pause(seconds: 1), "the CONNACK reset the back-off")
        #expect(loop.nextStep() == .connect)
        #expect(loop.connectFailed(at: start + .seconds(21)) == false)
        #expect(loop.nextStep() == .pause(seconds: 2))
        #expect(loop.nextStep() == .connect)
        loop.connectionOpened()
        #expect(loop.connected(at: start + .seconds(25)) == .seconds(5), "restored after the outage")
    }

    // MARK: - Stop

    @Test("Stop while a burst commits waits for the commit, releases its output, then finishes")
    func stopWhileCommitting() {
        var loop = connectedLoop(pipelined: true)
        #expect(loop.burstRead(messages: 12) == .startCommit(burst: 1))
        loop.stopRequested()
        #expect(loop.nextStep() == .awaitCommit, "drain: the burst read is committed first")
        #expect(loop.releasedThrough == 0)
        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.releasedThrough == 1, "its PUBACKs leave before DISCONNECT")
        #expect(loop.nextStep() == .finish(flush: true))
    }

    @Test("Stop while a burst commits and the commit fails: dropped, nothing released, finished without flushing")
    func stopWhileCommitFails() {
        var loop = connectedLoop(pipelined: true)
        #expect(loop.burstRead(messages: 12) == .startCommit(burst: 1))
        loop.stopRequested()
        #expect(loop.nextStep() == .awaitCommit)
        #expect(loop.commitEnded(succeeded: false, at: start) == .dropConnection(abandoned: nil))
        #expect(loop.releasedThrough == 0)
        #expect(loop.nextStep() == .finish(flush: false), "no back-off and no reconnect after stop")
    }

    @Test("Stop with nothing in flight finishes at once; it flushes only a live connection")
    func stopIdle() {
        var connected = connectedLoop(pipelined: true)
        connected.stopRequested()
        #expect(connected.nextStep() == .finish(flush: true))

        var neverConnected = IngestLoop(pipelined: true, reconnectDelay: delay, now: start)
        neverConnected.stopRequested()
        #expect(neverConnected.nextStep() == .finish(flush: false))

        var backingOff = IngestLoop(pipelined: true, reconnectDelay: delay, now: start)
        #expect(backingOff.nextStep() == .connect)
        _ = backingOff.connectFailed(at: start)
        backingOff.stopRequested()
        #expect(backingOff.nextStep() == .finish(flush: false), "stop cuts the back-off short")

        var lost = connectedLoop(pipelined: true)
        _ = lost.connectionLost(at: start)
        lost.stopRequested()
        #expect(lost.nextStep() == .finish(flush: false), "nothing is written on a lost connection")
    }

    // MARK: - Serial mode

    @Test("Serial mode never reads while a commit runs, and waits for each commit at once")
    func serialNeverReadsWhileCommitting() {
        var loop = connectedLoop(pipelined: false)
        #expect(loop.mayRead)
        #expect(loop.burstRead(messages: 5) == .commitAndAwait(burst: 1))
        #expect(!loop.mayRead, "nothing is read while burst 1 commits")
        #expect(loop.releasedThrough == 0)
        #expect(loop.commitEnded(succeeded: true, at: start) == .none)
        #expect(loop.mayRead)
        #expect(loop.releasedThrough == 1)
        #expect(loop.burstRead(messages: 5) == .commitAndAwait(burst: 2))
    }

    @Test("A shim that does not capture turns a pipelined loop serial")
    func stopPipelining() {
        var loop = connectedLoop(pipelined: true)
        loop.stopPipelining()
        #expect(!loop.isPipelined)
        #expect(loop.burstRead(messages: 5) == .commitAndAwait(burst: 1))
        #expect(!loop.mayRead)
    }
}
