import ShennongCore

/// The MQTT topics of DESIGN.md under a configurable prefix:
/// `{prefix}/{device}/telemetry`, `{prefix}/{device}/status`, `{prefix}/alerts/{domain}/{device}`.
public struct TopicScheme: Sendable, Hashable {
    /// What a device publishes on a topic.
    public enum Kind: Sendable, Hashable {
        /// `{prefix}/{device}/telemetry`: readings, in any accepted payload form.
        case telemetry
        /// `{prefix}/{device}/status`: retained `online` / `offline` (birth and last will).
        case status
    }

    /// The prefix without trailing slashes (`agri` by default).
    public let prefix: String
    /// `prefix` and a slash, as bytes (topics are matched byte for byte).
    private let head: [UInt8]

    /// The scheme under `prefix`; trailing slashes are dropped (`agri/` is `agri`).
    public init(prefix: String) {
        var p = prefix
        while p.hasSuffix("/") { p.removeLast() }
        self.prefix = p
        head = Array(p.utf8) + [UInt8(ascii: "/")]
    }

    /// The subscriptions the ingest needs.
    public var subscriptions: [String] { ["\(prefix)/+/telemetry", "\(prefix)/+/status"] }

    /// The telemetry topic of `device`.
    public func telemetry(_ device: String) -> String { "\(prefix)/\(device)/telemetry" }
    /// The presence topic of `device`.
    public func status(_ device: String) -> String { "\(prefix)/\(device)/status" }

    /// The device and kind of `topic`, or `nil` if it is not one of ours.
    /// The device part is returned even when it is not a valid id, so that the reject can name it.
    public func parse(_ topic: String) -> (device: String, kind: Kind)? {
        var topic = topic
        return topic.withUTF8 { bytes in
            guard bytes.count > head.count, bytes.starts(with: head) else { return nil }
            let rest = bytes[head.count...]
            guard let slash = rest.lastIndex(of: UInt8(ascii: "/")) else { return nil }
            let kind: Kind
            let tail = rest[(slash + 1)...]
            if tail.elementsEqual("telemetry".utf8) {
                kind = .telemetry
            } else if tail.elementsEqual("status".utf8) {
                kind = .status
            } else {
                return nil
            }
            return (String(decoding: rest[..<slash], as: UTF8.self), kind)
        }
    }
}
