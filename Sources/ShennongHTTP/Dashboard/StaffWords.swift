import ShennongAlerts
import ShennongCore
import ShennongRules

/// One word (or phrase) of the staff pages in both languages, Chinese first: a word cannot be
/// added without its English, nor the English without its Chinese.
struct Bilingual<Value: Sendable>: Sendable {
    let zh: Value
    let en: Value

    init(_ zh: Value, _ en: Value) {
        self.zh = zh
        self.en = en
    }

    /// The word in `language`.
    subscript(language: Language) -> Value {
        switch language {
        case .zh: zh
        case .en: en
        }
    }
}

/// A word with a value in it (`共 3 条未确认或已确认` / `3 open or acknowledged`).
typealias Phrase<Input> = Bilingual<@Sendable (Input) -> String>

/// The catalogue of the staff pages' plain words, one line per word: its Chinese and its
/// English. The templates name them (`{{t.overview}}`). Data (alert titles and messages the
/// rules wrote, device names, reject reasons) is shown as stored.
struct StaffWords: Sendable {
    /// The one catalogue.
    static let catalogue = StaffWords()

    /// `<html lang>`.
    let htmlLang = Bilingual("zh-CN", "en")

    // Header and login
    let brand = Bilingual("神农", "Shennong")
    let dashboardName = Bilingual("工作台", "Staff dashboard")
    let overview = Bilingual("总览", "Overview")
    let controls = Bilingual("设备控制", "Device controls")
    let controlsAutomatic = Bilingual("自动控制", "automatic control")
    let controlsNone = Bilingual("没有声明命令的设备。", "No device declares commands.")
    let controlsOffline = Bilingual("离线", "offline")
    let controlsPresence = Bilingual("在线状态", "presence")
    let controlsCommand = Bilingual("命令", "command")
    let controlsState = Bilingual("状态", "state")
    let controlsBy = Bilingual("来源", "by")
    let controlsIssued = Bilingual("下发时间", "issued")
    let controlsDetail = Bilingual("说明", "detail")
    let controlsLast = Bilingual("最近", "last")
    let controlsNeverSent = Bilingual("未发送过", "never sent")
    let controlsNeedsOperator = Bilingual("发送命令需要 operator 权限。", "Sending commands needs the operator role.")
    let logOut = Bilingual("退出", "Log out")
    let loginTitle = Bilingual("神农工作台登录", "Shennong staff login")
    let dashboardTitle = Bilingual("神农工作台", "Shennong dashboard")
    let tokenLabel = Bilingual("访问令牌", "API token")
    let logIn = Bilingual("登录", "Log in")
    let loginHelpPaste = Bilingual("粘贴工作人员令牌（", "Paste a staff token (")
    let loginHelpOr = Bilingual("），或打开由", "), or open a one-time link from")
    let loginHelpCookie = Bilingual("生成的一次性登录链接。浏览器只保存会话 Cookie，从不保存令牌。", ". The browser keeps a session cookie, never the token.")
    let loginLinkInvalid = Bilingual("登录链接无效、已使用或已过期。", "This login link is invalid, used or expired.")
    let crossSiteLogin = Bilingual("拒绝跨站登录。", "Cross-site login refused.")
    let unknownToken = Bilingual("令牌无效或已吊销。", "Unknown or revoked token.")

    // Summary cards and warnings
    let devices = Bilingual("设备", "devices")
    let series = Bilingual("监测序列", "series")
    let staleDevices = Bilingual("数据滞后设备", "stale devices")
    let openWarnings = Bilingual("未关闭预警", "Open warnings")
    let noOpenWarnings = Bilingual("当前无预警。", "No open warnings.")
    let lateBadge = Bilingual("补报", "late")
    let rule = Bilingual("规则", "rule")
    let device = Bilingual("设备", "device")
    let value = Bilingual("数值", "value")
    let threshold = Bilingual("阈值", "threshold")
    let raised = Bilingual("发布于", "raised")
    let acknowledgedBy = Bilingual("确认人", "by")
    let statusOpen = Bilingual("未确认", "open")
    let statusAcknowledged = Bilingual("已确认", "acknowledged")
    let notePlaceholder = Bilingual("备注", "note")
    let acknowledge = Bilingual("确认", "Acknowledge")
    let handledPlaceholder = Bilingual("处置情况", "how it was handled")
    let resolve = Bilingual("解除", "Resolve")
    let operatorNeeded = Bilingual("确认和解除需要 operator 权限。", "Acknowledge and resolve need the operator role.")

