import Foundation
import ShennongAlerts
import ShennongRules

extension ServerConfig {
    /// The `commands:` section: device commands (自动控制).
    ///
    /// ```yaml
    /// commands:
    ///   enabled: true
    ///   interval: 1s            # a pass over unfinished commands: send, confirm, time out, expire
    ///   unresponsive_level: red # the "设备未响应 actuator did not respond" alert
    /// ```
    public struct Commands: Sendable, Decodable {
        public var enabled = true
        public var interval: Int64 = 1000
        public var unresponsiveLevel: AlertLevel = .red

        public init() {}

        enum CodingKeys: String, CodingKey {
            case enabled, interval
            case unresponsiveLevel = "unresponsive_level"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
            if let text = try c.decodeIfPresent(String.self, forKey: .interval) {
                guard let ms = Storage.duration(text), ms >= 50, ms <= 60_000 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .interval, in: c, debugDescription: "must be a duration from 50ms to 60s, not \(text)")
                }
                interval = ms
            }
            if let text = try c.decodeIfPresent(String.self, forKey: .unresponsiveLevel) {
                guard let level = AlertLevel(name: text) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .unresponsiveLevel, in: c, debugDescription: "must be blue, yellow, orange or red, not \(text)")
                }
                unresponsiveLevel = level
            }
        }

        public var options: ControlOptions { ControlOptions(interval: interval, unresponsiveLevel: unresponsiveLevel) }
    }
}
