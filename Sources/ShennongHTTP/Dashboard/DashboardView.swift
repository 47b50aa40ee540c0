import Foundation
import ShennongAlerts
import ShennongCore
import ShennongRules

/// Who is logged in, as the pages' header shows it.
struct DashboardUser {
    var name: String
    var role: String
}

/// What the dashboard's main page shows: the Mustache model (swift-mustache reads the
/// properties by name; every string is escaped by the template's `{{ }}`).
struct DashboardView {
    struct Value {
        var metric: String
        /// The metric as the page's language names it (溶解氧 · dissolved_oxygen).
        var label: String
        var value: String
        var unit: String
        var age: String
        var at: String
        var stale: Bool
        var chart: String
    }

    struct DeviceRow {
        var id: String
        var profile: String
        var domain: String
        var domainLabel: String
        var values: [Value]
        var hasValues: Bool
        var interval: String
        var stale: Bool
        var seen: String
        var offline: Bool
        var deviceName: String?
    }

    struct Site {
        var name: String
        var devices: [DeviceRow]
        var count: Int
        /// `3 台设备` / `3 devices`.
        var countText: String
    }

    struct AlertRow {
        var id: Int64
        var rule: String
        var device: String
        var title: String
        var message: String
        var raised: String
        var late: Bool
        var status: String
        var canAck: Bool
        var canResolve: Bool
        var value: String?
        var threshold: String?
        var acknowledgedBy: String?
    }

    struct Level {
        var name: String
        /// 红色 / red.
        var label: String
        /// 红色（I级 特别严重） / red (I, particularly severe).
        var title: String
        var count: Int
        var alerts: [AlertRow]
        var hasAlerts: Bool
    }

    /// A derived index (forest-fire danger) of one station at its latest value: shown at every
    /// level, with the warning signal in force if any (levels 1–2 never have one).
    struct IndexRow {
        var device: String
        var deviceName: String?
        var rule: String
        var index: String
        var value: String
        /// 1…5.
        var level: Int
        /// 二级 较低火险 / level 2, moderately low.
        var grade: String
        /// The level's colour in the daily forecast (green … red), for its badge.
        var colour: String
        /// The warning level's name (yellow …) for its badge, `nil` without a signal.
        var warning: String?
        var warningLabel: String?
        var since: String
    }

    struct RejectRow {
        var at: String
        var topic: String
        var code: String
        var reason: String
        var payload: String
    }

    var sites: [Site]
    var levels: [Level]
    var indices: [IndexRow]
    var hasIndices: Bool
    var rejects: [RejectRow]
    var hasRejects: Bool
    var deviceCount: Int
    var staleCount: Int
    var seriesCount: Int
    var openCount: Int
    var hasOpen: Bool
    var canAct: Bool
    var staleFactor: Int
    /// `共 3 条未确认或已确认` / `3 open or acknowledged`.
    var openText: String
    /// When a value counts as stale, in words.
    var staleText: String
    /// The page's words, in its language (`{{t.key}}`).
    var t: StaffStrings
    /// Set by the page: whether the monitoring data is sealed and verified.
    var dataSeal: String?
    var dataSealFailed = false

    /// A value or device is stale when its age exceeds this many expected intervals (the
    /// device-silence preset's blue level).
    static let staleFactor: Int64 = 3

