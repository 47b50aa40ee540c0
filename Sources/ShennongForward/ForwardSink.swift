import Foundation
import Logging
import MosquittoClient
import ShennongCore
import ShennongRules
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where a target's batches go. `deliver` returns when the upstream has taken all of `batch`
/// (PUBACKs, a 2xx answer); it throws otherwise, and the batch is sent again.
protocol ForwardSink: Sendable {
    func deliver(_ batch: ForwardBatch, encoder: ForwardEncoder) async throws
    /// With nothing to send: throws when the upstream cannot be reached (a connection-based
    /// sink), so the health line does not say `ok` for a link that is down.
    func probe() throws
    /// Lets go of connections.
    func close()
}

struct ForwardError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// QoS 1 to an MQTT broker. A delivery that is not acknowledged in time drops the client
/// (and what it still held): the next attempt connects afresh and sends again from the cursor.
final class MQTTForwardSink: ForwardSink {
    let target: ForwardTarget.MQTT
    let logger: Logger
    let ackTimeout: Duration
    private let client = Mutex<MQTTPublisher?>(nil)

    init(target: ForwardTarget.MQTT, ackTimeout: Duration = .seconds(10), logger: Logger) {
        self.target = target
        self.ackTimeout = ackTimeout
        self.logger = logger
    }

    func deliver(_ batch: ForwardBatch, encoder: ForwardEncoder) async throws {
        let messages = encoder.telemetryMessages(batch.readings, topic: target.topic)
            + encoder.alertMessages(batch.notices, topic: target.alertTopic)
            + encoder.deviceMessages(batch.devices, topic: target.deviceTopic)
            + encoder.sealMessages(batch.seals, topic: target.sealTopic)
        guard !messages.isEmpty else { return }
        let publisher = try connected()
        do {
            for m in messages {
                try publisher.publish(topic: m.topic, payload: m.payload, qos: 1)
            }
            let timeout = ackTimeout
            let acknowledged = await Task.detached { publisher.waitUntilAcknowledged(timeout: timeout) }.value
            guard acknowledged else { throw ForwardError("no PUBACK for every message within \(timeout)") }
        } catch {
            drop()
            throw error
        }
    }

    private func connected() throws -> MQTTPublisher {
        if let existing = client.withLock({ $0 }), existing.isConnected { return existing }
        drop()
        let publisher = try MQTTPublisher(configuration: target.connection, maxUnacknowledged: 2000, backPressureTimeout: .seconds(10), logger: logger)
        try publisher.connect(timeout: .seconds(5))
        client.withLock { $0 = publisher }
        return publisher
    }

    private func drop() {
        let old = client.withLock { c -> MQTTPublisher? in
            defer { c = nil }
            return c
        }
        old?.disconnect()
    }

    func probe() throws { _ = try connected() }

    func close() { drop() }
}

/// POSTs to an HTTP endpoint: NDJSON or SenML, gzip, `X-Shennong-Signature: sha256={hex
/// HMAC-SHA256 of the body as sent}`, `X-Shennong-Delivery: {target}-{first}` (the same for a
/// resent batch). Any 2xx answer is a delivery.
final class HTTPForwardSink: ForwardSink {
    let target: ForwardTarget.HTTP
    let name: String
    let logger: Logger

    init(target: ForwardTarget.HTTP, name: String, logger: Logger) {
        self.target = target
        self.name = name
        self.logger = logger
    }

    /// The request for one body: headers and (maybe gzipped) bytes. Pure.
    static func request(_ body: ForwardBody, target: ForwardTarget.HTTP, delivery: String) throws -> URLRequest {
        guard let url = URL(string: target.url), url.scheme == "http" || url.scheme == "https" else {
            throw ForwardError("url is not http(s): \(target.url)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = Double(max(1000, target.timeout)) / 1000
        let bytes = target.gzip ? try Gzip.compress(body.body) : body.body
        request.httpBody = Data(bytes)
        request.setValue(body.contentType, forHTTPHeaderField: "Content-Type")
        if target.gzip { request.setValue("gzip", forHTTPHeaderField: "Content-Encoding") }
        request.setValue(delivery, forHTTPHeaderField: "X-Shennong-Delivery")
        if let secret = target.secret, !secret.isEmpty {
            request.setValue(Webhook.signature(body: bytes, secret: secret), forHTTPHeaderField: Webhook.signatureHeader)
        }
        return request
    }

    func deliver(_ batch: ForwardBatch, encoder: ForwardEncoder) async throws {
        let first: String
        if let r = batch.readings.first {
            first = "\(r.device)@\(r.metric)@\(r.timestamp)"
        } else if let n = batch.notices.first {
            first = "t\(n.transition.id)"
        } else if let d = batch.devices.first {
            first = "d\(d.id)"
        } else {
            first = "empty"
        }
        for (i, body) in encoder.httpBodies(batch, format: target.format).enumerated() {
            let request = try Self.request(body, target: target, delivery: "\(name)-\(first)-\(i)")
            let (_, response) = try await Webhook.send(request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else { throw ForwardError("HTTP \(status) from \(target.url)") }
        }
    }

    /// Requests are independent: an idle HTTP target has nothing to check.
    func probe() throws {}

    func close() {}
}
