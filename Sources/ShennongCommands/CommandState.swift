/// Where a command is in its life.
///
/// ```
/// queued ──send──▶ sending ──PUBACK──▶ sent ──reply ok──▶ acknowledged ──state not confirmed──▶ failed
///   │                 │                  ├──reply failed──▶ failed
///   │                 └──(reply ok/failed, no reply: as sent)  └──no reply in time──▶ timed_out
///   ├──not sent before it expires──▶ expired
///   └──cancel──▶ cancelled
/// ```
///
/// `sending` is written (committed) *before* the message is handed to MQTT: a command found
/// `sending` after a restart may or may not have reached the broker, so it is never sent again;
/// it waits for its reply like a sent command and ends acknowledged, failed or timed out.
public enum CommandState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Accepted, waiting to be sent (the device is offline, or the sender has not got to it).
    case queued
    /// Recorded as being published; not known to have reached the broker.
    case sending
    /// The broker acknowledged the publish (QoS 1 PUBACK); waiting for the device's reply.
    case sent
    /// The device replied `ok`. With a state metric, it may still fail if the state is not confirmed.
    case acknowledged
    /// The device replied `failed`, or its state metric did not confirm the command in time.
    case failed
    /// No reply within the command's reply time.
    case timedOut = "timed_out"
    /// Not sent before its expiry (the device stayed offline).
    case expired
    /// A person cancelled it before it was sent.
    case cancelled

    /// Whether nothing more happens to the command (acknowledged still awaits confirmation
    /// when its command has a state metric: see ``CommandRecord/isFinished``).
    public var isTerminal: Bool {
        switch self {
        case .queued, .sending, .sent, .acknowledged: false
        case .failed, .timedOut, .expired, .cancelled: true
        }
    }

    /// Whether the command left (or may have left) Shennong.
    public var wasSent: Bool {
        switch self {
        case .queued, .expired, .cancelled: false
        case .sending, .sent, .acknowledged, .failed, .timedOut: true
        }
    }

    /// The state in Chinese, for staff pages and the CLI.
    public var chineseName: String {
        switch self {
        case .queued: "排队中"
        case .sending: "发送中"
        case .sent: "已发送"
        case .acknowledged: "已确认"
        case .failed: "失败"
        case .timedOut: "超时"
        case .expired: "已过期"
        case .cancelled: "已取消"
        }
    }
}
