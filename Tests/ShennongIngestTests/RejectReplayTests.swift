import Foundation
import Logging
import MosquittoClient
import ShennongCore
import ShennongStore
import Synchronization
import Testing

@testable import ShennongIngest

/// Reject replay in process: rejects stored under a broken profile, the profile fixed, the
/// rejects decoded again through the pipeline (its rules included), twice.
@Suite
struct RejectReplayTests {
    /// Maps only `temp`: the probe's `do` field is an unknown metric.
    static let broken = DeviceProfile(
        name: "probe", domain: .water, description: "broken", expectedInterval: 60,
        fields: ["temp": FieldMapping(metric: "water_temp")], passThroughCanonical: false)
    /// Maps `do` too.
    static let fixed = DeviceProfile(
        name: "probe", domain: .water, description: "fixed", expectedInterval: 60,
        fields: ["temp": FieldMapping(metric: "water_temp"), "do": FieldMapping(metric: "dissolved_oxygen")],
        passThroughCanonical: false)

    /// Every batch the pipeline prepared it with, applied or not.
    final class RecordingObserver: IngestObserver {
        let batches = Mutex<[IngestBatch]>([])
        func prepare(_ batch: IngestBatch, previousStored: () -> Void) -> IngestObservation {
            previousStored()
            batches.withLock { $0.append(batch) }
            return {}
        }
        func abandonPending() {}
    }

    static func pipeline(
        _ store: Store, profile: DeviceProfile, at time: Int64, observer: (any IngestObserver)? = nil
    ) -> IngestPipeline {
        IngestPipeline(
            store: store, profiles: ["probe": profile], topics: TopicScheme(prefix: "agri"),
            options: IngestOptions(defaultProfile: "probe"), observer: observer, clock: .fixed(time), logger: Logger(label: "test"))
    }

    static func message(_ text: String, device: String = "pond-7") -> MQTTMessage {
        MQTTMessage(topic: "agri/\(device)/telemetry", payload: Array(text.utf8))
    }

    @Test("rejects of a broken profile stored at their receive time after the fix; the rest keep a row with the reason of now; a second replay stores nothing twice")
    func replayAfterFix() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("s.db").path, durable: false)
        let now = Int64(Date().timeIntervalSince1970) * 1000
        let (t1, t2) = (now - 600_000, now - 300_000)
        // Two messages without their own time, a third with one, and one that is not JSON.
        try Self.pipeline(store, profile: Self.broken, at: t1).handle([Self.message(#"{"do": 5.5, "temp": 27.1}"#)])
        try Self.pipeline(store, profile: Self.broken, at: t2).handle([
            Self.message(#"{"do": 2.5, "temp": 27.3}"#), Self.message(#"{"ts": \#(t1 + 1000), "values": {"do": 4.0}}"#),
            Self.message("{not json"),
        ])
        #expect(try store.rejects().count == 4)
        #expect(try store.readings(device: "pond-7", metric: "dissolved_oxygen", from: 0, to: .max).isEmpty)

        let observer = RecordingObserver()
        let pipeline = Self.pipeline(store, profile: Self.fixed, at: now, observer: observer)
        // A dry run counts and writes nothing; the rules see nothing.
        let dry = try pipeline.replayRejects(RejectReplayRequest(dryRun: true), from: store)
        #expect(dry == RejectReplayCounts(examined: 4, stored: 5, stillRejected: 1, replayedRejects: 3, dryRun: true))
        #expect(try store.rejects().count == 4)
        #expect(observer.batches.withLock { $0.isEmpty })

        // Only this device's unknown metrics: the malformed one is not examined.
        let byReason = try pipeline.replayRejects(RejectReplayRequest(reason: "unknown_metric", device: "pond-7"), from: store)
        #expect(byReason == RejectReplayCounts(examined: 3, stored: 3, stillRejected: 0, replayedRejects: 3))
        let oxygen = try store.readings(device: "pond-7", metric: "dissolved_oxygen", from: 0, to: .max)
        #expect(oxygen.map(\.timestamp) == [t1, t1 + 1000, t2] && oxygen.map(\.value) == [5.5, 4.0, 2.5])
        // The rules saw the replayed readings (the temperatures again: duplicates, seen once more).
        let seen = observer.batches.withLock { $0.flatMap(\.readings) }
        #expect(seen.filter { $0.metric == "dissolved_oxygen" }.count == 3 && seen.count == 5)
        let left = try store.rejects()
        #expect(left.count == 1 && left.first?.code == .malformedJSON)

        // Everything: the malformed one stays, one row, with its reason.
        let all = try pipeline.replayRejects(RejectReplayRequest(), from: store)
        #expect(all == RejectReplayCounts(examined: 1, stored: 0, stillRejected: 1, replayedRejects: 0))
        let again = try pipeline.replayRejects(RejectReplayRequest(), from: store)
        #expect(again == RejectReplayCounts(examined: 1, stored: 0, stillRejected: 1, replayedRejects: 0))
        let still = try store.rejects()
        #expect(still.count == 1 && still.first?.code == .malformedJSON && still.first?.receivedAt == t2)
        #expect(try store.readings(device: "pond-7", metric: "dissolved_oxygen", from: 0, to: .max).count == 3)
        #expect(try store.readings(device: "pond-7", metric: "water_temp", from: 0, to: .max).count == 2)
        // Since a time after every reject: nothing examined.
        #expect(try pipeline.replayRejects(RejectReplayRequest(since: t2 + 1), from: store) == RejectReplayCounts())
    }
}
