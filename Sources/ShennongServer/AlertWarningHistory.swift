import ShennongAlerts
import ShennongCore
import ShennongRules
import ShennongTrace

/// The warnings of a plot's devices for the trace environment summary, from the alerts
/// store: each alert raised in the period at its highest level, its rule by its Chinese
/// name, and how it was closed (闭环: closed by whom, with the closing note; else resolved
/// by itself, or still open).
struct AlertWarningHistory: WarningHistory {
    let store: any AlertStore
    /// The name of a rule in force, by id (`nil`: not in force; the alert's title gives it).
    var ruleName: @Sendable (String) -> String? = { _ in nil }

    func warnings(devices: [String], from: Int64, to: Int64) throws -> [WarningRecord] {
        var records: [WarningRecord] = []
        for device in devices {
            for alert in try store.alerts(AlertQuery(device: device, limit: 10_000))
            where alert.raisedAt >= from && alert.raisedAt < to {
                let closing = try store.alertTransitions(id: alert.id).last { $0.kind == .closed || $0.kind == .resolved }
                let name = ruleName(alert.rule) ?? Self.ruleName(title: alert.title)
                records.append(WarningRecord(
                    level: alert.peakLevel.name, rule: alert.rule, ruleName: name.map(Rule.chineseName(of:)),
                    device: alert.device, raisedAt: alert.raisedAt, closedAt: alert.closedAt ?? alert.resolvedAt,
                    closedBy: alert.closedBy ?? alert.resolvedBy, note: closing?.note))
            }
        }
        return records.sorted { ($0.raisedAt, $0.device) < ($1.raisedAt, $1.device) }
    }

    /// The rule name an alert's title starts with ("河道水位 River stage 橙色预警（II级 严重）— …"),
    /// for a rule no longer in force; `nil` when the title has no level.
    static func ruleName(title: String) -> String? {
        let cut = AlertLevel.allCases.compactMap { title.range(of: " \($0.chineseName)预警")?.lowerBound }.min()
            ?? title.range(of: " 解除 — ")?.lowerBound
        return cut.map { String(title[..<$0]) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}
