import ShennongCore

/// Every message and table header of the CLI, one value per language: ``zh`` (the default)
/// and ``en`` (`--lang en` or `SHENNONG_LANG=en`).
///
/// Typed: a key must be given in both languages or the catalogue does not compile; words with
/// a value in them are functions, and table headers switch over ``Column``, so a new column
/// needs its Chinese header. Only what people read changes with the language: CSV headers and
/// JSON keys are the API's names in every language (scripts read them), and values are shown
/// as the server sent them.
public struct CLIStrings: Sendable {
    public let language: Language
    /// The header of a table column.
    public let columnHeader: @Sendable (Column) -> String
    /// The row of an empty table.
    public let none: String

    // StaffClient
    public let serverNotHTTP: @Sendable (String) -> String
    public let cannotReach: @Sendable (_ server: String, _ error: String) -> String
    public let unauthorized: @Sendable (String) -> String
    public let httpError: @Sendable (_ status: Int, _ message: String) -> String
    public let unexpectedAnswer: @Sendable (_ request: String, _ error: String, _ body: String) -> String

    // Commands
    public let badTime: @Sendable (_ option: String, _ text: String) -> String
    public let badInput: @Sendable (_ text: String, _ kinds: String) -> String
    public let badWithdrawalDays: @Sendable (String) -> String
    public let cannotWrite: @Sendable (_ path: String, _ error: String) -> String
    public let noAlertsToExport: String
    public let manyAlertsNeedDirectory: @Sendable (Int) -> String
    public let capRequired: String
    public let verified: @Sendable (_ chains: Int, _ records: Int, _ codes: Int, _ seals: Int) -> String
    public let verifyBroken: String
    public let qrFiles: @Sendable (_ count: Int, _ directory: String) -> String
    public let labelPages: @Sendable (_ pages: Int, _ first: String, _ last: String) -> String

    // serve --check
    public let checkError: @Sendable (String) -> String
    public let checkOK: @Sendable (String) -> String
    public let errorsFound: @Sendable (Int) -> String

    /// The language of this process's messages: set once by the executable (`--lang`,
    /// `SHENNONG_LANG`), Chinese by default; tests set it per task.
    @TaskLocal public static var language: Language = .zh

    /// The catalogue of ``language``.
    public static var current: CLIStrings { of(language) }

    /// The catalogue of `language`.
    public static func of(_ language: Language) -> CLIStrings {
        switch language {
        case .zh: zh
        case .en: en
        }
    }

    /// The header of the column named `key`: its words for known columns, else the key in capitals.
    public func header(for key: String) -> String {
        Column(rawValue: key).map(columnHeader) ?? key.uppercased()
    }

