import Mustache
import ShennongAlerts
import ShennongCore
import ShennongRules

/// Every string of the staff pages (dashboard, chart, login, messages), one value per
/// language: ``zh`` (the default) and ``en``, chosen per request by `Accept-Language`
/// (``Language/preferred(acceptLanguage:)``).
///
/// Typed: a key added to the struct must be given in both languages or the catalogue does not
/// compile; the templates read the plain strings as `{{t.key}}` (the page models carry the
/// catalogue as `t`), and `StaffStringsTests` checks every `t.key` the templates name exists.
/// Words with a value in them are functions; words about an enum switch over it, so a new
/// case needs its word in both languages. Data (alert titles and messages the rules wrote,
/// device names, reject reasons) is shown as stored.
struct StaffStrings: Sendable {
    let language: Language
    /// `<html lang>`.
    let htmlLang: String

    // Header and login
    let brand: String
    let dashboardName: String
    let overview: String
    let controls: String
    let controlsAutomatic: String
    let controlsNone: String
    let controlsOffline: String
    let controlsPresence: String
    let controlsCommand: String
    let controlsState: String
    let controlsBy: String
    let controlsIssued: String
    let controlsDetail: String
    let controlsLast: String
    let controlsNeverSent: String
    let controlsNeedsOperator: String
    let logOut: String
    let loginTitle: String
    let dashboardTitle: String
    let tokenLabel: String
    let logIn: String
    let loginHelpPaste: String
    let loginHelpOr: String
    let loginHelpCookie: String
    let loginLinkInvalid: String
    let crossSiteLogin: String
    let unknownToken: String
    let tooManyLogins: @Sendable (Int64) -> String

    // Summary cards and warnings
    let devices: String
    let series: String
    let staleDevices: String
    let openWarnings: String
    let openCount: @Sendable (Int) -> String
    let noOpenWarnings: String
    let lateBadge: String
    let rule: String
    let device: String
    let value: String
    let threshold: String
    let raised: String
    let acknowledgedBy: String
    let statusOpen: String
    let statusAcknowledged: String
    let notePlaceholder: String
    let acknowledge: String
    let handledPlaceholder: String
    let resolve: String
    let operatorNeeded: String

    // Derived indices (fire danger at every level)
    let indices: String
    let indicesNote: String
    /// Table headers.
    let deviceColumn: String
    let valueColumn: String
    let index: String
    let level: String
    let warning: String
    let since: String
    let noSignal: String

    // Sites and devices
    let sitesAndDevices: String
    let latestValues: String
    let staleAfter: @Sendable (Int) -> String
    let deviceCount: @Sendable (Int) -> String
    let freshness: String
    let latestValuesHint: String
    let stale: String
    let fresh: String
    let offline: String
    let seen: @Sendable (String) -> String
    let neverSeen: String
    let every: @Sendable (String) -> String
    let noReadings: String
    let noSite: String
    let noDevices: String

    // Rejects and footer
    let recentRejects: String
    let rejectsNote: String
    let received: String
    let topic: String
    let reason: String
    let payload: String
    let noRejects: String
    let generated: String
    let localTimeNote: String

    // Chart page
    let points: @Sendable (Int) -> String
    let sourceRaw: @Sendable (Int) -> String
    let sourceFiveMinutes: String
    let sourceHourly: String
    let range: @Sendable (Int) -> String
    let minimum: String
    let maximum: String
    let last: String
    let at: String
    let backToOverview: String
    let noData: String

    // Messages
    let badRequest: String
    let deviceAndMetricRequired: String
    let notFound: String
    let noSuchDevice: @Sendable (String) -> String
    let notLoggedIn: String
    let logInFirst: String
    let forbidden: String
    let csrfRefused: String
    let operatorRoleNeeded: String
    let badAlertID: String
    let notDone: String
    let backToDashboard: String

