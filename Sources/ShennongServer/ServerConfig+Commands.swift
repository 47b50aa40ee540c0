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

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: ConfigKey.self)
            try c.update(&enabled, "enabled")
            try c.update(duration: &interval, "interval", in: 50...60_000) { "must be a duration from 50ms to 60s, not \($0)" }
            try c.update(&unresponsiveLevel, "unresponsive_level", parsing: AlertLevel.init(name:)) {
                "must be blue, yellow, orange or red, not \($0)"
            }
        }

        public var options: ControlOptions { ControlOptions(interval: interval, unresponsiveLevel: unresponsiveLevel) }
    }
}
