import ShennongAlerts
import ShennongCore
import ShennongTrace

/// The warnings of a plot's devices for the trace environment summary, from the alerts
/// store: each alert raised in the period at its highest level, and how it was closed
/// (闭环: closed by whom, with the closing note; else resolved by itself, or still open).
struct AlertWarningHistory: WarningHistory {
    let store: any AlertStore

    func warnings(devices: [String], from: Int64, to: Int64) throws -> [WarningRecord] {
        var records: [WarningRecord] = []
        for device in devices {
            for alert in try store.alerts(AlertQuery(device: device, limit: 10_000))
            where alert.raisedAt >= from && alert.raisedAt < to {
                let closing = try store.alertTransitions(id: alert.id).last { $0.kind == .closed || $0.kind == .resolved }
                records.append(WarningRecord(
                    level: alert.peakLevel.name, rule: alert.rule,
                    device: alert.device, raisedAt: alert.raisedAt, closedAt: alert.closedAt ?? alert.resolvedAt,
                    closedBy: alert.closedBy ?? alert.resolvedBy, note: closing?.note))
            }
        }
        return records.sorted { ($0.raisedAt, $0.device) < ($1.raisedAt, $1.device) }
    }
}