    /// - Parameters:
    ///   - indices: the derived indices' latest values (``RulesStage/indexStatuses(device:)``).
    ///   - scope: the session's token's scope: devices, values, warnings (and their counts),
    ///     indices and rejects outside it are left out.
    static func build(
        store: any AlertStore & StaffStore, profiles: [String: DeviceProfile], now: Int64, offsetMinutes: Int, canAct: Bool,
        indices allIndices: [IndexStatus] = [], strings t: StaffStrings = .zh, scope: AccessScope = .everything
    ) throws -> DashboardView {
        let records: [DeviceRecord]
        let latest: [LatestValue]
        let live: [AlertRecord]
        let liveCounts: [AlertLevel: Int]
        let rejects: [RejectRecord]
        let indices: [IndexStatus]
        if scope.isEverything {
            records = try store.deviceRecords()
            latest = try store.latest()
            // The 500 newest live warnings are listed; the counts are the store's, all of them.
            live = try store.alerts(AlertQuery(statuses: [.open, .acknowledged], limit: 500))
            liveCounts = try store.liveAlertCounts()
            rejects = try store.rejects(limit: 20)
            indices = allIndices
        } else {
            // A scoped session: everything filtered by the scope's devices, counts counted after.
            records = try store.deviceRecords().filter { scope.contains($0.device) }
            let visible = Set(records.map(\.device.id))
            latest = try store.latest().filter { visible.contains($0.device) }
            let scopedLive = try store.alerts(AlertQuery(statuses: [.open, .acknowledged], limit: 100_000))
                .filter { visible.contains($0.device) }
            live = Array(scopedLive.prefix(500))
            liveCounts = Dictionary(grouping: scopedLive, by: \.level).mapValues(\.count)
            rejects = Array(try store.rejects(limit: 1000).filter { $0.device.map(visible.contains) ?? false }.prefix(20))
            indices = allIndices.filter { visible.contains($0.device) }
        }
        let byDevice = Dictionary(grouping: latest, by: \.device)

        // Sites → devices → latest values.
        var sites: [String: [DeviceRow]] = [:]
        var staleDevices = 0
        for record in records {
            let device = record.device
            let interval = Int64(profiles[device.profile]?.expectedInterval ?? 300) * 1000
            let limit = interval * staleFactor
            let seenAge = record.lastSeen.map { now - $0 }
            let deviceStale = seenAge.map { $0 > limit } ?? true
            if deviceStale { staleDevices += 1 }
            let values = (byDevice[device.id] ?? []).map { v in
                let metric = MetricCatalogue.metric(named: v.metric)
                let age = now - v.timestamp
                return Value(
                    metric: v.metric, label: t.metric(v.metric, metric?.chineseName),
                    value: format(v.value, precision: metric?.precision ?? 2), unit: v.unit, age: ageText(age, t),
                    at: LocalTime.format(v.timestamp, offsetMinutes: offsetMinutes), stale: age > limit,
                    chart: "/dashboard/chart?device=\(query(device.id))&metric=\(query(v.metric))")
            }
            sites[device.site ?? "", default: []].append(
                DeviceRow(
                    id: device.id, profile: device.profile, domain: device.domain.rawValue,
                    domainLabel: t.domain(device.domain), values: values, hasValues: !values.isEmpty,
                    interval: t.every(ageText(interval, t)), stale: deviceStale,
                    seen: seenAge.map { t.seen(ageText($0, t)) } ?? t.neverSeen, offline: record.presence == "offline",
                    deviceName: device.name))
        }
        let siteList = sites.keys.sorted { a, b in
            // Named sites first, alphabetically; devices without a site last.
            a.isEmpty != b.isEmpty ? !a.isEmpty : a < b
        }.map { key in
            Site(name: key.isEmpty ? t.noSite : key, devices: sites[key]!, count: sites[key]!.count, countText: t.deviceCount(sites[key]!.count))
        }

        // Open warnings by level, red first.
        let grouped = Dictionary(grouping: live, by: \.level)
        let levels = AlertLevel.allCases.reversed().map { level in
            let alerts = (grouped[level] ?? []).map { a in
                AlertRow(
                    id: a.id, rule: a.rule, device: a.device, title: a.title, message: a.message,
                    raised: LocalTime.format(a.raisedAt, offsetMinutes: offsetMinutes), late: a.late,
                    status: a.status == .open ? t.statusOpen : t.statusAcknowledged, canAck: canAct && a.status == .open,
                    canResolve: canAct, value: a.value.map { format($0, precision: 2) },
                    threshold: a.threshold.map { format($0, precision: 2) }, acknowledgedBy: a.acknowledgedBy)
            }
            return Level(
                name: level.name, label: t.levelName(level), title: t.levelTitle(level),
                count: liveCounts[level] ?? alerts.count, alerts: alerts, hasAlerts: !alerts.isEmpty)
        }

        // Derived indices by device then rule, every level shown.
        let names = Dictionary(records.map { ($0.device.id, $0.device.name) }, uniquingKeysWith: { a, _ in a })
        let indexRows = indices.map { status in
            IndexRow(
                device: status.device, deviceName: names[status.device] ?? nil, rule: status.rule,
                index: t.indexName(status.index), value: format(status.value, precision: 1), level: status.grade.level,
                grade: t.indexGrade(status.index, status.grade), colour: status.grade.forecastColour,
                warning: status.warning?.name, warningLabel: status.warning.map(t.levelName),
                since: LocalTime.format(status.at, offsetMinutes: offsetMinutes))
        }

        let rejectRows = rejects.map { r in
            var preview = String(decoding: r.payload.prefix(160), as: UTF8.self)
            if r.payload.count > 160 { preview += "…" }
            return RejectRow(
                at: LocalTime.format(r.receivedAt, offsetMinutes: offsetMinutes), topic: r.topic, code: r.code.rawValue,
                reason: r.reason, payload: preview)
        }

        return DashboardView(
            sites: siteList, levels: levels, indices: indexRows, hasIndices: !indexRows.isEmpty, rejects: rejectRows,
            hasRejects: !rejectRows.isEmpty, deviceCount: records.count, staleCount: staleDevices, seriesCount: latest.count,
            openCount: liveCounts.values.reduce(0, +), hasOpen: !live.isEmpty, canAct: canAct,
            staleFactor: Int(staleFactor), openText: t.openCount(liveCounts.values.reduce(0, +)),
            staleText: t.staleAfter(Int(staleFactor)), t: t)
    }

    /// `v` at `precision` decimals without trailing zeros (no "-0").
    static func format(_ v: Double, precision: Int) -> String {
        let p = max(0, min(precision, 4))
        var s = String(format: "%.\(p)f", v)
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { s.removeFirst() }
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// An age or interval in the page's words, to two units: `42 秒`, `5 分钟`, `3 小时 10 分钟`,
    /// `2 天 4 小时` (`42 s`, `5 min`, `3 h 10 min`, `2 d 4 h`).
    static func ageText(_ ms: Int64, _ t: StaffStrings = .zh) -> String {
        let s = max(0, ms / 1000)
        if s < 60 { return t.duration(0, 0, 0, s) }
        if s < 3600 { return t.duration(0, 0, s / 60, 0) }
        if s < 86_400 { return t.duration(0, s / 3600, s % 3600 / 60, 0) }
        return t.duration(s / 86_400, s % 86_400 / 3600, 0, 0)
    }

    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
