/// Limits applied while decoding a telemetry payload.
public struct DecodeOptions: Sendable, Hashable {
    /// Payloads larger than this are rejected unread (`payload_too_large`).
    public var maxPayloadBytes: Int
    /// Milliseconds a timestamp may lie after the receive time (clock skew) before it is
    /// rejected as `future_timestamp`. Default 1 h.
    public var maxFutureSkew: Int64
    /// The earliest accepted timestamp, epoch ms; earlier ones are `too_old`. Default 2000-01-01.
    public var minimumTimestamp: Int64

    public init(maxPayloadBytes: Int = 262_144, maxFutureSkew: Int64 = 3_600_000, minimumTimestamp: Int64 = 946_684_800_000) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxFutureSkew = maxFutureSkew
        self.minimumTimestamp = minimumTimestamp
    }
}

/// Which of the accepted payload forms (DESIGN.md, "MQTT") a payload was read as.
public enum PayloadForm: String, Sendable, Hashable, Codable {
    /// Form 1: `{"ts": …, "values": {…}}`.
    case envelope
    /// Form 2: a flat object of fields, optionally with `ts`/`timestamp`/`time`.
    case flat
    /// Form 3: an array of form 1 records (buffered backfill).
    case backfill
    /// Form 4: SenML JSON (RFC 8428).
    case senml
    /// A gateway's message carrying several devices (``GatewayMapping``).
    case gateway
}

/// The outcome of decoding one payload: the good readings and the rejections, side by side.
///
/// Good fields of a message are always returned, whatever else in it was rejected.
public struct DecodeResult: Sendable, Hashable {
    /// Readings in canonical metrics and units, in payload order.
    public var readings: [Reading]
    /// Why the payload or some of its fields or records could not be used.
    public var rejections: [Rejection]
    /// The form the payload was read as; `nil` when it was rejected before that was known.
    public var form: PayloadForm?

    public init(readings: [Reading] = [], rejections: [Rejection] = [], form: PayloadForm? = nil) {
        self.readings = readings
        self.rejections = rejections
        self.form = form
    }
}

/// Turns a telemetry payload into readings, through a device profile.
///
/// Accepted forms (DESIGN.md): (1) `{"ts": …, "values": {…}}`; (2) a flat object of fields
/// stamped with the receive time, or with its own `ts` (else `timestamp`, else `time`) when
/// it carries one; (3) an array of form 1 (backfill, each element its own time); (4) SenML
/// JSON (RFC 8428, see ``SenML``). An array is SenML when its first
/// object has no `values` key but SenML keys (`n`, `bn`, `v`, `t`, …); otherwise backfill.
///
/// Per field: the profile maps vendor names (value × scale + offset), ignores some, and
/// passes canonical names through. A number, or a string holding exactly a JSON number
/// (`"5.2"`, as many DTUs send), is accepted; a boolean only for 0/1 metrics (`flame`,
/// `aerator_on`); anything else is `wrong_type`. Then `non_finite` and `out_of_range` (the
/// metric's physical range) are checked. In form 1 only `ts`/`timestamp`/`time` and
/// `values` are read; other top-level keys (device ids, sequence numbers) are envelope and
/// ignored. A field that appears twice in one record keeps its last value.
///
/// It never throws and never traps: every fault becomes a ``Rejection`` with a code and a
/// sentence naming the field and value.
public enum PayloadDecoder {
    /// Decodes one payload of `device`, received at `receivedAt` (epoch ms).
    public static func decode(
        _ payload: [UInt8], device: String, profile: DeviceProfile, receivedAt: Int64,
        options: DecodeOptions = .init()
    ) -> DecodeResult {
        payload.withUnsafeBytes { decode($0, device: device, profile: profile, receivedAt: receivedAt, options: options) }
    }

    /// Decodes one payload from raw bytes, read only during the call (no copy of the payload).
    public static func decode(
        _ payload: UnsafeRawBufferPointer, device: String, profile: DeviceProfile, receivedAt: Int64,
        options: DecodeOptions = .init()
    ) -> DecodeResult {
        if payload.count > options.maxPayloadBytes {
            return DecodeResult(rejections: [Rejection(
                code: .payloadTooLarge,
                message: "payload of \(payload.count) bytes is larger than the limit of \(options.maxPayloadBytes) bytes")])
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(payload)
        } catch {
            return DecodeResult(rejections: [Rejection(code: .malformedJSON, message: "payload is not valid JSON: \(error.description)")])
        }
        return decode(value, device: device, profile: profile, receivedAt: receivedAt, options: options)
    }

    /// Decodes an already parsed payload (the size limit does not apply).
    public static func decode(
        _ value: JSONValue, device: String, profile: DeviceProfile, receivedAt: Int64,
        options: DecodeOptions = .init()
    ) -> DecodeResult {
        var context = DecodeContext(device: device, profile: profile, receivedAt: receivedAt, options: options)
        context.decodeTop(value)
        return DecodeResult(readings: context.readings, rejections: context.rejections, form: context.form)
    }

