import Foundation
import MosquittoClient
import ShennongTestSupport
import Synchronization

/// Runs an ``MQTTIngestConnection`` on its own thread and records what it commits.
final class ConsumerHarness: Sendable {

    /// Called on the commit thread with each batch and its index before it counts as committed;
    /// throw to refuse it.
    typealias Hook = @Sendable (_ batch: [MQTTMessage], _ index: Int) throws -> Void

    let connection: MQTTIngestConnection
    private let hook: Hook?
    private let maxBatch: Int
    private struct Record {
        var committed: [MQTTMessage] = []
        var handed: [[MQTTMessage]] = []
        var running = false
        var done = false
    }

    private let record = Mutex(Record())

    /// `pipelined` is passed to ``MQTTIngestConnection``: `false` commits one burst at a time.
    init(
        broker: TestBroker,
        port: Int? = nil,
        clientID: String,
        topics: [String] = ["t/#"],
        keepAlive: Int = 10,
        maxBatch: Int = 5000,
        pipelined: Bool = true,
        hook: Hook? = nil
    ) throws {
        let configuration = MQTTConfiguration(
            host: broker.host,
            port: port ?? broker.port,
            clientID: clientID,
            keepAlive: keepAlive,
            cleanSession: false,
            subscriptions: topics.map { MQTTConfiguration.Subscription(topic: $0, qos: 1) }
        )
        connection = try MQTTIngestConnection(configuration: configuration, pipelined: pipelined)
        self.hook = hook
        self.maxBatch = maxBatch
    }

    /// Starts `run` on a dedicated thread.
    func start() {
        record.withLock { $0.running = true }
        let thread = Thread { [self] in
            // Bursts are recorded as they are read (run thread); the hook and the commit
            // run on the connection's commit thread.
            connection.run(maxBatch: maxBatch) { [self] batch in
                let index: Int = record.withLock {
                    $0.handed.append(batch)
                    return $0.handed.count - 1
                }
                return { [self] in
                    try hook?(batch, index)
                    record.withLock { $0.committed.append(contentsOf: batch) }
                }
            }
            record.withLock { $0.done = true }
        }
        thread.name = "mqtt-ingest-test"
        thread.start()
    }

    var committed: [MQTTMessage] { record.withLock { $0.committed } }
    var committedCount: Int { record.withLock { $0.committed.count } }
    var batches: [[MQTTMessage]] { record.withLock { $0.handed } }
    var finished: Bool { record.withLock { $0.done } }

    /// Stops the loop and waits (blocking, bounded) until `run` has returned.
    @discardableResult
    func stop(timeout: TimeInterval = 15) -> Bool {
        let wasRunning = record.withLock { $0.running }
        guard wasRunning else { return true }
        connection.stop()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !finished && Date() < deadline {
            usleep(5_000)
        }
        return finished
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func waitUntil(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() {
            return true
        }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A connected publisher for tests (QoS 1, up to 1000 in flight).
func makePublisher(_ broker: TestBroker, clientID: String = "test-publisher-\(UUID().uuidString.prefix(8))") throws -> MQTTPublisher {
    let publisher = try MQTTPublisher(
        configuration: MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: clientID, cleanSession: true, maxInflight: 1000
        ),
        maxUnacknowledged: 2000
    )
    try publisher.connect(timeout: .seconds(10))
    return publisher
}

/// Test payloads: text with non-ASCII characters plus binary bytes, unique per index.
func testPayload(_ index: Int, tag: String = "m") -> [UInt8] {
    Array("{\"seq\":\(index),\"tag\":\"\(tag)\",\"name\":\"溶解氧\"}".utf8) + [0, 255, UInt8(index % 256)]
}

/// Publishes `count` QoS 1 messages on `t/{prefix}/{i % 10}` and waits for every PUBACK.
func publishBatch(_ publisher: MQTTPublisher, prefix: String, range: Range<Int>) async throws -> Bool {
    for index in range {
        try publisher.publish(topic: "t/\(prefix)/\(index % 10)", payload: testPayload(index, tag: prefix), qos: 1)
    }
    return await waitUntil(timeout: .seconds(30)) { publisher.acknowledgedCount >= publisher.publishedCount }
}

/// The `seq` values of messages whose tag is `prefix`.
func sequenceNumbers(_ messages: [MQTTMessage], prefix: String) -> [Int] {
    messages.compactMap { message in
        guard message.topic.hasPrefix("t/\(prefix)/") else { return nil }
        let text = String(decoding: message.payload.dropLast(3), as: UTF8.self)
        guard let start = text.range(of: "\"seq\":"), let end = text[start.upperBound...].firstIndex(of: ",") else { return nil }
        return Int(text[start.upperBound..<end])
    }
}
