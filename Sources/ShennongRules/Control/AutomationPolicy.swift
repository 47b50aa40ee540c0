import ShennongCommands
import ShennongCore

/// What a rule's action comes to for one device once the interlocks have had their say.
public enum AutomationDecision: Sendable, Hashable {
    /// Issue the command, not before `notBefore` (a minimum on or off time); first cancel the
    /// queued automatic commands `cancel` (an opposite switch still waiting: a stop queued for
    /// after the minimum run time is void once the condition is back).
    case issue(notBefore: Int64?, cancel: [String])
    /// Send nothing, for this reason (Chinese first).
    case skip(String)
}

/// The interlocks of automation as a pure decision, apart from storage: the automation reads the
/// device's recent commands and the latest value of the command's state metric, and asks.
///
/// In order:
/// 1. Manual override: a person's command to the device within `manual_hold` holds every
///    automatic command off it.
/// 2. A command without a state metric is issued as is.
/// 3. Already so: the newest live command for the same state metric (queued, sending, sent,
///    acknowledged) asks for the same value, or none is live and the metric already reports it.
/// 4. A start (state value ≠ 0): not in quiet hours; at most `max_starts_per_hour` starts (sent
///    or waiting) in the last hour; not before the last stop + `min_off`.
/// 5. A stop: not before the last start + `min_on`.
/// Queued automatic commands for the same metric asking for the other value are cancelled.
public enum AutomationPolicy {
    /// - Parameters:
    ///   - history: the device's commands, newest first (at least the last hour's, and the last
    ///     start and stop).
    ///   - latestState: the newest reported value of the spec's state metric.
    ///   - offsetMinutes: local time offset for quiet hours.
    public static func decide(
        spec: CommandSpec, interlock: Interlock, history: [CommandRecord], latestState: Double?, now: Int64,
        offsetMinutes: Int
    ) -> AutomationDecision {
        if let manual = history.first(where: { !$0.origin.isAutomatic && $0.issuedAt > now - interlock.manualHold }) {
            return .skip(
                "手动控制保持中，自动控制暂停至 \(LocalTime.format(manual.issuedAt + interlock.manualHold, offsetMinutes: offsetMinutes)) manual override hold (\(manual.name) by \(manual.issuedBy))"
            )
        }
        guard let state = spec.state else { return .issue(notBefore: nil, cancel: []) }
        let live: Set<CommandState> = [.queued, .sending, .sent, .acknowledged]
        let same = history.filter { $0.confirm?.metric == state.metric }
        if let newest = same.first(where: { live.contains($0.state) }) {
            if newest.confirm?.value == state.value {
                return .skip("已有同一状态的命令 \(newest.id)（\(newest.state.chineseName)） already commanded")
            }
        } else if latestState == state.value {
            return .skip("\(state.metric) 已是 \(JSONValue.format(state.value)) already in that state")
        }
        let cancel = same.filter { $0.state == .queued && $0.origin.isAutomatic && $0.confirm?.value != state.value }.map(\.id)
        func started(_ c: CommandRecord) -> Int64 { c.sendingAt ?? c.notBefore ?? c.issuedAt }
        let counts: Set<CommandState> = [.queued, .sending, .sent, .acknowledged, .failed, .timedOut]
        if state.isOn {
            if let quiet = interlock.quietHours, quiet.contains(now, offsetMinutes: offsetMinutes) {
                return .skip("静默时段 \(quiet.text) 不自动启动 quiet hours: no automatic start")
            }
            if let max = interlock.maxStartsPerHour {
                let starts = same.filter {
                    ($0.confirm?.isOn ?? false) && counts.contains($0.state) && !cancel.contains($0.id) && started($0) > now - 3_600_000
                }
                if starts.count >= max {
                    return .skip("一小时内已启动 \(starts.count) 次（上限 \(max)）motor protection: \(starts.count) starts in the last hour")
                }
            }
            if interlock.minOff > 0, let stop = same.first(where: { !($0.confirm?.isOn ?? true) && $0.state.wasSent }) {
                let earliest = started(stop) + interlock.minOff
                return .issue(notBefore: earliest > now ? earliest : nil, cancel: cancel)
            }
        } else if interlock.minOn > 0, let start = same.first(where: { ($0.confirm?.isOn ?? false) && $0.state.wasSent }) {
            let earliest = started(start) + interlock.minOn
            return .issue(notBefore: earliest > now ? earliest : nil, cancel: cancel)
        }
        return .issue(notBefore: nil, cancel: cancel)
    }
}
