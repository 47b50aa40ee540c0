import ShennongCore

extension API {
    /// The newest value of a series. `ts` is epoch ms, `time` the same instant in RFC 3339 local time with its offset.
    public struct Latest: APIObject, Hashable {
        public var device: String
        public var site: String?
        public var domain: String
        public var metric: String
        public var unit: String
        public var ts: Int64
        public var time: String
        public var value: Double
    }

    /// `GET /api/v1/readings/latest`.
    public struct LatestList: APIObject, Hashable {
        public var latest: [Latest]
        public init(latest: [Latest]) { self.latest = latest }
    }

    /// One stored reading.
    public struct Reading: APIObject, Hashable {
        public var device: String
        public var metric: String
        public var unit: String
        public var ts: Int64
        public var time: String
        public var value: Double
    }

    /// `GET /api/v1/readings` without `every`.
    public struct ReadingList: APIObject, Hashable {
        public var device: String
        public var readings: [Reading]
        public init(device: String, readings: [Reading]) {
            self.device = device
            self.readings = readings
        }
    }

    /// One interval of a series; `ts` and `time` are its start.
    public struct Aggregate: APIObject, Hashable {
        public var device: String
        public var metric: String
        public var unit: String
        public var ts: Int64
        public var time: String
        public var count: Int
        public var min: Double
        public var max: Double
        public var mean: Double
        public var sum: Double
        public var first: Double
        public var last: Double
    }

    /// `GET /api/v1/readings?every=…`.
    public struct AggregateList: APIObject, Hashable {
        public var device: String
        /// The interval as asked (`1h`).
        public var every: String
        public var aggregates: [Aggregate]

        public init(device: String, every: String, aggregates: [Aggregate]) {
            self.device = device
            self.every = every
            self.aggregates = aggregates
        }
    }

    /// A message (or field) that could not be stored, and why.
    public struct Reject: APIObject, Hashable {
        public var id: Int64?
        /// RFC 3339 local time with its offset.
        public var receivedAt: String
        public var topic: String
        public var device: String?
        /// The stable reason code (`malformed_json`, `unknown_metric`, …).
        public var code: String
        public var reason: String
        public var field: String?
        /// The first 4096 bytes of the payload as UTF-8 text (invalid bytes replaced).
        public var payload: String
        public var payloadBytes: Int

        enum CodingKeys: String, CodingKey {
            case id, topic, device, code, reason, field, payload
            case receivedAt = "received_at"
            case payloadBytes = "payload_bytes"
        }
    }

    /// `GET /api/v1/rejects`.
    public struct RejectList: APIObject, Hashable {
        public var rejects: [Reject]
        public init(rejects: [Reject]) { self.rejects = rejects }
    }

    /// `POST /api/v1/rejects/replay`: which stored rejects to decode again (every field optional).
    public struct RejectReplayRequest: APIObject, Hashable {
        /// A time expression: rejects received at or after it (default: all).
        public var since: String?
        /// A reject code (`unknown_metric`) or a part of the reason text.
        public var reason: String?
        public var device: String?
        /// Decode and count, store nothing.
        public var dryRun: Bool?

        public init(since: String? = nil, reason: String? = nil, device: String? = nil, dryRun: Bool? = nil) {
            self.since = since
            self.reason = reason
            self.device = device
            self.dryRun = dryRun
        }

        enum CodingKeys: String, CodingKey {
            case since, reason, device
            case dryRun = "dry_run"
        }
    }

    /// What a reject replay did (the replay's own counts are the body).
    public typealias RejectReplay = RejectReplayCounts
}

extension RejectReplayCounts: APIObject {
    public static var schemaName: String { "RejectReplay" }
}

// The bodies of readings and rejects from the store's values. Their times are local time with
// its offset (`offsetMinutes`, +08:00 by default) to the millisecond; `ts` fields keep epoch ms.

extension API.Reading {
    public init(_ r: ShennongCore.Reading, offsetMinutes: Int = 480) {
        self.init(
            device: r.device, metric: r.metric, unit: MetricCatalogue.metric(named: r.metric)?.unit ?? "",
            ts: r.timestamp, time: LocalTime.precise(r.timestamp, offsetMinutes: offsetMinutes), value: r.value)
    }
}

extension API.Latest {
    public init(_ l: LatestValue, offsetMinutes: Int = 480) {
        self.init(
            device: l.device, site: l.site, domain: l.domain.rawValue, metric: l.metric, unit: l.unit, ts: l.timestamp,
            time: LocalTime.precise(l.timestamp, offsetMinutes: offsetMinutes), value: l.value)
    }
}

extension API.Aggregate {
    public init(_ a: AggregatePoint, offsetMinutes: Int = 480) {
        self.init(
            device: a.device, metric: a.metric, unit: MetricCatalogue.metric(named: a.metric)?.unit ?? "", ts: a.start,
            time: LocalTime.precise(a.start, offsetMinutes: offsetMinutes), count: a.count, min: a.min, max: a.max,
            mean: a.mean, sum: a.sum, first: a.first, last: a.last)
    }
}

extension API.Reject {
    public init(_ r: RejectRecord, offsetMinutes: Int = 480) {
        self.init(
            id: r.id, receivedAt: LocalTime.precise(r.receivedAt, offsetMinutes: offsetMinutes), topic: r.topic,
            device: r.device, code: r.code.rawValue, reason: r.reason, field: r.field,
            payload: String(decoding: r.payload.prefix(4096), as: UTF8.self), payloadBytes: r.payload.count)
    }
}
