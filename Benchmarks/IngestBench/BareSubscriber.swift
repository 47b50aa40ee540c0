import CMosquitto
import Foundation

/// The ceiling: a bare libmosquitto subscriber that only counts messages, with
/// libmosquitto's own thread and its automatic acknowledgements.
final class BareSubscriber: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `mosq` is driven by libmosquitto's thread after
    // loop_start; the counters live behind `condition`.
    private let condition = NSCondition()
    private var received = 0
    private var subscribed = false
    private var mosq: OpaquePointer?
    let port: Int
    let clientID: String

    init(port: Int, clientID: String) {
        self.port = port
        self.clientID = clientID
    }

    /// Creates the persistent session and its QoS 1 subscription, then disconnects, so that
    /// messages published afterwards are queued for it.
    func createSession(topic: String) throws {
        try connect(topic: topic)
        condition.lock()
        let deadline = Date().addingTimeInterval(10)
        while !subscribed && condition.wait(until: deadline) {}
        let ok = subscribed
        condition.unlock()
        close()
        guard ok else { throw BenchError("bare subscriber: no SUBACK") }
    }

    /// Reconnects to the session and returns the seconds until `count` messages have arrived.
    func drain(topic: String, count: Int, timeout: TimeInterval) throws -> Double {
        condition.lock()
        received = 0
        condition.unlock()
        let start = DispatchTime.now().uptimeNanoseconds
        try connect(topic: topic)
        condition.lock()
        let deadline = Date().addingTimeInterval(timeout)
        while received < count && Date() < deadline { _ = condition.wait(until: deadline) }
        let got = received
        condition.unlock()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        close()
        guard got >= count else { throw BenchError("bare subscriber received \(got) of \(count)") }
        return elapsed
    }

    /// Ends `clientID`'s persistent session (a clean-session CONNECT discards it), so that
    /// later backlogs are not queued for it too (a repeated drain would get them all).
    static func removeSession(clientID: String, port: Int) throws {
        let ender = BareSubscriber(port: port, clientID: clientID)
        try ender.connect(topic: nil, cleanSession: true)
        ender.condition.lock()
        let deadline = Date().addingTimeInterval(10)
        while !ender.subscribed && ender.condition.wait(until: deadline) {}
        let ok = ender.subscribed
        ender.condition.unlock()
        ender.close()
        guard ok else { throw BenchError("bare subscriber: no CONNACK ending the session of \(clientID)") }
    }

    private func connect(topic: String) throws {
        try connect(topic: topic, cleanSession: false)
    }

    /// With no `topic`, only connects: `subscribed` then means the broker accepted the connection.
    private func connect(topic: String?, cleanSession: Bool) throws {
        mosquitto_lib_init()
        let context = Unmanaged.passUnretained(self).toOpaque()
        guard let handle = mosquitto_new(clientID, cleanSession, context) else { throw BenchError("mosquitto_new failed") }
        mosq = handle
        if topic != nil {
            mosquitto_connect_callback_set(handle) { mosq, context, rc in
                guard rc == 0 else { return }
                mosquitto_subscribe(mosq, nil, "agri/+/telemetry", 1)
            }
        } else {
            mosquitto_connect_callback_set(handle) { _, context, rc in
                guard rc == 0, let context else { return }
                let me = Unmanaged<BareSubscriber>.fromOpaque(context).takeUnretainedValue()
                me.condition.lock()
                me.subscribed = true
                me.condition.broadcast()
                me.condition.unlock()
            }
        }
        mosquitto_subscribe_callback_set(handle) { _, context, _, _, _ in
            guard let context else { return }
            let me = Unmanaged<BareSubscriber>.fromOpaque(context).takeUnretainedValue()
            me.condition.lock()
            me.subscribed = true
            me.condition.broadcast()
            me.condition.unlock()
        }
        mosquitto_message_callback_set(handle) { _, context, _ in
            guard let context else { return }
            let me = Unmanaged<BareSubscriber>.fromOpaque(context).takeUnretainedValue()
            me.condition.lock()
            me.received += 1
            me.condition.broadcast()
            me.condition.unlock()
        }
        var rc = mosquitto_connect(handle, "127.0.0.1", Int32(port), 30)
        guard rc == 0 else { throw BenchError("bare subscriber connect: \(String(cString: mosquitto_strerror(rc)))") }
        rc = mosquitto_loop_start(handle)
        guard rc == 0 else { throw BenchError("loop_start: \(rc)") }
    }

    private func close() {
        guard let mosq else { return }
        mosquitto_disconnect(mosq)
        mosquitto_loop_stop(mosq, false)
        mosquitto_destroy(mosq)
        self.mosq = nil
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