    /// The language chosen on a command line: the value of `--lang X` or `--lang=X`, else
    /// `SHENNONG_LANG`, else Chinese; with `arguments` less the `--lang` option (it is the
    /// CLI's, accepted before or after any verb). An unknown language is an error.
    public static func choose(arguments: [String], environment: [String: String]) throws -> (Language, [String]) {
        var rest: [String] = []
        var chosen: String?
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" {
                rest += arguments[i...]
                break
            }
            if argument == "--lang" {
                guard i + 1 < arguments.count else { throw ClientError(zh.badLanguage("") + " / " + en.badLanguage("")) }
                chosen = arguments[i + 1]
                i += 2
                continue
            }
            if argument.hasPrefix("--lang=") {
                chosen = String(argument.dropFirst("--lang=".count))
                i += 1
                continue
            }
            rest.append(argument)
            i += 1
        }
        let text = chosen ?? environment["SHENNONG_LANG"]
        guard let text, !text.isEmpty else { return (.zh, rest) }
        guard let language = Language(tag: text) else {
            throw ClientError(zh.badLanguage(text) + " / " + en.badLanguage(text))
        }
        return (language, rest)
    }

    public let badLanguage: @Sendable (String) -> String

    // tokens revoke
    public let tokenRevoked: @Sendable (Int64) -> String
    public let tokenAlreadyRevoked: @Sendable (Int64) -> String
    public let noSuchToken: @Sendable (Int64) -> String

    public static let zh = CLIStrings(
        language: .zh, columnHeader: { $0.chinese }, none: "（无）",
        serverNotHTTP: { "--server 必须是 http(s) 地址，而不是 \($0)" },
        cannotReach: { "无法连接 \($0)：\($1)（`shennong serve` 在运行吗？）" },
        unauthorized: { "HTTP 401：\($0)。请传入 --token 或设置 SHENNONG_TOKEN（用 `shennong tokens create` 创建令牌）。" },
        httpError: { "HTTP \($0)：\($1)" },
        unexpectedAnswer: { "服务器对 \($0) 的应答与 API 约定不符（\($1)）：\($2)" },
        badTime: { "\($0)：无法把 \($1) 识别为日期（2025-03-01、RFC 3339 或 epoch）" },
        badInput: { "--input \($0)：应写作 kind:name[:withdrawal_days[:amount]]，kind 为 \($1) 之一" },
        badWithdrawalDays: { "--input \($0)：安全间隔期天数必须是非负整数" },
        cannotWrite: { "无法写入 \($0)：\($1)" },
        noAlertsToExport: "没有可导出的预警（请给出预警编号，或用 --open）",
        manyAlertsNeedDirectory: { "共 \($0) 条预警：请用 --out DIR（每条一个 CAP 文件），或只给一个编号" },
        capRequired: "请给出 --cap（导出格式为 CAP 1.2 XML）",
        verified: { "校验通过：\($0) 条链、\($1) 条记录、\($2) 个码、\($3) 个封存" },
        verifyBroken: "校验失败：以下为每条链第一个断开的环节",
        qrFiles: { "\($0) 个，在 \($1)" },
        labelPages: { "A4 共 \($0) 页：\($1) … \($2)" },
        checkError: { "错误：\($0)" },
        checkOK: { "通过：\($0)" },
        errorsFound: { "发现 \($0) 个错误" },
        badLanguage: { "--lang / SHENNONG_LANG 只能是 zh-CN 或 en\($0.isEmpty ? "" : "，不是 \($0)")" },
        tokenRevoked: { "令牌 \($0) 已吊销：立即拒绝，用它打开的工作台会话随即结束" },
        tokenAlreadyRevoked: { "令牌 \($0) 早已吊销" }, noSuchToken: { "没有编号为 \($0) 的令牌" })

    public static let en = CLIStrings(
        language: .en, columnHeader: { $0.rawValue.uppercased() }, none: "(none)",
        serverNotHTTP: { "--server must be an http(s) URL, not \($0)" },
        cannotReach: { "cannot reach \($0): \($1) (is `shennong serve` running?)" },
        unauthorized: { "HTTP 401: \($0). Pass --token or set SHENNONG_TOKEN (create one with `shennong tokens create`)." },
        httpError: { "HTTP \($0): \($1)" },
        unexpectedAnswer: { "the server's answer to \($0) is not what the API says (\($1)): \($2)" },
        badTime: { "\($0): cannot read \($1) as a date (2025-03-01, RFC 3339 or epoch)" },
        badInput: { "--input \($0): write kind:name[:withdrawal_days[:amount]] with kind one of \($1)" },
        badWithdrawalDays: { "--input \($0): withdrawal days must be a whole number" },
        cannotWrite: { "cannot write \($0): \($1)" },
        noAlertsToExport: "no alerts to export (give alert ids, or --open)",
        manyAlertsNeedDirectory: { "\($0) alerts: give --out DIR (one CAP file per alert) or one alert id" },
        capRequired: "give --cap (CAP 1.2 XML is the export format)",
        verified: { "ok: \($0) chains, \($1) records, \($2) codes, \($3) seals verified" },
        verifyBroken: "BROKEN: first broken link of each chain",
        qrFiles: { "\($0) in \($1)" },
        labelPages: { "\($0) A4 pages: \($1) … \($2)" },
        checkError: { "error: \($0)" },
        checkOK: { "ok: \($0)" },
        errorsFound: { "\($0) error\($0 == 1 ? "" : "s") found" },
        badLanguage: { "--lang / SHENNONG_LANG must be zh-CN or en\($0.isEmpty ? "" : ", not \($0)")" },
        tokenRevoked: { "token \($0) revoked: refused at once, and the dashboard sessions opened with it end" },
        tokenAlreadyRevoked: { "token \($0) was already revoked" }, noSuchToken: { "no token \($0)" })
}

/// The columns the CLI's tables show (the API's keys), each with its Chinese header.
public enum Column: String, Sendable, CaseIterable {
    case id, level, status, rule, device, value, threshold, title, kind, at, by, note, field, levels, name, file, line
    case metric, profile, domain, site, presence, metrics, latitude, longitude, owner, imported, created, updated, unit
    case time, count, min, max, mean, first, last, ts, code, reason, topic, examined, stored, from, to, message
    case batch, subject, chain, seq, hash, product, quantity, origin, contact, basis, item, head, signature, state
    case raw, compacted, bytes, ratio, action, tier, bucket, until, rows, tables, late, instruction, source, copy
    case raisedAt = "raised_at", fromLevel = "from_level", toLevel = "to_level", acknowledgedBy = "acknowledged_by"
    case resolvedBy = "resolved_by", closedBy = "closed_by", lateSkipped = "late_skipped", lastSeen = "last_seen"
    case areaCode = "area_code", createdAt = "created_at", receivedAt = "received_at", stillRejected = "still_rejected"
    case replayedRejects = "replayed_rejects", dryRun = "dry_run", producerName = "producer_name", issueDate = "issue_date"
    case headSeq = "head_seq", sealedAt = "sealed_at", bytesPerReading = "bytes_per_reading", rollupBytes = "rollup_bytes"
    case peakLevel = "peak_level", ruleName = "rule_name", updatedAt = "updated_at", acknowledgedAt = "acknowledged_at"
    case resolvedAt = "resolved_at", closedAt = "closed_at", contactTier = "contact_tier"
    // Device commands.
    case alert, args, detail, trigger
    case confirmedAt = "confirmed_at", expiresAt = "expires_at", finishedAt = "finished_at", issuedAt = "issued_at"
    case issuedBy = "issued_by", repliedAt = "replied_at", sentAt = "sent_at", stateZh = "state_zh"
    // Bucket seals (db seal).
    case series, readings, root
    // Staff tokens.
    case role, scope, revoked
    case revokedAt = "revoked_at"

