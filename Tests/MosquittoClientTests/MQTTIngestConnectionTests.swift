import Foundation
import MosquittoClient
import ShennongTestSupport
import Synchronization
import Testing

/// Real-broker tests of the ack-after-commit consumer and the publisher.
///
/// Serialized: each test starts its own mosquitto and the machine has two cores.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MQTTIngestConnectionTests {
    struct Refused: Error {}

    @Test("5,000 QoS 1 messages are all handed over intact, exactly once")
    func deliversEveryMessage() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "bulk-consumer", topics: ["t/bulk/#"])
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })

        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        let count = 5_000
        let started = ContinuousClock.now
        for index in 0..<count {
            try publisher.publish(topic: "t/bulk/\(index % 10)", payload: testPayload(index, tag: "bulk"), qos: 1)
        }
        let published = ContinuousClock.now
        let allCommitted = await waitUntil(timeout: .seconds(60)) { consumer.committedCount >= count }
        let finished = ContinuousClock.now
        #expect(allCommitted)
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(10)))

        // Give a duplicate, if any, the chance to show up before counting exactly.
        try await Task.sleep(for: .milliseconds(300))
        let messages = consumer.committed
        #expect(messages.count == count)
        let expected = Dictionary(uniqueKeysWithValues: (0..<count).map { ("t/bulk/\($0 % 10)#\($0)", testPayload($0, tag: "bulk")) })
        var seen = Set<String>()
        for (message, sequence) in zip(messages, sequenceNumbers(messages, prefix: "bulk")) {
            let key = "\(message.topic)#\(sequence)"
            #expect(expected[key] == message.payload, "payload of \(key) altered")
            #expect(message.qos == 1)
            seen.insert(key)
        }
        #expect(seen.count == count)

        let batches = consumer.batches
        print("""
            [measure] \(count) QoS 1 messages: published in \(published - started), \
            all committed after \(finished - started); \(batches.count) batches, \
            largest \(batches.map(\.count).max() ?? 0)
            """)
    }

    @Test("30,000 QoS 1 messages through publisher back-pressure and the consumer")
    func sustainsTensOfThousands() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "volume-consumer", topics: ["t/volume/#"])
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })
        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        let count = 30_000
        let started = ContinuousClock.now
        #expect(try await publishBatch(publisher, prefix: "volume", range: 0..<count))
        #expect(await waitUntil(timeout: .seconds(60)) { consumer.committedCount >= count })
        let elapsed = ContinuousClock.now - started
        #expect(Set(sequenceNumbers(consumer.committed, prefix: "volume")).count == count)
        print("[measure] \(count) QoS 1 messages end to end in \(elapsed) (\(consumer.batches.count) batches)")
    }

    @Test("A slow commit lets batches grow, up to maxBatch")
    func slowCommitGrowsBatches() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        // mosquitto 2.0.11 was seen sending over 3,000 unacknowledged messages in a burst despite
        // max_inflight_messages 1000: maxBatch, not the broker, is what bounds a batch.
        let consumer = try ConsumerHarness(broker: broker, clientID: "slow-consumer", maxBatch: 1_000) { _, _ in
            usleep(20_000)  // a 20 ms transaction
        }
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })
        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        let started = ContinuousClock.now
        #expect(try await publishBatch(publisher, prefix: "slow", range: 0..<5_000))
        #expect(await waitUntil(timeout: .seconds(60)) { consumer.committedCount >= 5_000 })
        let elapsed = ContinuousClock.now - started
        let sizes = consumer.batches.map(\.count)
        #expect(Set(sequenceNumbers(consumer.committed, prefix: "slow")) == Set(0..<5_000))
        #expect((sizes.max() ?? 0) > 100)
        #expect((sizes.max() ?? 0) <= 1_000)
        print("[measure] 5000 messages with a 20 ms commit: \(sizes.count) batches, largest \(sizes.max() ?? 0), done after \(elapsed)")
    }

    @Test("A batch whose commit throws is not acknowledged: the broker redelivers it")
    func failedCommitIsRedelivered() async throws {
        let broker = try TestBroker(persistence: false, extraConfiguration: ["log_type debug"])
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "failing-consumer") { batch, index in
            if index == 0 {
                throw Refused()
            }
        }
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })

        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        let count = 500
        #expect(try await publishBatch(publisher, prefix: "redo", range: 0..<count))
        #expect(await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(consumer.committed, prefix: "redo")).count == count
        })

        let batches = consumer.batches
        let refused = try #require(batches.first)
        #expect(!refused.isEmpty)
        let committed = Set(sequenceNumbers(consumer.committed, prefix: "redo"))
        let refusedSequences = sequenceNumbers(refused, prefix: "redo")
        #expect(refusedSequences.allSatisfy { committed.contains($0) }, "refused messages came back")
        #expect(committed == Set(0..<count), "nothing lost")
        #expect(consumer.connection.isConnected)

        // The broker received exactly one PUBACK per message: the PUBACKs queued for the
        // refused batch were discarded with the dropped connection, never sent later.
        let pubacks = { broker.log().components(separatedBy: "Received PUBACK from failing-consumer").count - 1 }
        #expect(await waitUntil(timeout: .seconds(10)) { pubacks() >= count })
        try await Task.sleep(for: .milliseconds(300))
        #expect(pubacks() == count)
    }

    @Test("A consumer that dies mid-commit acknowledged nothing: the session's next owner gets the batch")
    func uncommittedBatchIsNotAcknowledged() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let release = DispatchSemaphore(value: 0)
        let stuck = ConsumerHarness.Flag()
        // The first owner blocks in its first commit, as if it crashed there.
        let first = try ConsumerHarness(broker: broker, clientID: "takeover") { _, index in
            if index == 0 {
                stuck.set()
                _ = release.wait(timeout: .now() + 60)
                throw Refused()
            }
        }
        first.start()
        defer {
            first.connection.stop()
            release.signal()
            first.stop()
        }
        #expect(await waitUntil(timeout: .seconds(10)) { first.connection.isSubscribed })

        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        #expect(try await publishBatch(publisher, prefix: "held", range: 0..<200))
        #expect(await waitUntil(timeout: .seconds(10)) { stuck.isSet })
        let held = Set(sequenceNumbers(try #require(first.batches.first), prefix: "held"))
        #expect(!held.isEmpty)

        // A second process takes the session over (same client id): the broker must still
        // hold every message of the uncommitted batch as unacknowledged and redeliver it.
        let second = try ConsumerHarness(broker: broker, clientID: "takeover")
        second.start()
        defer { second.stop() }
        let complete = await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(second.committed, prefix: "held")).isSuperset(of: held)
        }
        #expect(complete, "the batch held in the first consumer's commit reached the second")
        #expect(await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(second.committed, prefix: "held")) == Set(0..<200)
        })
    }

    @Test("Persistent session: messages published while the consumer is offline arrive when it returns")
    func persistentSessionCatchesUp() async throws {
        let broker = try TestBroker(persistence: true)
        defer { broker.stop() }
        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }

        let first = try ConsumerHarness(broker: broker, clientID: "station-7")
        first.start()
        #expect(await waitUntil(timeout: .seconds(10)) { first.connection.isSubscribed })
        #expect(try await publishBatch(publisher, prefix: "online", range: 0..<100))
        #expect(await waitUntil(timeout: .seconds(10)) { first.committedCount == 100 })
        #expect(first.stop(), "run() returned after stop()")
        #expect(!first.connection.isConnected)
        #expect(await waitUntil(timeout: .seconds(5)) { broker.log().contains("Client station-7 disconnected.") },
                "stop() sent DISCONNECT")

        #expect(try await publishBatch(publisher, prefix: "offline", range: 0..<1_000))

        let second = try ConsumerHarness(broker: broker, clientID: "station-7")
        second.start()
        defer { second.stop() }
        #expect(await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(second.committed, prefix: "offline")) == Set(0..<1_000)
        })
        // What the first run committed was acknowledged on stop(): it is not delivered again.
        try await Task.sleep(for: .milliseconds(300))
        #expect(sequenceNumbers(second.committed, prefix: "online").isEmpty)
    }

    @Test("Broker restarted mid-stream: the consumer reconnects by itself and misses nothing")
    func reconnectsAfterBrokerRestart() async throws {
        let broker = try TestBroker(persistence: true)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "restart-consumer")
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })

        let before = try makePublisher(broker)
        #expect(try await publishBatch(before, prefix: "before", range: 0..<300))
        before.disconnect()
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.committedCount >= 300 })

        broker.stop()
        #expect(await waitUntil(timeout: .seconds(5)) { !consumer.connection.isConnected })
        let restarted = ContinuousClock.now
        try broker.restart()

        // Published as soon as the broker is back, possibly before the consumer reconnected.
        let after = try makePublisher(broker)
        defer { after.disconnect() }
        #expect(try await publishBatch(after, prefix: "after", range: 0..<500))
        #expect(await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(consumer.committed, prefix: "after")) == Set(0..<500)
        })
        #expect(consumer.connection.isConnected)
        print("[measure] broker restart: consumer reconnected and caught up \(ContinuousClock.now - restarted) after the restart began")
    }

    @Test("Broker killed (SIGKILL) and started again: the consumer reconnects by itself")
    func reconnectsAfterBrokerKill() async throws {
        let broker = try TestBroker(persistence: true)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "kill-consumer")
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })
        // Let an autosave (every second) record the subscription before the kill.
        try await Task.sleep(for: .milliseconds(1_500))

        broker.kill()
        #expect(await waitUntil(timeout: .seconds(5)) { !consumer.connection.isConnected })
        try await Task.sleep(for: .seconds(1))
        try broker.start()
        #expect(await waitUntil(timeout: .seconds(20)) { consumer.connection.isSubscribed })

        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        #expect(try await publishBatch(publisher, prefix: "revived", range: 0..<200))
        #expect(await waitUntil(timeout: .seconds(30)) {
            Set(sequenceNumbers(consumer.committed, prefix: "revived")) == Set(0..<200)
        })
    }

    @Test("The consumer starts before the broker and connects once it is up")
    func startsBeforeBroker() async throws {
        let port = freeLoopbackPort()
        let placeholder = try TestBroker(persistence: false)
        defer { placeholder.stop() }
        placeholder.stop()
        let consumer = try ConsumerHarness(broker: placeholder, port: port, clientID: "early-consumer")
        consumer.start()
        defer { consumer.stop() }
        try await Task.sleep(for: .milliseconds(700))
        #expect(!consumer.connection.isConnected)

        let broker = try TestBroker(persistence: false, port: port)

        defer { broker.stop() }
        #expect(await waitUntil(timeout: .seconds(15)) { consumer.connection.isSubscribed })
        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        #expect(try await publishBatch(publisher, prefix: "late", range: 0..<50))
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.committedCount == 50 })
    }

    @Test("publish() on the ingest connection is sent by its loop, from any thread")
    func ingestConnectionPublishes() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "alerting-consumer", topics: ["t/#"])
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })

        let connection = consumer.connection
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<25 {
                        try? connection.publish(
                            topic: "t/alerts/\(worker)", payload: testPayload(worker * 100 + index, tag: "alerts"), qos: 1
                        )
                    }
                }
            }
        }
        #expect(await waitUntil(timeout: .seconds(10)) {
            Set(sequenceNumbers(consumer.committed, prefix: "alerts")).count == 100
        })
    }

    @Test("QoS 1 publish() before the connection is up is queued and sent after CONNACK; QoS 0 throws")
    func publishBeforeConnect() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "early-alert")
        try consumer.connection.publish(topic: "t/queued/1", payload: testPayload(1, tag: "queued"), qos: 1)
        let dropped = #expect(throws: MQTTError.self) {
            try consumer.connection.publish(topic: "t/queued/2", payload: testPayload(2, tag: "queued"), qos: 0)
        }
        #expect(dropped?.code == 4)
        #expect(dropped?.message.contains("not currently connected") == true)
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { sequenceNumbers(consumer.committed, prefix: "queued") == [1] })
    }

    @Test("A refused CONNACK gives a readable error; the consumer keeps retrying without connecting")
    func refusedConnack() async throws {
        let broker = try TestBroker(persistence: false, extraConfiguration: ["allow_anonymous false"])
        defer { broker.stop() }
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: broker.port, clientID: "anonymous", cleanSession: true))
        let error = #expect(throws: MQTTError.self) { try publisher.connect(timeout: .seconds(5)) }
        #expect(error?.connackCode == 5)
        #expect(error?.message.contains("not authorised") == true)

        let consumer = try ConsumerHarness(broker: broker, clientID: "anonymous-consumer")
        consumer.start()
        defer { consumer.stop() }
        // One refusal for the publisher, then the consumer's attempts at 0, 0.2, 0.6, 1.4 s…
        #expect(await waitUntil(timeout: .seconds(3)) {
            broker.log().components(separatedBy: "disconnected, not authorised").count - 1 >= 4
        }, "the consumer kept retrying with back-off")
        #expect(!consumer.connection.isConnected)
    }

    @Test("An idle connection is kept alive by the hand-driven loop (PINGREQ), not dropped")
    func keepAliveWhileIdle() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "idle-consumer", keepAlive: 5)
        consumer.start()
        defer { consumer.stop() }
        #expect(await waitUntil(timeout: .seconds(10)) { consumer.connection.isSubscribed })
        // mosquitto drops a client silent for 1.5 × keep-alive = 7.5 s.
        var alwaysConnected = true
        let idleUntil = ContinuousClock.now + .seconds(9)
        while ContinuousClock.now < idleUntil {
            alwaysConnected = alwaysConnected && consumer.connection.isConnected
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(alwaysConnected)
        #expect(!broker.log().contains("idle-consumer has exceeded timeout"))
        let publisher = try makePublisher(broker)
        defer { publisher.disconnect() }
        #expect(try await publishBatch(publisher, prefix: "wake", range: 0..<10))
        #expect(await waitUntil(timeout: .seconds(5)) { consumer.committedCount == 10 })
    }

    @Test("stop() before run() makes run() return at once")
    func stopBeforeRun() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let consumer = try ConsumerHarness(broker: broker, clientID: "stopped-early")
        consumer.connection.stop()
        consumer.start()
        #expect(await waitUntil(timeout: .seconds(2)) { consumer.finished })
    }

    @Test("Publisher back-pressure keeps at most maxUnacknowledged messages in flight")
    func publisherBackPressure() async throws {
        let broker = try TestBroker(persistence: false)
        defer { broker.stop() }
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "bp", cleanSession: true, maxInflight: 50),
            maxUnacknowledged: 100
        )
        try publisher.connect()
        defer { publisher.disconnect() }
        var worst = 0
        for index in 0..<3_000 {
            try publisher.publish(topic: "bp/x", payload: testPayload(index), qos: 1)
            worst = max(worst, publisher.publishedCount - publisher.acknowledgedCount)
        }
        #expect(worst <= 100)
        #expect(publisher.waitUntilAcknowledged(timeout: .seconds(20)))
        #expect(publisher.publishedCount == 3_000)
        #expect(publisher.acknowledgedCount == 3_000)
    }
}

extension ConsumerHarness {
    /// A thread-safe one-way flag.
    final class Flag: Sendable {
        private let value = Mutex(false)

        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }
}