    /// The top-level keys that carry a flat object's or a record's time, in order of preference.
    public static let timestampKeys = ["ts", "timestamp", "time"]
}

/// The mutable state of one decode: what was found and what was refused.
struct DecodeContext {
    let device: String
    let profile: DeviceProfile
    let receivedAt: Int64
    let options: DecodeOptions
    var readings: [Reading] = []
    var rejections: [Rejection] = []
    var form: PayloadForm?
    /// Fields (and SenML values) seen, including ignored ones; none at all is `unsupported_payload`.
    var fieldsSeen = 0

    init(device: String, profile: DeviceProfile, receivedAt: Int64, options: DecodeOptions) {
        self.device = device
        self.profile = profile
        self.receivedAt = receivedAt
        self.options = options
    }

    static let expectedForms =
        #"expected {"ts": …, "values": {…}}, a flat object of fields, an array of {"ts", "values"} records, or SenML"#

    mutating func reject(_ code: RejectCode, _ message: String, field: String? = nil, label: String? = nil) {
        rejections.append(Rejection(code: code, message: label.map { "\($0): \(message)" } ?? message, field: field))
    }

    mutating func decodeTop(_ value: JSONValue) {
        switch value {
        case .object(let object):
            decodeObject(object, label: nil)
        case .array(let elements):
            decodeArray(elements)
        default:
            reject(.unsupportedPayload, "payload is a JSON \(value.typeName), not an object or an array; \(Self.expectedForms)")
            return
        }
        if fieldsSeen == 0 && rejections.isEmpty {
            reject(.unsupportedPayload, "payload has no fields; \(Self.expectedForms)")
        }
    }

    mutating func decodeArray(_ elements: [JSONValue]) {
        guard !elements.isEmpty else { return }
        let firstObject = elements.lazy.compactMap { e -> JSONObject? in
            if case .object(let o) = e { return o } else { return nil }
        }.first
        guard let first = firstObject else {
            reject(.unsupportedPayload, "array holds no objects; \(Self.expectedForms)")
            return
        }
        if first["values"] == nil, first.contains(where: { SenML.keys.contains($0.key) }) {
            form = .senml
            decodeSenML(elements)
            return
        }
        if first["values"] == nil {
            reject(.unsupportedPayload, "array elements are neither {\"ts\", \"values\"} records nor SenML records; \(Self.expectedForms)")
            return
        }
        form = .backfill
        for (i, element) in elements.enumerated() {
            let label = "record [\(i)]"
            guard case .object(let object) = element, object["values"] != nil else {
                reject(.unsupportedPayload, "a backfill element must be an object {\"ts\": …, \"values\": {…}}, got \(describe(element))", label: label)
                continue
            }
            decodeObject(object, label: label)
        }
    }

    /// Form 1 (with `values`) or form 2 (flat); `label` names the record inside a backfill array.
    mutating func decodeObject(_ object: JSONObject, label: String?) {
        var tsKey = "", tsValue: JSONValue?
        for key in PayloadDecoder.timestampKeys {
            if let v = object[key] {
                tsKey = key
                tsValue = v
                break
            }
        }
        if let values = object["values"] {
            if form == nil { form = .envelope }
            guard case .object(let fields) = values else {
                reject(.unsupportedPayload, "\"values\" must be an object of fields, got \(describe(values))", label: label)
                return
            }
            guard !fields.isEmpty else {
                reject(.unsupportedPayload, "\"values\" has no fields", label: label)
                return
            }
            fieldsSeen += fields.count
            guard let ts = recordTime(tsValue, key: tsKey, label: label) else { return }
            decodeFields(fields, at: ts, skipTimestampKeys: false, label: label)
        } else {
            form = .flat
            let count = object.count - object.count(where: { PayloadDecoder.timestampKeys.contains($0.key) })
            guard count > 0 else { return }
            fieldsSeen += count
            guard let ts = recordTime(tsValue, key: tsKey, label: label) else { return }
            decodeFields(object, at: ts, skipTimestampKeys: true, label: label)
        }
    }

    mutating func decodeFields(_ fields: JSONObject, at timestamp: Int64, skipTimestampKeys: Bool, label: String?) {
        let recordStart = readings.count
        for member in fields.members {
            if skipTimestampKeys, member.key == "ts" || member.key == "timestamp" || member.key == "time" { continue }
            let metric: Metric, mapping: FieldMapping?
            switch profile.resolve(field: member.key) {
            case .mapped(let m, let fm): (metric, mapping) = (m, fm)
            case .canonical(let m): (metric, mapping) = (m, nil)
            case .ignored: continue
            case .unknown:
                rejectUnknown(member.key, member.value, label: label)
                continue
            }
            guard let raw = number(member.value, field: member.key, metric: metric, label: label) else { continue }
            let value = mapping?.apply(raw) ?? raw
            guard check(value, raw: raw, field: member.key, metric: metric, converted: mapping.map { !$0.isIdentity } ?? false, label: label) else { continue }
            append(metric: metric.name, timestamp: timestamp, value: value, recordStart: recordStart)
        }
    }