    // Words about values
    /// `42 秒`, `5 分钟`, `3 小时 10 分钟`, `2 天 4 小时` (an age or an interval).
    let duration: @Sendable (_ days: Int64, _ hours: Int64, _ minutes: Int64, _ seconds: Int64) -> String
    let domain: @Sendable (Domain) -> String
    let levelName: @Sendable (AlertLevel) -> String
    /// The level with its grade and gravity, as the summary cards show it.
    let levelTitle: @Sendable (AlertLevel) -> String
    /// A metric as the value boxes name it.
    let metric: @Sendable (_ name: String, _ chinese: String?) -> String
    let indexName: @Sendable (DerivedIndex) -> String
    let indexGrade: @Sendable (DerivedIndex, IndexGrade) -> String

    // The map (一图)
    let map: String
    let mapTitle: String
    let mapNoWarning: String
    let mapLegend: String
    let mapStale: String
    let mapUnplaced: String
    let mapEmpty: String
    let mapHelp: String
    /// A named object outside the session's scope, or missing (one answer for both).
    let scopeRefused: String

    /// The catalogue of `language`.
    static func of(_ language: Language) -> StaffStrings {
        switch language {
        case .zh: zh
        case .en: en
        }
    }

    /// The plain strings by key (what templates can name), per language.
    static let tables: [Language: [String: String]] = Dictionary(
        uniqueKeysWithValues: Language.allCases.map { language in
            let strings = of(language)
            let pairs = Mirror(reflecting: strings).children.compactMap { child -> (String, String)? in
                guard let label = child.label, let text = child.value as? String else { return nil }
                return (label, text)
            }
            return (language, Dictionary(uniqueKeysWithValues: pairs))
        })

    static let zh = StaffStrings(
        language: .zh, htmlLang: "zh-CN",
        brand: "神农", dashboardName: "工作台", overview: "总览", controls: "设备控制", controlsAutomatic: "自动控制", controlsNone: "没有声明命令的设备。", controlsOffline: "离线", controlsPresence: "在线状态", controlsCommand: "命令", controlsState: "状态", controlsBy: "来源", controlsIssued: "下发时间", controlsDetail: "说明", controlsLast: "最近", controlsNeverSent: "未发送过", controlsNeedsOperator: "发送命令需要 operator 权限。", logOut: "退出",
        loginTitle: "神农工作台登录", dashboardTitle: "神农工作台", tokenLabel: "访问令牌", logIn: "登录",
        loginHelpPaste: "粘贴工作人员令牌（", loginHelpOr: "），或打开由",
        loginHelpCookie: "生成的一次性登录链接。浏览器只保存会话 Cookie，从不保存令牌。",
        loginLinkInvalid: "登录链接无效、已使用或已过期。", crossSiteLogin: "拒绝跨站登录。", unknownToken: "令牌无效或已吊销。",
        tooManyLogins: { "登录失败次数过多，请 \($0) 秒后再试。" },
        devices: "设备", series: "监测序列", staleDevices: "数据滞后设备",
        openWarnings: "未关闭预警", openCount: { "共 \($0) 条未确认或已确认" }, noOpenWarnings: "当前无预警。",
        lateBadge: "补报", rule: "规则", device: "设备", value: "数值", threshold: "阈值", raised: "发布于",
        acknowledgedBy: "确认人", statusOpen: "未确认", statusAcknowledged: "已确认", notePlaceholder: "备注",
        acknowledge: "确认", handledPlaceholder: "处置情况", resolve: "解除", operatorNeeded: "确认和解除需要 operator 权限。",
        indices: "火险等级", indicesNote: "各气象站的森林火险指数与等级；一、二级只预报等级，不发布预警信号",
        deviceColumn: "设备", valueColumn: "数值", index: "指数", level: "等级", warning: "预警信号", since: "起始", noSignal: "无",
        sitesAndDevices: "站点与设备", latestValues: "最新读数", staleAfter: { "超过预期上报间隔的 \($0) 倍视为滞后" },
        deviceCount: { "\($0) 台设备" }, freshness: "时效", latestValuesHint: "最新读数（点击查看曲线）",
        stale: "滞后", fresh: "正常", offline: "离线", seen: { "\($0)前上报" }, neverSeen: "从未上报",
        every: { "每 \($0) 上报" }, noReadings: "暂无数据", noSite: "未分配站点", noDevices: "暂无设备。",
        recentRejects: "最近拒收消息", rejectsNote: "无法入库的消息；修正设备配置后可重放",
        received: "接收时间", topic: "主题", reason: "原因", payload: "内容", noRejects: "无拒收消息。",
        generated: "生成于", localTimeNote: "均为本地时间",
        points: { "\($0) 个点" }, sourceRaw: { "\($0) 条原始数据" }, sourceFiveMinutes: "5 分钟均值", sourceHourly: "小时均值",
        range: { $0 % 24 == 0 && $0 > 24 ? "\($0 / 24) 天" : "\($0) 小时" },
        minimum: "最小", maximum: "最大", last: "最新", at: "时间", backToOverview: "返回总览", noData: "无数据",
        badRequest: "请求无效", deviceAndMetricRequired: "请指定设备和指标。", notFound: "未找到",
        noSuchDevice: { "未找到设备 \($0)。" }, notLoggedIn: "未登录", logInFirst: "请先登录。", forbidden: "禁止",
        csrfRefused: "缺少或错误的 CSRF 令牌，请刷新工作台后重试。", operatorRoleNeeded: "确认和解除预警需要 operator 权限。",
        badAlertID: "预警编号无效。", notDone: "未完成", backToDashboard: "返回工作台",
        duration: { d, h, m, s in
            [d > 0 ? "\(d) 天" : nil, h > 0 ? "\(h) 小时" : nil, m > 0 ? "\(m) 分钟" : nil, s > 0 || (d + h + m) == 0 ? "\(s) 秒" : nil]
                .compactMap { $0 }.joined(separator: " ")
        },
        domain: { $0.chineseName },
        levelName: { $0.chineseName },
        levelTitle: { "\($0.chineseName)（\($0.roman)级 \($0.gravity)）" },
        metric: { name, chinese in chinese.map { "\($0) · \(name)" } ?? name },
        indexName: { $0.chineseName },
        indexGrade: { _, grade in grade.title },
        map: "地图", mapTitle: "设备分布图（一张图）", mapNoWarning: "无预警", mapLegend: "图例", mapStale: "数据过期（虚线边）",
        mapUnplaced: "未登记坐标的设备", mapEmpty: "范围内没有登记坐标的设备。",
        mapHelp: "每个圆点是一台设备，颜色为其未关闭预警的最高级别；点击查看设备。GIS 平台可用令牌读取 /api/v1/map.geojson。",
        scopeRefused: "不在此令牌的权限范围内，或不存在。")

