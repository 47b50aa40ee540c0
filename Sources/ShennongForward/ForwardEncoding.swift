import Foundation
import ShennongAlerts
import ShennongAPI
import ShennongCore
import ShennongRules

/// What one delivery carries: readings (in order per series), alert transitions (by id) and
/// device records that changed. Device ids are this server's; encoders namespace them.
public struct ForwardBatch: Sendable, Hashable {
    public var readings: [Reading] = []
    public var notices: [AlertNotice] = []
    public var devices: [Device] = []
    /// Seals of closed buckets, in chain order.
    public var seals: [BucketSeal] = []

    public init(readings: [Reading] = [], notices: [AlertNotice] = [], devices: [Device] = [], seals: [BucketSeal] = []) {
        self.readings = readings
        self.notices = notices
        self.devices = devices
        self.seals = seals
    }

    public var isEmpty: Bool { readings.isEmpty && notices.isEmpty && devices.isEmpty && seals.isEmpty }
}

/// One MQTT message to publish.
public struct ForwardMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
}

/// One HTTP request body with its content type (before gzip).
public struct ForwardBody: Sendable, Hashable {
    public var contentType: String
    public var body: [UInt8]
}

/// The wire forms of a ``ForwardBatch``: pure functions of the batch, the target and the
/// device registry (for namespacing and template values).
public struct ForwardEncoder: Sendable {
    public var target: ForwardTarget
    /// This server's devices by id (a device missing here is forwarded with defaults).
    public var devices: [String: Device]
    /// Most readings in one MQTT message (the centre's payload limit).
    public var readingsPerMessage = 500