    mutating func rejectUnknown(_ field: String, _ value: JSONValue, label: String?) {
        reject(.unknownMetric,
               "field \"\(field)\" (value \(describe(value))) is not a canonical metric and profile \"\(profile.name)\" has no mapping for it",
               field: field, label: label)
    }

    /// Appends a reading; a metric already read in the same record at the same time is replaced.
    mutating func append(metric: String, timestamp: Int64, value: Double, recordStart: Int) {
        var i = recordStart
        while i < readings.count {
            if readings[i].metric == metric && readings[i].timestamp == timestamp {
                readings[i].value = value
                return
            }
            i += 1
        }
        readings.append(Reading(device: device, metric: metric, timestamp: timestamp, value: value))
    }

    // MARK: Values

    /// The number in `value`, or `nil` after a `wrong_type` rejection.
    mutating func number(_ value: JSONValue, field: String, metric: Metric, label: String?) -> Double? {
        switch value {
        case .number(let d):
            return d
        case .bool(let b):
            if metric.isBinary { return b ? 1 : 0 }
            reject(.wrongType, "field \"\(field)\": value \(b) is a boolean, but \(metric.name) takes a number (booleans are accepted for 0/1 metrics only)", field: field, label: label)
        case .string(let s):
            if let d = JSONParser.parseNumber(s) { return d }
            reject(.wrongType, "field \"\(field)\": value \(describe(value)) is a string, not a number", field: field, label: label)
        case .null:
            reject(.wrongType, "field \"\(field)\": value null is not a number", field: field, label: label)
        case .array, .object:
            reject(.wrongType, "field \"\(field)\": value \(describe(value)) is an \(value.typeName), not a number", field: field, label: label)
        }
        return nil
    }

    /// Checks a converted value: finite, inside the metric's physical range.
    mutating func check(_ value: Double, raw: Double, field: String, metric: Metric, converted: Bool, label: String?) -> Bool {
        guard value.isFinite else {
            reject(.nonFinite, "field \"\(field)\": value \(JSONValue.format(raw)) becomes \(value) after conversion to \(metric.name), not a finite number", field: field, label: label)
            return false
        }
        guard value >= metric.minimum && value <= metric.maximum else {
            let unit = metric.unit.isEmpty ? "" : " \(metric.unit)"
            let shown = converted
                ? "\(JSONValue.format(raw)) (\(JSONValue.format(value))\(unit) \(metric.name) after conversion)"
                : JSONValue.format(raw)
            reject(.outOfRange,
                   "field \"\(field)\": value \(shown) is outside the physical range \(JSONValue.format(metric.minimum))…\(JSONValue.format(metric.maximum))\(unit)",
                   field: field, label: label)
            return false
        }
        return true
    }

    // MARK: Time

    /// The time of a record: the receive time without a timestamp, else the parsed one;
    /// `nil` after a `bad_timestamp`, `future_timestamp` or `too_old` rejection.
    mutating func recordTime(_ value: JSONValue?, key: String, label: String?) -> Int64? {
        guard let value else { return receivedAt }
        guard let ms = Timestamp.milliseconds(from: value) else {
            reject(.badTimestamp,
                   "field \"\(key)\": value \(describe(value)) is not a timestamp (expected epoch milliseconds, epoch seconds or RFC 3339); the record was not stored",
                   field: key, label: label)
            return nil
        }
        return checkTime(ms, field: key, label: label) ? ms : nil
    }

    /// Rejects a time too far ahead of the receive time or before the minimum.
    mutating func checkTime(_ ms: Int64, field: String, label: String?) -> Bool {
        if ms > receivedAt &+ options.maxFutureSkew {
            reject(.futureTimestamp,
                   "field \"\(field)\": time \(Timestamp.format(ms)) is more than \(Self.duration(options.maxFutureSkew)) after the receive time \(Timestamp.format(receivedAt)); the record was not stored",
                   field: field, label: label)
            return false
        }
        if ms < options.minimumTimestamp {
            reject(.tooOld,
                   "field \"\(field)\": time \(Timestamp.format(ms)) is before the earliest accepted time \(Timestamp.format(options.minimumTimestamp)); the record was not stored",
                   field: field, label: label)
            return false
        }
        return true
    }

    static func duration(_ ms: Int64) -> String {
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000) h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000) min" }
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return "\(ms) ms"
    }

    /// A value as JSON text for a message, cut at 60 characters.
    func describe(_ value: JSONValue) -> String {
        let text = value.description
        return text.count <= 60 ? text : String(text.prefix(57)) + "…"
    }
}

extension Metric {
    /// Whether the metric is a 0/1 state (`flame`, `aerator_on`), which accepts booleans.
    var isBinary: Bool { minimum == 0 && maximum == 1 && precision == 0 }
}
