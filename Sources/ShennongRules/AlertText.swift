import Foundation
import ShennongAlerts
import ShennongCore

/// The headline and description of an alert, Chinese first (people in the field read them).
enum AlertText {
    static func title(rule: Rule, device: Device, level: Int) -> String {
        let where_ = device.name.map { "\($0)（\(device.id)）" } ?? device.id
        guard let l = AlertLevel(stored: level) else { return "\(rule.name) 解除 — \(where_)" }
        return "\(rule.name) \(l.chineseName)预警（\(l.roman)级 \(l.gravity)）— \(where_)"
    }

    static func message(rule: Rule, device: Device, level: Int, value: Double?, spec: LevelSpec?) -> String {
        let metric = rule.metric.flatMap { MetricCatalogue.metric(named: $0) }
        let name = metric?.chineseName ?? rule.metric ?? ""
        let unit = metric.map { $0.unit.isEmpty ? "" : " \($0.unit)" } ?? ""
        let v = value.map { format($0) } ?? "—"
        let site = device.site.map { "（\($0)）" } ?? ""
        guard let spec, let l = AlertLevel(stored: level) else {
            return "\(device.id)\(site) \(rule.name)：条件已解除（condition cleared）。"
        }
        let t = format(spec.threshold)
        let s = spec.comparison.symbol
        let what: String
        switch rule.condition {
        case .threshold:
            what = "\(name) \(v)\(unit) \(s) \(t)\(unit)"
        case .window(let aggregate, let window):
            let span = chineseDuration(spec.window ?? window ?? 0)
            let agg = ["sum": "累计", "mean": "平均", "min": "最低", "max": "最高"][aggregate.rawValue] ?? ""
            what = "\(span)\(name)\(agg) \(v)\(unit) \(s) \(t)\(unit)"
        case .rate(let per, _):
            what = "\(name)变化率 \(v)\(unit)/\(chineseDuration(per)) \(s) \(t)\(unit)/\(chineseDuration(per))"
        case .fraction(let good, let threshold, let window, _):
            what = "近\(chineseDuration(window))\(name) \(good.symbol) \(format(threshold))\(unit) 的时长 \(v) 小时 \(s) \(t) 小时"
        case .derived(let index):
            let grade = value.flatMap { $0.isFinite ? "（\(index.grade(of: $0).title)）" : nil } ?? ""
            what = "\(index.chineseName) \(v)\(grade) \(s) \(t)"
        case .silence(_, let offline):
            if value == .infinity, let offline, offline == l {
                what = "设备离线（状态主题遗嘱消息 offline）"
            } else {
                what = "设备已 \(v) 个上报周期无数据（\(s) \(t)）"
            }
        case .range(let lo, let hi):
            what = "\(name)超出合理范围 [\(lo.map(format) ?? "−∞"), \(hi.map(format) ?? "∞")]\(unit)"
        case .stuck:
            what = "\(name)连续 \(v) 次上报相同数值（\(s) \(t) 次），疑似传感器故障"
        }
        return "\(device.id)\(site)：\(what)，达到\(l.chineseName)预警（\(l.roman)级 \(l.gravity)）。"
    }

    /// `6小时`, `30分钟`, `1天`.
    static func chineseDuration(_ ms: Int64) -> String {
        if ms > 0 && ms % 86_400_000 == 0 { return "\(ms / 86_400_000)天" }
        if ms > 0 && ms % 3_600_000 == 0 { return "\(ms / 3_600_000)小时" }
        if ms > 0 && ms % 60_000 == 0 { return "\(ms / 60_000)分钟" }
        return "\(ms / 1000)秒"
    }

    static func format(_ x: Double) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : "−∞" }
        if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
        return String(format: "%.2f", x).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
    }
}
