import CMosquitto
import Logging
import Synchronization

/// What the libmosquitto callbacks of one ``MQTTIngestConnection`` work on.
///
/// The callbacks run inside `mosquitto_loop_read/write/misc`, which only the `run` thread calls,
/// so the run-thread fields need no lock; `status` is also read by other threads and sits in a
/// `Mutex`. Not `Sendable`: only the connection (and, through the handle's user data, its
/// callbacks) holds it.
final class IngestSession {
    struct Status {
        var connected = false
        var subscribed = false
    }

    let configuration: MQTTConfiguration
    let logger: Logger
    let status = Mutex(Status())

    // Run thread only.
    var pending: [MQTTMessage] = []
    var awaitingSubacks: Set<Int32> = []
    var subscribeFailed = false
    var connackAccepted = false
    var connackRefusal: Int32?

    init(configuration: MQTTConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        pending.reserveCapacity(1024)
    }

    func markDisconnected() {
        status.withLock {
            $0.connected = false
            $0.subscribed = false
        }
    }

    static func installCallbacks(on mosq: OpaquePointer, forwardLog: Bool) {
        mosquitto_connect_callback_set(mosq) { mosq, obj, rc in
            guard let mosq, let obj else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().didConnect(mosq, rc: rc)
        }
        mosquitto_disconnect_callback_set(mosq) { _, obj, _ in
            guard let obj else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().markDisconnected()
        }
        mosquitto_subscribe_callback_set(mosq) { _, obj, mid, count, granted in
            guard let obj else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue()
                .didSubscribe(mid: mid, granted: UnsafeBufferPointer(start: granted, count: Int(max(0, count))))
        }
        mosquitto_message_callback_set(mosq) { _, obj, message in
            guard let obj, let message else { return }
            Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().didReceive(message.pointee)
        }
        if forwardLog {
            mosquitto_log_callback_set(mosq) { _, obj, level, text in
                guard let obj else { return }
                MosquittoLog.forward(Unmanaged<IngestSession>.fromOpaque(obj).takeUnretainedValue().logger, level: level, text: text)
            }
        }
    }

    private func didConnect(_ mosq: OpaquePointer, rc: Int32) {
        guard rc == 0 else {
            connackRefusal = rc
            return
        }
        connackAccepted = true
        awaitingSubacks.removeAll()
        subscribeFailed = false
        for subscription in configuration.subscriptions {
            var mid: Int32 = 0
            let result = mosquitto_subscribe(mosq, &mid, subscription.topic, subscription.qos)
            if result == MosqCode.success {
                awaitingSubacks.insert(mid)
            } else {
                subscribeFailed = true
                logger.error("MQTT subscribe failed", metadata: [
                    "error": "\(MQTTError(mosquittoCode: result, operation: "subscribe to '\(subscription.topic)'"))",
                ])
            }
        }
        if let birth = configuration.birth {
            let result = birth.payload.withUnsafeBytes { bytes in
                mosquitto_publish(mosq, nil, birth.topic, Int32(bytes.count), bytes.baseAddress, 1, birth.retain)
            }
            if result != MosqCode.success {
                logger.error("MQTT birth message failed", metadata: [
                    "error": "\(MQTTError(mosquittoCode: result, operation: "publish birth to '\(birth.topic)'"))",
                ])
            }
        }
        let subscribed = awaitingSubacks.isEmpty && !subscribeFailed
        status.withLock {
            $0.connected = true
            $0.subscribed = subscribed
        }
    }

    private func didSubscribe(mid: Int32, granted: UnsafeBufferPointer<Int32>) {
        guard awaitingSubacks.remove(mid) != nil else { return }
        if granted.contains(where: { $0 < 0 || $0 > 2 }) {
            subscribeFailed = true
            logger.error("MQTT broker refused a subscription", metadata: ["mqtt.granted_qos": "\(Array(granted))"])
        }
        let subscribed = awaitingSubacks.isEmpty && !subscribeFailed
        status.withLock { $0.subscribed = subscribed }
    }

    private func didReceive(_ message: mosquitto_message) {
        // libmosquitto frees topic and payload after this callback returns: copy both.
        let topic = message.topic.map { String(cString: $0) } ?? ""
        let payload: [UInt8]
        if let bytes = message.payload, message.payloadlen > 0 {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
        } else {
            payload = []
        }
        pending.append(MQTTMessage(topic: topic, payload: payload, qos: message.qos, retain: message.retain))
    }
}
