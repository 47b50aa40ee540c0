import ShennongCore
import ShennongStore

/// JSON shapes of the staff API. Times are given twice: `ts` in epoch milliseconds and
/// `time` in RFC 3339 UTC, so neither scripts nor people have to convert.
struct ReadingDTO: Codable, Sendable {
    var device: String
    var metric: String
    var unit: String
    var ts: Int64
    var time: String
    var value: Double

    init(_ r: Reading) {
        device = r.device
        metric = r.metric
        unit = MetricCatalogue.metric(named: r.metric)?.unit ?? ""
        ts = r.timestamp
        time = Timestamp.format(r.timestamp)
        value = r.value
    }
}

struct LatestDTO: Codable, Sendable {
    var device: String
    var site: String?
    var domain: String
    var metric: String
    var unit: String
    var ts: Int64
    var time: String
    var value: Double

    init(_ l: LatestValue) {
        device = l.device
        site = l.site
        domain = l.domain.rawValue
        metric = l.metric
        unit = l.unit
        ts = l.timestamp
        time = Timestamp.format(l.timestamp)
        value = l.value
    }
}

struct AggregateDTO: Codable, Sendable {
    var device: String
    var metric: String
    var unit: String
    var ts: Int64
    var time: String
    var count: Int
    var min: Double
    var max: Double
    var mean: Double
    var sum: Double
    var first: Double
    var last: Double

    init(_ a: AggregatePoint) {
        device = a.device
        metric = a.metric
        unit = MetricCatalogue.metric(named: a.metric)?.unit ?? ""
        ts = a.start
        time = Timestamp.format(a.start)
        count = a.count
        min = a.min
        max = a.max
        mean = a.mean
        sum = a.sum
        first = a.first
        last = a.last
    }
}

struct DeviceDTO: Codable, Sendable {
    var id: String
    var profile: String
    var domain: String
    var site: String?
    var name: String?
    var latitude: Double?
    var longitude: Double?
    var area_code: String?
    var owner: String?
    var created_at: String?
    var last_seen: String?
    var presence: String?
    var metrics: [String]?
    var attributes: [String: Double]?

    init(_ r: DeviceRecord) {
        let d = r.device
        id = d.id
        profile = d.profile
        domain = d.domain.rawValue
        site = d.site
        name = d.name
        latitude = d.latitude
        longitude = d.longitude
        area_code = d.areaCode
        owner = d.owner
        created_at = Timestamp.format(d.createdAt)
        last_seen = r.lastSeen.map(Timestamp.format)
        presence = r.presence
        metrics = r.metrics
        attributes = d.attributes.isEmpty ? nil : d.attributes
    }
}

/// The body of `POST /api/v1/devices`.
struct NewDeviceDTO: Codable, Sendable {
    var id: String
    var profile: String
    var domain: String?
    var site: String?
    var name: String?
    var latitude: Double?
    var longitude: Double?
    var area_code: String?
    var owner: String?
    var attributes: [String: Double]?
}

struct RejectDTO: Codable, Sendable {
    var id: Int64?
    var received_at: String
    var topic: String
    var device: String?
    var code: String
    var reason: String
    var field: String?
    /// The payload as UTF-8 text (invalid bytes replaced), for reading.
    var payload: String
    var payload_bytes: Int

    init(_ r: RejectRecord) {
        id = r.id
        received_at = Timestamp.format(r.receivedAt)
        topic = r.topic
        device = r.device
        code = r.code.rawValue
        reason = r.reason
        field = r.field
        payload = String(decoding: r.payload.prefix(4096), as: UTF8.self)
        payload_bytes = r.payload.count
    }
}
