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

        public init(
            device: String, site: String? = nil, domain: String, metric: String, unit: String, ts: Int64, time: String,
            value: Double
        ) {
            self.device = device
            self.site = site
            self.domain = domain
            self.metric = metric
            self.unit = unit
            self.ts = ts
            self.time = time
            self.value = value
        }
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

        public init(device: String, metric: String, unit: String, ts: Int64, time: String, value: Double) {
            self.device = device
            self.metric = metric
            self.unit = unit
            self.ts = ts
            self.time = time
            self.value = value
        }
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

        public init(
            device: String, metric: String, unit: String, ts: Int64, time: String, count: Int, min: Double, max: Double,
            mean: Double, sum: Double, first: Double, last: Double
        ) {
            self.device = device
            self.metric = metric
            self.unit = unit
            self.ts = ts
            self.time = time
            self.count = count
            self.min = min
            self.max = max
            self.mean = mean
            self.sum = sum
            self.first = first
            self.last = last
        }
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

        public init(
            id: Int64? = nil, receivedAt: String, topic: String, device: String? = nil, code: String, reason: String,
            field: String? = nil, payload: String, payloadBytes: Int
        ) {
            self.id = id
            self.receivedAt = receivedAt
            self.topic = topic
            self.device = device
            self.code = code
            self.reason = reason
            self.field = field
            self.payload = payload
            self.payloadBytes = payloadBytes
        }

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

    /// What a reject replay did.
    public struct RejectReplay: APIObject, Hashable {
        /// Reject rows decoded again.
        public var examined: Int
        /// Readings stored (dry run: readings that decode).
        public var stored: Int
        /// Reject rows left, with the reason their payload fails now.
        public var stillRejected: Int
        /// Reject rows gone from the list (their payload now decodes).
        public var replayedRejects: Int
        public var dryRun: Bool

        public init(examined: Int, stored: Int, stillRejected: Int, replayedRejects: Int, dryRun: Bool) {
            self.examined = examined
            self.stored = stored
            self.stillRejected = stillRejected
            self.replayedRejects = replayedRejects
            self.dryRun = dryRun
        }

        enum CodingKeys: String, CodingKey {
            case examined, stored
            case stillRejected = "still_rejected"
            case replayedRejects = "replayed_rejects"
            case dryRun = "dry_run"
        }
    }
}
