import ShennongCore
import Foundation
import Logging

/// A swift-log handler writing one JSON object per line to standard error, for log
/// collectors (journald, Loki, Elastic): `{"ts", "level", "label", "message", metadata...}`.
///
/// Metadata keys become top-level keys (prefixed `meta_` if they collide with the fixed
/// ones); values are strings. Tokens and secrets are never logged by Shennong, so nothing is
/// filtered here.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let stream: @Sendable (String) -> Void

    public init(label: String, stream: @escaping @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }) {
        self.label = label
        self.stream = stream
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let fixed: Set<String> = ["ts", "level", "label", "message", "source"]

    public func log(event: LogEvent) {
        var object: [String: String] = [
            "ts": Self.timestamp(), "level": event.level.rawValue, "label": label, "message": "\(event.message)",
            "source": event.source,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged {
            object[Self.fixed.contains(key) ? "meta_" + key : key] = "\(value)"
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        stream(String(decoding: data, as: UTF8.self) + "\n")
    }

    static func timestamp() -> String {
        let ms = WallClock.system.now()
        return Timestamp.formatMillis(ms)
    }
}

private enum Timestamp {
    /// RFC 3339 UTC with milliseconds.
    static func formatMillis(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