    // Derived indices (fire danger at every level)
    let indices = Bilingual("火险等级", "Fire danger")
    let indicesNote = Bilingual("各气象站的森林火险指数与等级；一、二级只预报等级，不发布预警信号", "forest-fire danger indices of the weather stations; levels 1–2 are forecast, never signalled")
    /// Table headers.
    let deviceColumn = Bilingual("设备", "Device")
    let valueColumn = Bilingual("数值", "Value")
    let index = Bilingual("指数", "Index")
    let level = Bilingual("等级", "Level")
    let warning = Bilingual("预警信号", "Warning signal")
    let since = Bilingual("起始", "Since")
    let noSignal = Bilingual("无", "none")

    // Sites and devices
    let sitesAndDevices = Bilingual("站点与设备", "Sites and devices")
    let latestValues = Bilingual("最新读数", "latest values")
    let freshness = Bilingual("时效", "Freshness")
    let latestValuesHint = Bilingual("最新读数（点击查看曲线）", "Latest values (click for the chart)")
    let stale = Bilingual("滞后", "stale")
    let fresh = Bilingual("正常", "fresh")
    let offline = Bilingual("离线", "offline")
    let neverSeen = Bilingual("从未上报", "never seen")
    let noReadings = Bilingual("暂无数据", "no readings yet")
    let noSite = Bilingual("未分配站点", "No site")
    let noDevices = Bilingual("暂无设备。", "No devices registered.")

    // Rejects and footer
    let recentRejects = Bilingual("最近拒收消息", "Recent rejects")
    let rejectsNote = Bilingual("无法入库的消息；修正设备配置后可重放", "messages that could not be stored; fix the profile and replay")
    let received = Bilingual("接收时间", "Received")
    let topic = Bilingual("主题", "Topic")
    let reason = Bilingual("原因", "Reason")
    let payload = Bilingual("内容", "Payload")
    let noRejects = Bilingual("无拒收消息。", "No rejects.")
    let generated = Bilingual("生成于", "Generated")
    let localTimeNote = Bilingual("均为本地时间", "times in local time")

    // Chart page
    let sourceFiveMinutes = Bilingual("5 分钟均值", "5-minute means")
    let sourceHourly = Bilingual("小时均值", "hourly means")
    let minimum = Bilingual("最小", "min")
    let maximum = Bilingual("最大", "max")
    let last = Bilingual("最新", "last")
    let at = Bilingual("时间", "at")
    let backToOverview = Bilingual("返回总览", "Back to the overview")
    let noData = Bilingual("无数据", "no data")

    // Messages
    let badRequest = Bilingual("请求无效", "Bad request")
    let deviceAndMetricRequired = Bilingual("请指定设备和指标。", "device and metric are required.")
    let notFound = Bilingual("未找到", "Not found")
    let notLoggedIn = Bilingual("未登录", "Not logged in")
    let logInFirst = Bilingual("请先登录。", "Log in first.")
    let forbidden = Bilingual("禁止", "Forbidden")
    let csrfRefused = Bilingual("缺少或错误的 CSRF 令牌，请刷新工作台后重试。", "Missing or wrong CSRF token. Reload the dashboard and try again.")
    let operatorRoleNeeded = Bilingual("确认和解除预警需要 operator 权限。", "Acknowledging and resolving warnings needs the operator role.")
    let badAlertID = Bilingual("预警编号无效。", "Alert id must be a number.")
    let notDone = Bilingual("未完成", "Not done")
    let backToDashboard = Bilingual("返回工作台", "Back to the dashboard")

    // The map (一图)
    let map = Bilingual("地图", "Map")
    let mapTitle = Bilingual("设备分布图（一张图）", "Devices on the map")
    let mapNoWarning = Bilingual("无预警", "no warning")
    let mapLegend = Bilingual("图例", "Legend")
    let mapStale = Bilingual("数据过期（虚线边）", "stale data (dashed rim)")
    let mapUnplaced = Bilingual("未登记坐标的设备", "Devices without coordinates")
    let mapEmpty = Bilingual("范围内没有登记坐标的设备。", "No device of your scope has coordinates.")
    let mapHelp = Bilingual("每个圆点是一台设备，颜色为其未关闭预警的最高级别；点击查看设备。GIS 平台可用令牌读取 /api/v1/map.geojson。", "Each dot is a device, coloured by the highest level of its open warnings; click one to see it. GIS platforms read /api/v1/map.geojson with a token.")
    /// A named object outside the session's scope, or missing (one answer for both).
    let scopeRefused = Bilingual("不在此令牌的权限范围内，或不存在。", "Outside this token's scope, or no such object.")
}

