import Foundation
import Logging
import MosquittoClient
import ShennongCore
import ShennongStore
import Synchronization
import Testing

@testable import ShennongIngest

/// The ingest pipeline in process, without a broker: bursts of ``MQTTMessage``s decoded and
/// committed to a real SQLite ``Store`` in a temporary directory.
@Suite
struct IngestPipelineTests {
    /// A store in a directory of its own, removed with the fixture.
    final class Fixture: Sendable {
        let directory: URL
        let store: Store

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-ingest-\(UUID().uuidString)")
            store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false, logger: quiet)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func pipeline(
            _ options: IngestOptions = IngestOptions(), profiles: [String: DeviceProfile] = IngestPipelineTests.generic,
            store: (any ReadingIngest & DeviceRegistry)? = nil
        ) -> IngestPipeline {
            IngestPipeline(store: store ?? self.store, profiles: profiles, topics: TopicScheme(prefix: "agri"), options: options, logger: quiet)
        }
    }

    static let generic = [DeviceProfile.generic.name: DeviceProfile.generic]

    /// Now, in epoch ms, rounded to the second (readings must not be in the future or too old).
    static var now: Int64 { Int64(Date().timeIntervalSince1970) * 1000 }

    static func telemetry(_ device: String, ts: Int64, _ values: [String: Double]) -> MQTTMessage {
        let fields = values.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        return MQTTMessage(topic: "agri/\(device)/telemetry", payload: Array("{\"ts\": \(ts), \"values\": {\(fields)}}".utf8))
    }

    @Test("a burst from new devices: every reading committed, the devices registered with the default profile and their inferred domain")
    func burstCommitted() throws {
        let f = try Fixture()
        let pipeline = f.pipeline()
        let base = Self.now - 600_000
        var messages: [MQTTMessage] = []
        for minute in 0..<5 {
            for pond in 1...4 {
                messages.append(
                    Self.telemetry("pond-\(pond)", ts: base + Int64(minute) * 60_000, ["dissolved_oxygen": 5 + Double(pond), "ph": 7.1]))
            }
            messages.append(Self.telemetry("soil-1", ts: base + Int64(minute) * 60_000, ["soil_moisture": 30]))
        }
        let result = try pipeline.handle(messages)
        #expect(result == CommitResult(inserted: 45, duplicates: 0, rejects: 0))
        #expect(try f.store.readings(device: "pond-3", metric: "dissolved_oxygen", from: 0, to: .max).map(\.value) == Array(repeating: 8, count: 5))
        #expect(try f.store.readings(device: "soil-1", from: 0, to: .max, limit: 100).count == 5)
        let devices = try f.store.devices().sorted { $0.id < $1.id }
        #expect(devices.map(\.id) == ["pond-1", "pond-2", "pond-3", "pond-4", "soil-1"])
        #expect(devices.allSatisfy { $0.profile == "generic" })
        #expect(devices.map(\.domain) == [.water, .water, .water, .water, .soil])
        #expect(try f.store.rejects().isEmpty)
        #expect(pipeline.storageError == nil)

        // Redelivered (a crash before the PUBACKs): stored once, counted as duplicates.
        #expect(try pipeline.handle(messages) == CommitResult(inserted: 0, duplicates: 45, rejects: 0))
        #expect(try f.store.devices().count == 5)
    }

    @Test("unusable messages are rejects with their raw bytes, topic, device and reason; the usable part of a burst is stored")
    func rejectsStoredWithReason() throws {
        let f = try Fixture()
        let pipeline = f.pipeline(IngestOptions(maxPayloadBytes: 200))
        let ts = Self.now - 60_000
        let malformed = Array("{\"ts\": 1, \"values\": ".utf8)
        let messages = [
            Self.telemetry("pond-1", ts: ts, ["ph": 7.2]),
            MQTTMessage(topic: "agri/pond-1/telemetry", payload: malformed),
            MQTTMessage(topic: "agri/bad id/telemetry", payload: Array("{\"ph\": 7}".utf8)),
            MQTTMessage(topic: "agri/pond-1/other", payload: Array("{\"ph\": 7}".utf8)),
            MQTTMessage(topic: "agri/pond-2/telemetry", payload: Array(repeating: UInt8(ascii: " "), count: 201)),
            MQTTMessage(topic: "agri/pond-1/status", payload: Array("sleeping".utf8)),
        ]
        let result = try pipeline.handle(messages)
        #expect(result.inserted == 1)
        #expect(result.rejects == 5)
        let rejects = try f.store.rejects().sorted { $0.code.rawValue < $1.code.rawValue }
        #expect(rejects.map(\.code) == [.invalidDeviceID, .invalidTopic, .malformedJSON, .payloadTooLarge, .unsupportedPayload])
        let byCode = Dictionary(uniqueKeysWithValues: rejects.map { ($0.code, $0) })
        #expect(byCode[.malformedJSON]?.payload == malformed)
        #expect(byCode[.malformedJSON]?.device == "pond-1")
        #expect(byCode[.malformedJSON]?.topic == "agri/pond-1/telemetry")
        #expect(byCode[.invalidTopic]?.device == nil)
        #expect(byCode[.invalidTopic]?.reason == "topic agri/pond-1/other is not agri/{device}/telemetry or /status")
        #expect(byCode[.invalidDeviceID]?.reason == "device id \"bad id\" must match [A-Za-z0-9_.-]{1,64}")
        #expect(byCode[.payloadTooLarge]?.reason == "payload of 201 bytes is larger than the limit of 200")
        #expect(byCode[.payloadTooLarge]?.device == "pond-2")
        #expect(byCode[.unsupportedPayload]?.reason == "status payload must be online or offline, not \"sleeping\"")
        #expect(try f.store.readings(device: "pond-1", from: 0, to: .max, limit: 10).map(\.value) == [7.2])
        #expect(try f.store.devices().map(\.id) == ["pond-1"], "a rejected message registers nobody")
    }

    @Test("unknown devices under the reject policy: rejected with the reason, nothing registered; a registered device is stored")
    func unknownDeviceRejected() throws {
        let f = try Fixture()
        try f.store.addDevice(Device(id: "known-1", profile: "generic", domain: .weather, createdAt: Self.now - 3_600_000))
        let pipeline = f.pipeline(IngestOptions(unknownDevices: .reject))
        let ts = Self.now - 60_000
        let result = try pipeline.handle([
            Self.telemetry("stranger-1", ts: ts, ["air_temp": 21]),
            Self.telemetry("known-1", ts: ts, ["air_temp": 22]),
            MQTTMessage(topic: "agri/known-1/status", payload: Array("online".utf8)),
        ])
        #expect(result.inserted == 1 && result.rejects == 1)
        let rejects = try f.store.rejects()
        #expect(rejects.map(\.code) == [.unknownDevice])
        #expect(rejects.first?.device == "stranger-1")
        #expect(rejects.first?.reason == "device stranger-1 is not registered (ingest.unknown_devices: reject)")
        #expect(try f.store.devices().map(\.id) == ["known-1"])
        #expect(try f.store.readings(device: "stranger-1", from: 0, to: .max, limit: 10).isEmpty)
        let known = try #require(try f.store.deviceRecords(id: "known-1").first)
        #expect(known.presence == "online")
        #expect(known.lastSeen != nil)
    }

    @Test("a gateway's new children: registered with the child profile under register, rejected under reject")
    func gatewayChildren() throws {
        let profiles = try ProfileRegistry.load(directory: Self.repositoryRoot.appendingPathComponent("devices").path)
        let ts = Self.now - 60_000
        let payload = """
            {"ts": \(ts), "seq": 88, "devices": {"pond-07": {"do": 5.12, "temp": 26.8, "aerator": false}, \
            "pond-08": {"ts": \(ts), "values": {"do": 3.4, "temp": 27.1, "aerator": true}}}}
            """
        let message = MQTTMessage(topic: "agri/dtu-1/telemetry", payload: Array(payload.utf8))
        for policy in IngestOptions.UnknownDevices.allCases {
            let f = try Fixture()
            try f.store.addDevice(Device(id: "dtu-1", profile: "dtu-gateway", domain: .water, createdAt: Self.now - 3_600_000))
            let result = try f.pipeline(IngestOptions(unknownDevices: policy), profiles: profiles).handle([message])
            let devices = Dictionary(uniqueKeysWithValues: try f.store.devices().map { ($0.id, $0) })
            switch policy {
            case .register:
                #expect(result.inserted == 6 && result.rejects == 0)
                #expect(devices["pond-07"]?.profile == "pond-oxygen-probe")
                #expect(devices["pond-08"]?.profile == "pond-oxygen-probe")
                #expect(try f.store.readings(device: "pond-08", metric: "dissolved_oxygen", from: 0, to: .max).map(\.value) == [3.4])
            case .reject:
                #expect(result.inserted == 0 && result.rejects == 2)
                #expect(Set(devices.keys) == ["dtu-1"])
                #expect(
                    Set(try f.store.rejects().map(\.reason)) == [
                        "child pond-07 of gateway dtu-1 is not registered (ingest.unknown_devices: reject)",
                        "child pond-08 of gateway dtu-1 is not registered (ingest.unknown_devices: reject)",
                    ])
            }
        }
    }

    @Test("a failed commit throws, stores nothing and says why; the next burst registers its devices again and clears the error")
    func failedCommit() throws {
        let f = try Fixture()
        let flaky = FailingStore(store: f.store)
        let pipeline = f.pipeline(store: flaky)
        let message = Self.telemetry("pond-9", ts: Self.now - 60_000, ["ph": 7])

        flaky.failNext()
        let first = pipeline.prepare([message])
        #expect(first.batch.newDevices.map(\.id) == ["pond-9"])
        #expect(throws: StoreError.self) { try pipeline.commit(first) }
        #expect(pipeline.storageError?.contains("disk full") == true)
        #expect(try f.store.devices().isEmpty)

        // Redelivered: the registry cache forgot pond-9 (never stored), so it is new again.
        let second = pipeline.prepare([message])
        #expect(second.batch.newDevices.map(\.id) == ["pond-9"])
        #expect(try pipeline.commit(second).inserted == 1)
        #expect(pipeline.storageError == nil)
        #expect(try f.store.devices().map(\.id) == ["pond-9"])

        // Known now: the next burst registers nothing.
        #expect(pipeline.prepare([Self.telemetry("pond-9", ts: Self.now - 30_000, ["ph": 7.1])]).batch.newDevices.isEmpty)
    }

    @Test("a dropped burst (the one before it failed): its devices are forgotten by the next prepare")
    func droppedBurst() throws {
        let f = try Fixture()
        let pipeline = f.pipeline()
        let message = Self.telemetry("pond-5", ts: Self.now - 60_000, ["ph": 7])
        #expect(pipeline.prepare([message]).batch.newDevices.map(\.id) == ["pond-5"])
        pipeline.dropped()
        #expect(pipeline.prepare([message]).batch.newDevices.map(\.id) == ["pond-5"])
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// The SQLite store, with a commit that fails once on demand (a full disk).
final class FailingStore: ReadingIngest, DeviceRegistry {
    let store: Store
    private let failing = Mutex(false)

    init(store: Store) { self.store = store }

    func failNext() { failing.withLock { $0 = true } }

    var location: String { store.location }

    func commit(_ batch: IngestBatch) throws -> CommitResult {
        if failing.withLock({ flag in defer { flag = false }; return flag }) {
            throw StoreError(.io, "disk full")
        }
        return try store.commit(batch)
    }

    func addDevice(_ device: Device) throws { try store.addDevice(device) }
    func upsertDevices(_ devices: [Device]) throws -> Int { try store.upsertDevices(devices) }
    func devices() throws -> [Device] { try store.devices() }
    func deviceRecords(site: String?, domain: Domain?, id: String?) throws -> [DeviceRecord] {
        try store.deviceRecords(site: site, domain: domain, id: id)
    }
    func device(id: String) throws -> Device? { try store.device(id: id) }
}

let quiet = Logger(label: "shennong.test", factory: { _ in SwiftLogNoOpLogHandler() })

/// The barrier between the commit thread and the ingest thread's wait.
struct SequenceBarrierTests {
    /// The sequences whose waits returned, in order.
    final class Released: Sendable {
        let list = Mutex<[UInt64]>([])
        var value: [UInt64] { list.withLock { $0 } }
    }

    @Test("wait returns at once for a resolved sequence, and otherwise only once its sequence is reached")
    func waitsForItsSequence() {
        let barrier = SequenceBarrier()
        barrier.wait(through: 0)
        barrier.advance(to: 1)
        barrier.wait(through: 1)

        let released = Released()
        let done = DispatchSemaphore(value: 0)
        for sequence: UInt64 in [3, 4] {
            Thread {
                barrier.wait(through: sequence)
                released.list.withLock { $0.append(sequence) }
                done.signal()
            }.start()
        }
        Thread.sleep(forTimeInterval: 0.1)
        #expect(released.value.isEmpty)
        barrier.advance(to: 2)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(released.value.isEmpty, "2 does not release a wait for 3")
        barrier.advance(to: 3)
        #expect(done.wait(timeout: .now() + 5) == .success)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(released.value == [3])
        barrier.advance(to: 2)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(released.value == [3], "the barrier never goes back")
        barrier.advance(to: 10)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(released.value == [3, 4])
    }
}