    /// The Chinese header.
    var chinese: String {
        switch self {
        case .id: "编号"
        case .level: "级别"
        case .status: "状态"
        case .rule: "规则"
        case .device: "设备"
        case .value: "数值"
        case .threshold: "阈值"
        case .title: "标题"
        case .kind: "类型"
        case .at: "时间"
        case .by: "操作人"
        case .note: "备注"
        case .field: "字段"
        case .levels: "各级条件"
        case .name: "名称"
        case .file: "文件"
        case .line: "行"
        case .metric: "指标"
        case .profile: "设备配置"
        case .domain: "领域"
        case .site: "站点"
        case .presence: "在线状态"
        case .metrics: "指标"
        case .latitude: "纬度"
        case .longitude: "经度"
        case .owner: "所属"
        case .imported: "导入"
        case .created: "新增"
        case .updated: "更新"
        case .unit: "单位"
        case .time: "时间"
        case .count: "条数"
        case .min: "最小"
        case .max: "最大"
        case .mean: "均值"
        case .first: "首值"
        case .last: "末值"
        case .ts: "时间戳(ms)"
        case .code: "代码"
        case .reason: "原因"
        case .topic: "主题"
        case .examined: "检查"
        case .stored: "已入库"
        case .from: "原级别"
        case .to: "新级别"
        case .message: "说明"
        case .batch: "批次"
        case .subject: "对象"
        case .chain: "链"
        case .seq: "序号"
        case .hash: "哈希"
        case .product: "品名"
        case .quantity: "数量"
        case .origin: "产地"
        case .contact: "联系人"
        case .basis: "依据"
        case .item: "项目"
        case .head: "链头"
        case .signature: "签名"
        case .state: "状态"
        case .raw: "原始"
        case .compacted: "已压缩"
        case .bytes: "字节"
        case .ratio: "压缩比"
        case .action: "操作"
        case .tier: "层级"
        case .bucket: "分桶"
        case .series: "序列"
        case .readings: "读数"
        case .root: "默克尔根"
        case .until: "截止"
        case .rows: "行数"
        case .tables: "表"
        case .late: "补报"
        case .instruction: "防御指引"
        case .source: "源库"
        case .copy: "副本"
        case .raisedAt: "发布时间"
        case .fromLevel: "原级别"
        case .toLevel: "新级别"
        case .acknowledgedBy: "确认人"
        case .resolvedBy: "解除人"
        case .closedBy: "关闭人"
        case .lateSkipped: "跳过的迟到数据"
        case .lastSeen: "最后上报"
        case .areaCode: "区划代码"
        case .createdAt: "创建时间"
        case .receivedAt: "接收时间"
        case .stillRejected: "仍拒收"
        case .replayedRejects: "已重放"
        case .dryRun: "仅演练"
        case .producerName: "生产者"
        case .issueDate: "开具日期"
        case .headSeq: "链头序号"
        case .sealedAt: "封存时间"
        case .bytesPerReading: "每条字节"
        case .rollupBytes: "汇总字节"
        case .peakLevel: "最高级别"
        case .ruleName: "规则名称"
        case .updatedAt: "更新时间"
        case .acknowledgedAt: "确认时间"
        case .resolvedAt: "解除时间"
        case .closedAt: "关闭时间"
        case .contactTier: "通知层级"
        case .alert: "预警"
        case .args: "参数"
        case .detail: "详情"
        case .trigger: "触发"
        case .confirmedAt: "确认时间"
        case .expiresAt: "过期时间"
        case .finishedAt: "结束时间"
        case .issuedAt: "下发时间"
        case .issuedBy: "下发人"
        case .repliedAt: "回复时间"
        case .sentAt: "发送时间"
        case .stateZh: "状态（中文）"
        case .role: "角色"
        case .scope: "范围"
        case .revoked: "已吊销"
        case .revokedAt: "吊销时间"
        }
    }
}
