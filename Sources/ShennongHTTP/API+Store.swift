import ShennongAPI
import ShennongCore

// The contract's bodies of devices, readings and rejects, from the store's values.

extension API.Reading {
    init(_ r: Reading) {
        self.init(
            device: r.device, metric: r.metric, unit: MetricCatalogue.metric(named: r.metric)?.unit ?? "",
            ts: r.timestamp, time: Timestamp.format(r.timestamp), value: r.value)
    }
}

extension API.Latest {
    init(_ l: LatestValue) {
        self.init(
            device: l.device, site: l.site, domain: l.domain.rawValue, metric: l.metric, unit: l.unit, ts: l.timestamp,
            time: Timestamp.format(l.timestamp), value: l.value)
    }
}

extension API.Aggregate {
    init(_ a: AggregatePoint) {
        self.init(
            device: a.device, metric: a.metric, unit: MetricCatalogue.metric(named: a.metric)?.unit ?? "", ts: a.start,
            time: Timestamp.format(a.start), count: a.count, min: a.min, max: a.max, mean: a.mean, sum: a.sum,
            first: a.first, last: a.last)
    }
}

extension API.Device {
    init(_ r: DeviceRecord) {
        let d = r.device
        self.init(
            id: d.id, profile: d.profile, domain: d.domain.rawValue, site: d.site, name: d.name, latitude: d.latitude,
            longitude: d.longitude, areaCode: d.areaCode, owner: d.owner, createdAt: Timestamp.format(d.createdAt),
            lastSeen: r.lastSeen.map(Timestamp.format), presence: r.presence, metrics: r.metrics,
            attributes: d.attributes.isEmpty ? nil : d.attributes)
    }
}

extension API.Reject {
    init(_ r: RejectRecord) {
        self.init(
            id: r.id, receivedAt: Timestamp.format(r.receivedAt), topic: r.topic, device: r.device, code: r.code.rawValue,
            reason: r.reason, field: r.field, payload: String(decoding: r.payload.prefix(4096), as: UTF8.self),
            payloadBytes: r.payload.count)
    }
}
