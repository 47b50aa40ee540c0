/// How one message carries several devices: a DTU gateway batching the sensors behind it,
/// or a soil profile probe reporting each depth as its own device.
///
/// The payload is an object (or an array of such objects, a gateway's backfill) whose
/// ``childrenKey`` holds one entry per child, keyed by the child's key:
///
/// ```json
/// {"ts": 1763707200000, "devices": {"pond-07": {"DO": 5.1}, "pond-08": {"ts": 1763707140000, "values": {"DO": 4.8}}}}
/// ```
///
/// A child entry is decoded as a payload of its own (form 1 or 2, or a backfill array) with
/// the child's profile; a flat child without its own time takes the message's `ts`.
public struct GatewayMapping: Sendable, Hashable {
    /// The top-level key holding the children (`devices`, `depths`).
    public var childrenKey: String
    /// The child's device id made from its key: `{key}` (the key is the id) or a template
    /// with `{device}` (the gateway's id), such as `{device}-{key}cm`.
    public var childID: String
    /// The profile that decodes children not registered yet (registered ones use their own).
    public var childProfile: String

    public init(childrenKey: String = "devices", childID: String = "{key}", childProfile: String = "generic") {
        self.childrenKey = childrenKey
        self.childID = childID
        self.childProfile = childProfile
    }

    /// The id of the child under `key` of gateway `device`.
    public func childDevice(key: String, gateway device: String) -> String {
        childID.replacingOccurrences(of: "{device}", with: device).replacingOccurrences(of: "{key}", with: key)
    }

    /// One child's share of a gateway message: its id and the payload to decode with its profile.
    public struct Child: Sendable, Hashable {
        public var device: String
        public var payload: JSONValue
    }

    /// Splits a parsed gateway message into its children, in order of first appearance
    /// (a child that appears in several records of a backfill gets one array payload).
    /// Entries that cannot be used are returned as rejections naming the child.
    public func split(_ value: JSONValue, gateway device: String) -> (children: [Child], rejections: [Rejection]) {
        var order: [String] = []
        var records: [String: [JSONValue]] = [:]
        var rejections: [Rejection] = []
        let expected = "expected {\"ts\": …, \"\(childrenKey)\": {\"<child>\": {…}, …}}"

        func take(_ object: JSONObject, label: String) {
            guard let childrenValue = object[childrenKey] else {
                rejections.append(Rejection(code: .unsupportedPayload, message: "\(label)has no \"\(childrenKey)\"; \(expected)"))
                return
            }
            guard case .object(let children) = childrenValue, !children.isEmpty else {
                rejections.append(Rejection(
                    code: .unsupportedPayload,
                    message: "\(label)\"\(childrenKey)\" must be a non-empty object of children, got a \(childrenValue.typeName)",
                    field: childrenKey))
                return
            }
            let ts = PayloadDecoder.timestampKeys.lazy.compactMap { object[$0].map { ($0) } }.first
            for member in children.members {
                let id = childDevice(key: member.key, gateway: device)
                guard Device.isValidID(id) else {
                    rejections.append(Rejection(
                        code: .invalidDeviceID,
                        message: "\(label)child \"\(member.key.prefix(80))\" gives device id \"\(id.prefix(80))\", which must match [A-Za-z0-9_.-]{1,64}",
                        field: "\(childrenKey).\(member.key.prefix(80))"))
                    continue
                }
                var payload = member.value
                switch member.value {
                case .object(let child):
                    let hasOwnTime = PayloadDecoder.timestampKeys.contains { child[$0] != nil }
                    if let ts, !hasOwnTime {
                        payload = child["values"] != nil
                            ? .object(JSONObject([.init(key: "ts", value: ts)] + child.members))
                            : .object(JSONObject([.init(key: "ts", value: ts), .init(key: "values", value: member.value)]))
                    }
                case .array:
                    break
                default:
                    rejections.append(Rejection(
                        code: .unsupportedPayload,
                        message: "\(label)child \(id) must be an object of fields, got a \(member.value.typeName)",
                        field: "\(childrenKey).\(member.key)"))
                    continue
                }
                if records[id] == nil { order.append(id) }
                switch payload {
                case .array(let elements): records[id, default: []].append(contentsOf: elements)
                default: records[id, default: []].append(payload)
                }
            }
        }

        switch value {
        case .object(let object):
            take(object, label: "")
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                guard case .object(let object) = element else {
                    rejections.append(Rejection(
                        code: .unsupportedPayload, message: "record [\(i)]: a gateway record must be an object, got a \(element.typeName)"))
                    continue
                }
                take(object, label: "record [\(i)]: ")
            }
        default:
            rejections.append(Rejection(code: .unsupportedPayload, message: "payload is a JSON \(value.typeName); \(expected)"))
        }
        let children = order.map { id in
            let list = records[id] ?? []
            return Child(device: id, payload: list.count == 1 ? list[0] : .array(list))
        }
        return (children, rejections)
    }
}

extension PayloadDecoder {
    /// Decodes one message of `device` whatever its profile: a gateway profile's message is
    /// split into its children, each decoded with `profileOf(child)` (its registered
    /// profile) or else the gateway's child profile. Readings carry the id of the device
    /// they belong to; rejections of a child name it.
    public static func decodeMessage(
        _ payload: [UInt8], device: String, profile: DeviceProfile, receivedAt: Int64, options: DecodeOptions = .init(),
        profileOf: (String) -> DeviceProfile?
    ) -> (result: DecodeResult, children: [String]) {
        guard let gateway = profile.gateway else {
            return (decode(payload, device: device, profile: profile, receivedAt: receivedAt, options: options), [])
        }
        if payload.count > options.maxPayloadBytes {
            return (DecodeResult(rejections: [Rejection(
                code: .payloadTooLarge,
                message: "payload of \(payload.count) bytes is larger than the limit of \(options.maxPayloadBytes) bytes")]), [])
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(payload)
        } catch {
            return (DecodeResult(rejections: [Rejection(code: .malformedJSON, message: "payload is not valid JSON: \(error.description)")]), [])
        }
        let (children, splitRejections) = gateway.split(value, gateway: device)
        var result = DecodeResult(rejections: splitRejections, form: .gateway)
        for child in children {
            let childProfile = profileOf(child.device) ?? DeviceProfile.generic
            let decoded = decode(child.payload, device: child.device, profile: childProfile, receivedAt: receivedAt, options: options)
            result.readings += decoded.readings
            result.rejections += decoded.rejections.map { r in
                var r = r
                r.message = "child \(child.device): " + r.message
                return r
            }
        }
        return (result, children.map(\.device))
    }
}