    public init(target: ForwardTarget, devices: [String: Device]) {
        self.target = target
        self.devices = devices
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    // MARK: MQTT

    /// One element of the device-timestamped telemetry array (payload form 3).
    struct Point: Encodable, Equatable {
        var ts: Int64
        var values: [String: Double]
    }

    /// Readings as telemetry messages: per device (first appearance order) arrays of
    /// `{"ts", "values"}`, in the batch's order; readings of one timestamp that follow each
    /// other share an element.
    public func telemetryMessages(_ readings: [Reading], topic: String) -> [ForwardMessage] {
        var order: [String] = []
        var points: [String: [Point]] = [:]
        for r in readings {
            if points[r.device] == nil { order.append(r.device) }
            if let last = points[r.device]?.last, last.ts == r.timestamp, last.values[r.metric] == nil {
                points[r.device]![points[r.device]!.count - 1].values[r.metric] = r.value
            } else {
                points[r.device, default: []].append(Point(ts: r.timestamp, values: [r.metric: r.value]))
            }
        }
        let template = TopicTemplate(topic)
        var messages: [ForwardMessage] = []
        for device in order {
            let t = template.render(target.values(of: devices[device], id: device))
            let all = points[device] ?? []
            var start = 0
            while start < all.count {
                let end = min(all.count, start + readingsPerMessage)
                let payload = (try? Self.encoder.encode(Array(all[start..<end]))).map(Array.init) ?? []
                messages.append(ForwardMessage(topic: t, payload: payload))
                start = end
            }
        }
        return messages
    }

    /// Alert transitions as MQTT messages, one each.
    public func alertMessages(_ notices: [AlertNotice], topic: String) -> [ForwardMessage] {
        let template = TopicTemplate(topic)
        return notices.map { n in
            ForwardMessage(
                topic: template.render(target.values(of: devices[n.alert.device], id: n.alert.device)),
                payload: encodeLine(alertLine(n)))
        }
    }

    /// Device records as MQTT messages, one each.
    public func deviceMessages(_ records: [Device], topic: String) -> [ForwardMessage] {
        let template = TopicTemplate(topic)
        return records.map { d in
            ForwardMessage(topic: template.render(target.values(of: d, id: d.id)), payload: encodeLine(deviceLine(d)))
        }
    }

    /// Seals as MQTT messages, one each, in chain order.
    public func sealMessages(_ seals: [BucketSeal], topic: String) -> [ForwardMessage] {
        let t = TopicTemplate(topic).render(TopicTemplate.Values(device: "", deviceID: "", areaCode: target.areaCode, domain: nil, site: nil))
        return seals.map { ForwardMessage(topic: t, payload: encodeLine(SealLine(areaCode: target.areaCode, seal: $0))) }
    }

    // MARK: HTTP

    /// A reading as an NDJSON line.
    struct ReadingLine: Encodable {
        var type = "reading"
        var device: String
        var source: String
        var areaCode: String
        var metric: String
        var ts: Int64
        var value: Double

        enum CodingKeys: String, CodingKey {
            case type, device, source, metric, ts, value
            case areaCode = "area_code"
        }
    }

    /// An alert transition as an NDJSON line (the alert as the API shows it, its transition).
    struct AlertLine: Encodable {
        var type = "alert"
        var device: String
        var source: String
        var areaCode: String
        var alert: AlertJSON
        var transition: API.Transition

        enum CodingKeys: String, CodingKey {
            case type, device, source, alert, transition
            case areaCode = "area_code"
        }
    }

    /// A device record as an NDJSON line: the device under its upstream id (`device`), its
    /// own id (`source`), this server's area code and the device's own (`device_area_code`),
    /// and what it is (profile, domain, site, name, position, attributes; owner and
    /// registration time stay home).
    struct DeviceLine: Encodable {
        var upstreamID: String
        var areaCode: String
        var record: Device

        enum CodingKeys: String, CodingKey {
            case type, device, source, profile, domain, site, name, latitude, longitude, attributes
            case areaCode = "area_code"
            case deviceAreaCode = "device_area_code"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode("device", forKey: .type)
            try c.encode(upstreamID, forKey: .device)
            try c.encode(record.id, forKey: .source)
            try c.encode(areaCode, forKey: .areaCode)
            try c.encodeIfPresent(record.areaCode, forKey: .deviceAreaCode)
            try c.encode(record.profile, forKey: .profile)
            try c.encode(record.domain.rawValue, forKey: .domain)
            try c.encodeIfPresent(record.site, forKey: .site)
            try c.encodeIfPresent(record.name, forKey: .name)
            try c.encodeIfPresent(record.latitude, forKey: .latitude)
            try c.encodeIfPresent(record.longitude, forKey: .longitude)
            try c.encode(record.attributes, forKey: .attributes)
        }
    }

    /// A seal as an NDJSON line: the seal as stored (root, chain hash, signature, public key),
    /// so the upstream can check the signature and hold the chain.
    struct SealLine: Encodable {
        var type = "seal"
        var areaCode: String
        var seal: BucketSeal

        enum CodingKeys: String, CodingKey {
            case type, seal
            case areaCode = "area_code"
        }
    }

    func alertLine(_ n: AlertNotice) -> AlertLine {
        var alert = AlertJSON(n.alert, rule: nil, transition: n.transition)
        let id = target.upstreamID(of: devices[n.alert.device], id: n.alert.device)
        alert.device = id
        return AlertLine(device: id, source: n.alert.device, areaCode: target.areaCode, alert: alert, transition: API.Transition(n.transition))
    }

    func deviceLine(_ d: Device) -> DeviceLine {
        DeviceLine(upstreamID: target.upstreamID(of: d, id: d.id), areaCode: target.areaCode, record: d)
    }

    func encodeLine(_ value: some Encodable) -> [UInt8] {
        (try? Self.encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)
    }

    /// The batch as NDJSON lines: readings, then alert transitions, then devices, then seals.
    public func ndjson(_ batch: ForwardBatch, readings: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        if readings {
            for r in batch.readings {
                out += encodeLine(
                    ReadingLine(
                        device: target.upstreamID(of: devices[r.device], id: r.device), source: r.device,
                        areaCode: target.areaCode, metric: r.metric, ts: r.timestamp, value: r.value))
                out.append(0x0A)
            }
        }
        for n in batch.notices {
            out += encodeLine(alertLine(n))
            out.append(0x0A)
        }
        for d in batch.devices {
            out += encodeLine(deviceLine(d))
            out.append(0x0A)
        }
        for seal in batch.seals {
            out += encodeLine(SealLine(areaCode: target.areaCode, seal: seal))
            out.append(0x0A)
        }
        return out
    }

    /// A SenML record (RFC 8428): the base name on the first record of each device.
    struct SenMLRecord: Encodable {
        var bn: String?
        var n: String
        var t: Double
        var v: Double
    }

    /// Readings as a SenML pack: `bn` = `{device_id}/` where the device changes, `n` the
    /// metric, `t` seconds since the epoch (ms precision), `v` the value.
    public func senml(_ readings: [Reading]) -> [UInt8] {
        var records: [SenMLRecord] = []
        records.reserveCapacity(readings.count)
        var device: String?
        for r in readings {
            let bn: String? = r.device == device ? nil : target.upstreamID(of: devices[r.device], id: r.device) + "/"
            device = r.device
            records.append(SenMLRecord(bn: bn, n: r.metric, t: Double(r.timestamp) / 1000, v: r.value))
        }
        return (try? Self.encoder.encode(records)).map(Array.init) ?? Array("[]".utf8)
    }

    /// The request bodies of a batch for `format`: NDJSON, one body; SenML, the readings as
    /// a pack and (when there are any) alerts and devices as NDJSON.
    public func httpBodies(_ batch: ForwardBatch, format: ForwardTarget.HTTP.Format) -> [ForwardBody] {
        switch format {
        case .ndjson:
            return batch.isEmpty ? [] : [ForwardBody(contentType: "application/x-ndjson", body: ndjson(batch))]
        case .senml:
            var bodies: [ForwardBody] = []
            if !batch.readings.isEmpty {
                bodies.append(ForwardBody(contentType: "application/senml+json", body: senml(batch.readings)))
            }
            if !batch.notices.isEmpty || !batch.devices.isEmpty || !batch.seals.isEmpty {
                bodies.append(ForwardBody(contentType: "application/x-ndjson", body: ndjson(batch, readings: false)))
            }
            return bodies
        }
    }

    /// A digest of what a device record forwards: a change of it is a registry change.
    public func digest(_ d: Device) -> String {
        String(decoding: encodeLine(deviceLine(d)), as: UTF8.self)
    }
}
