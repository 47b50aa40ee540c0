import ShennongAPI
import ShennongCore

// The contract's bodies of devices, readings and rejects, from the store's values. Their
// times are local time with its offset (`offsetMinutes`, +08:00 by default) to the
// millisecond; `ts` fields keep epoch ms.

extension API.Reading {
    init(_ r: Reading, offsetMinutes: Int = 480) {
        self.init(
            device: r.device, metric: r.metric, unit: MetricCatalogue.metric(named: r.metric)?.unit ?? "",
            ts: r.timestamp, time: LocalTime.precise(r.timestamp, offsetMinutes: offsetMinutes), value: r.value)
    }
}

extension API.Latest {
    init(_ l: LatestValue, offsetMinutes: Int = 480) {
        self.init(
            device: l.device, site: l.site, domain: l.domain.rawValue, metric: l.metric, unit: l.unit, ts: l.timestamp,
            time: LocalTime.precise(l.timestamp, offsetMinutes: offsetMinutes), value: l.value)
    }
}

extension API.Aggregate {
    init(_ a: AggregatePoint, offsetMinutes: Int = 480) {
        self.init(
            device: a.device, metric: a.metric, unit: MetricCatalogue.metric(named: a.metric)?.unit ?? "", ts: a.start,
            time: LocalTime.precise(a.start, offsetMinutes: offsetMinutes), count: a.count, min: a.min, max: a.max, mean: a.mean, sum: a.sum,
            first: a.first, last: a.last)
    }
}

extension API.Device {
    init(_ r: DeviceRecord, offsetMinutes: Int = 480) {
        let d = r.device
        self.init(
            id: d.id, profile: d.profile, domain: d.domain.rawValue, site: d.site, name: d.name, latitude: d.latitude,
            longitude: d.longitude, areaCode: d.areaCode, owner: d.owner, createdAt: LocalTime.precise(d.createdAt, offsetMinutes: offsetMinutes),
            lastSeen: r.lastSeen.map { LocalTime.precise($0, offsetMinutes: offsetMinutes) }, presence: r.presence, metrics: r.metrics,
            attributes: d.attributes.isEmpty ? nil : d.attributes)
    }
}

extension API.Reject {
    init(_ r: RejectRecord, offsetMinutes: Int = 480) {
        self.init(
            id: r.id, receivedAt: LocalTime.precise(r.receivedAt, offsetMinutes: offsetMinutes), topic: r.topic, device: r.device, code: r.code.rawValue,
            reason: r.reason, field: r.field, payload: String(decoding: r.payload.prefix(4096), as: UTF8.self),
            payloadBytes: r.payload.count)
    }
}
