import ShennongCore

/// The MQTT topics of DESIGN.md under a configurable prefix:
/// `{prefix}/{device}/telemetry`, `{prefix}/{device}/status`, `{prefix}/alerts/{domain}/{device}`.
public struct TopicScheme: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case telemetry
        case status
    }

    public let prefix: String

    public init(prefix: String) {
        var p = prefix
        while p.hasSuffix("/") { p.removeLast() }
        self.prefix = p
    }

    /// The subscriptions the ingest needs.
    public var subscriptions: [String] { ["\(prefix)/+/telemetry", "\(prefix)/+/status"] }

    public func telemetry(_ device: String) -> String { "\(prefix)/\(device)/telemetry" }
    public func status(_ device: String) -> String { "\(prefix)/\(device)/status" }

    /// The device and kind of `topic`, or `nil` if it is not one of ours.
    /// The device part is returned even when it is not a valid id, so that the reject can name it.
    public func parse(_ topic: String) -> (device: String, kind: Kind)? {
        guard topic.hasPrefix(prefix + "/") else { return nil }
        let rest = topic.dropFirst(prefix.count + 1)
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let device = String(rest[..<slash])
        let kind: Kind
        switch rest[rest.index(after: slash)...] {
        case "telemetry": kind = .telemetry
        case "status": kind = .status
        default: return nil
        }
        return (device, kind)
    }
}