    static let en = StaffStrings(
        language: .en, htmlLang: "en",
        brand: "Shennong", dashboardName: "Staff dashboard", overview: "Overview", controls: "Device controls", controlsAutomatic: "automatic control", controlsNone: "No device declares commands.", controlsOffline: "offline", controlsPresence: "presence", controlsCommand: "command", controlsState: "state", controlsBy: "by", controlsIssued: "issued", controlsDetail: "detail", controlsLast: "last", controlsNeverSent: "never sent", controlsNeedsOperator: "Sending commands needs the operator role.", logOut: "Log out",
        loginTitle: "Shennong staff login", dashboardTitle: "Shennong dashboard", tokenLabel: "API token", logIn: "Log in",
        loginHelpPaste: "Paste a staff token (", loginHelpOr: "), or open a one-time link from",
        loginHelpCookie: ". The browser keeps a session cookie, never the token.",
        loginLinkInvalid: "This login link is invalid, used or expired.", crossSiteLogin: "Cross-site login refused.",
        unknownToken: "Unknown or revoked token.",
        tooManyLogins: { "Too many failed logins: try again in \($0) s." },
        devices: "devices", series: "series", staleDevices: "stale devices",
        openWarnings: "Open warnings", openCount: { "\($0) open or acknowledged" }, noOpenWarnings: "No open warnings.",
        lateBadge: "late", rule: "rule", device: "device", value: "value", threshold: "threshold", raised: "raised",
        acknowledgedBy: "by", statusOpen: "open", statusAcknowledged: "acknowledged", notePlaceholder: "note",
        acknowledge: "Acknowledge", handledPlaceholder: "how it was handled", resolve: "Resolve",
        operatorNeeded: "Acknowledge and resolve need the operator role.",
        indices: "Fire danger", indicesNote: "forest-fire danger indices of the weather stations; levels 1–2 are forecast, never signalled",
        deviceColumn: "Device", valueColumn: "Value", index: "Index", level: "Level", warning: "Warning signal", since: "Since", noSignal: "none",
        sitesAndDevices: "Sites and devices", latestValues: "latest values", staleAfter: { "stale after \($0) × the expected interval" },
        deviceCount: { "\($0) devices" }, freshness: "Freshness", latestValuesHint: "Latest values (click for the chart)",
        stale: "stale", fresh: "fresh", offline: "offline", seen: { "seen \($0) ago" }, neverSeen: "never seen",
        every: { "every \($0)" }, noReadings: "no readings yet", noSite: "No site", noDevices: "No devices registered.",
        recentRejects: "Recent rejects", rejectsNote: "messages that could not be stored; fix the profile and replay",
        received: "Received", topic: "Topic", reason: "Reason", payload: "Payload", noRejects: "No rejects.",
        generated: "Generated", localTimeNote: "times in local time",
        points: { "\($0) points" }, sourceRaw: { "\($0) readings" }, sourceFiveMinutes: "5-minute means", sourceHourly: "hourly means",
        range: { $0 % 24 == 0 && $0 > 24 ? "\($0 / 24) d" : "\($0) h" },
        minimum: "min", maximum: "max", last: "last", at: "at", backToOverview: "Back to the overview", noData: "no data",
        badRequest: "Bad request", deviceAndMetricRequired: "device and metric are required.", notFound: "Not found",
        noSuchDevice: { "No device \($0)." }, notLoggedIn: "Not logged in", logInFirst: "Log in first.", forbidden: "Forbidden",
        csrfRefused: "Missing or wrong CSRF token. Reload the dashboard and try again.",
        operatorRoleNeeded: "Acknowledging and resolving warnings needs the operator role.",
        badAlertID: "Alert id must be a number.", notDone: "Not done", backToDashboard: "Back to the dashboard",
        duration: { d, h, m, s in
            [d > 0 ? "\(d) d" : nil, h > 0 ? "\(h) h" : nil, m > 0 ? "\(m) min" : nil, s > 0 || (d + h + m) == 0 ? "\(s) s" : nil]
                .compactMap { $0 }.joined(separator: " ")
        },
        domain: { $0.rawValue },
        levelName: { $0.name },
        levelTitle: { level in
            let gravity: String = switch level {
            case .blue: "general"
            case .yellow: "serious"
            case .orange: "severe"
            case .red: "particularly severe"
            }
            return "\(level.name) (\(level.roman), \(gravity))"
        },
        metric: { name, _ in name },
        indexName: { index in
            switch index {
            case .fireDanger: "Forest-fire danger index (LY/T 1172)"
            case .nesterov: "Nesterov index"
            }
        },
        indexGrade: { index, grade in
            let names: [String] = switch index {
            case .fireDanger: ["low", "moderately low", "moderately high", "high", "extreme"]
            case .nesterov: ["no danger", "low", "medium", "high", "extreme"]
            }
            return "level \(grade.level), \(names[max(0, min(4, grade.level - 1))])"
        },
        map: "Map", mapTitle: "Devices on the map", mapNoWarning: "no warning", mapLegend: "Legend",
        mapStale: "stale data (dashed rim)", mapUnplaced: "Devices without coordinates",
        mapEmpty: "No device of your scope has coordinates.",
        mapHelp: "Each dot is a device, coloured by the highest level of its open warnings; click one to see it. GIS platforms read /api/v1/map.geojson with a token.",
        scopeRefused: "Outside this token's scope, or no such object.")
}

extension StaffStrings: MustacheParent {
    /// A plain string by key (`{{t.overview}}`).
    func child(named name: String) -> Any? { Self.tables[language]?[name] }
}