/// The words with a value in them, for the pages' code (templates name only ``StaffWords``):
/// one function per language. Words about an enum switch over it, so a new case needs its
/// word in both languages.
struct StaffPhrases: Sendable {
    /// The one catalogue.
    static let catalogue = StaffPhrases()

    // Header and login
    let tooManyLogins = Phrase<Int64>({ "登录失败次数过多，请 \($0) 秒后再试。" }, { "Too many failed logins: try again in \($0) s." })

    // Summary cards and warnings
    let openCount = Phrase<Int>({ "共 \($0) 条未确认或已确认" }, { "\($0) open or acknowledged" })

    // Sites and devices
    let staleAfter = Phrase<Int>({ "超过预期上报间隔的 \($0) 倍视为滞后" }, { "stale after \($0) × the expected interval" })
    let deviceCount = Phrase<Int>({ "\($0) 台设备" }, { "\($0) devices" })
    let seen = Phrase<String>({ "\($0)前上报" }, { "seen \($0) ago" })
    let every = Phrase<String>({ "每 \($0) 上报" }, { "every \($0)" })

    // Chart page
    let points = Phrase<Int>({ "\($0) 个点" }, { "\($0) points" })
    let sourceRaw = Phrase<Int>({ "\($0) 条原始数据" }, { "\($0) readings" })
    let range = Phrase<Int>(
        { $0 % 24 == 0 && $0 > 24 ? "\($0 / 24) 天" : "\($0) 小时" },
        { $0 % 24 == 0 && $0 > 24 ? "\($0 / 24) d" : "\($0) h" })

    // Messages
    let noSuchDevice = Phrase<String>({ "未找到设备 \($0)。" }, { "No device \($0)." })

    // Words about values
    /// `42 秒`, `5 分钟`, `3 小时 10 分钟`, `2 天 4 小时` (an age or an interval).
    let duration = Bilingual<@Sendable (_ days: Int64, _ hours: Int64, _ minutes: Int64, _ seconds: Int64) -> String>(
        { d, h, m, s in
            [d > 0 ? "\(d) 天" : nil, h > 0 ? "\(h) 小时" : nil, m > 0 ? "\(m) 分钟" : nil, s > 0 || (d + h + m) == 0 ? "\(s) 秒" : nil]
                .compactMap { $0 }.joined(separator: " ")
        },
        { d, h, m, s in
            [d > 0 ? "\(d) d" : nil, h > 0 ? "\(h) h" : nil, m > 0 ? "\(m) min" : nil, s > 0 || (d + h + m) == 0 ? "\(s) s" : nil]
                .compactMap { $0 }.joined(separator: " ")
        })
    let domain = Phrase<Domain>({ $0.chineseName }, { $0.rawValue })
    let levelName = Phrase<AlertLevel>({ $0.chineseName }, { $0.name })
    /// The level with its grade and gravity, as the summary cards show it.
    let levelTitle = Phrase<AlertLevel>(
        { "\($0.chineseName)（\($0.roman)级 \($0.gravity)）" },
        { level in
            let gravity: String = switch level {
            case .blue: "general"
            case .yellow: "serious"
            case .orange: "severe"
            case .red: "particularly severe"
            }
            return "\(level.name) (\(level.roman), \(gravity))"
        })
    /// A metric as the value boxes name it.
    let metric = Bilingual<@Sendable (_ name: String, _ chinese: String?) -> String>(
        { name, chinese in chinese.map { "\($0) · \(name)" } ?? name },
        { name, _ in name })
    let indexName = Phrase<DerivedIndex>(
        { $0.chineseName },
        { index in
            switch index {
            case .fireDanger: "Forest-fire danger index (LY/T 1172)"
            case .nesterov: "Nesterov index"
            }
        })
    let indexGrade = Bilingual<@Sendable (DerivedIndex, IndexGrade) -> String>(
        { _, grade in grade.title },
        { index, grade in
            let names: [String] = switch index {
            case .fireDanger: ["low", "moderately low", "moderately high", "high", "extreme"]
            case .nesterov: ["no danger", "low", "medium", "high", "extreme"]
            }
            return "level \(grade.level), \(names[max(0, min(4, grade.level - 1))])"
        })
}
