import ShennongCore
import ShennongSeal

/// The words of `shennong db seal` and `db verify`, zh-CN first, English available.
public struct SealWords: Sendable {
    /// Everything checked and intact: buckets, series blocks, readings, the range, seals.
    public let intact: @Sendable (_ buckets: Int, _ series: Int, _ readings: Int64, _ range: String, _ seals: Int) -> String
    /// Nothing sealed yet.
    public let noSeals: String
    /// Compacted buckets without a seal.
    public let unsealed: @Sendable (Int) -> String
    /// Sealed buckets whose blocks retention dropped.
    public let retired: @Sendable (Int) -> String
    /// Sealed buckets reopened by late readings, waiting for a new seal.
    public let reopened: @Sendable (Int) -> String
    /// What went wrong: the problem, its series (or nil), its bucket (local time), its seal number.
    public let problem: @Sendable (SealProblem.Kind, _ series: String?, _ bucket: String, _ seal: Int64) -> String
    /// `db seal` with nothing to seal.
    public let nothingToSeal: String
    /// A range of buckets: from … to.
    public let range: @Sendable (String, String) -> String

    public static func of(_ language: Language) -> SealWords {
        switch language {
        case .zh: zh
        case .en: en
        }
    }

    public static let zh = SealWords(
        intact: { "监测数据封存完好：\($0) 个分桶、\($1) 个序列数据块、\($2) 条读数与封存一致（\($3)）；封存链 \($4) 个封存，链接与签名有效" },
        noSeals: "尚无封存的监测数据",
        unsealed: { "\($0) 个已压缩分桶尚未封存（运行 shennong db seal）" },
        retired: { "\($0) 个已封存分桶的数据块已按保留期删除" },
        reopened: { "\($0) 个已封存分桶因迟到数据重新打开，压缩后重新封存" },
        problem: { kind, series, bucket, seal in
            switch kind {
            case .altered: "封存数据被改动：序列 \(series ?? "?")，分桶 \(bucket)（封存 #\(seal)）"
            case .deleted:
                series.map { "封存数据被删除：序列 \($0)，分桶 \(bucket)（封存 #\(seal)）" }
                    ?? "封存数据被删除：分桶 \(bucket) 的数据块全部缺失，而保留期未到（封存 #\(seal)）"
            case .added: "出现未封存的数据：序列 \(series ?? "?")，分桶 \(bucket)（封存 #\(seal)）"
            case .leaves: "封存 #\(seal)（分桶 \(bucket)）保存的叶子列表与签名的根不符"
            case .chain: "封存链在封存 #\(seal)（分桶 \(bucket)）处断开"
            case .signature: "封存 #\(seal)（分桶 \(bucket)）的签名无效"
            case .key: "封存 #\(seal)（分桶 \(bucket)）不是本服务器的密钥签名的"
            }
        },
        nothingToSeal: "没有待封存的分桶",
        range: { "\($0) 至 \($1)" })

    public static let en = SealWords(
        intact: {
            "Sealed monitoring data intact: \($0) buckets, \($1) series blocks, \($2) readings match their seals (\($3)); chain of \($4) seals, links and signatures valid"
        },
        noSeals: "No monitoring data is sealed yet",
        unsealed: { "\($0) compacted bucket(s) not sealed yet (run shennong db seal)" },
        retired: { "\($0) sealed bucket(s) whose blocks retention has dropped" },
        reopened: { "\($0) sealed bucket(s) reopened by late readings, sealed again once compacted" },
        problem: { kind, series, bucket, seal in
            switch kind {
            case .altered: "Sealed data altered: series \(series ?? "?") in bucket \(bucket) (seal #\(seal))"
            case .deleted:
                series.map { "Sealed data deleted: series \($0) in bucket \(bucket) (seal #\(seal))" }
                    ?? "Sealed data deleted: every block of bucket \(bucket) is gone before its retention (seal #\(seal))"
            case .added: "Data that was never sealed: series \(series ?? "?") in bucket \(bucket) (seal #\(seal))"
            case .leaves: "The leaf list of seal #\(seal) (bucket \(bucket)) does not give its signed root"
            case .chain: "The seal chain breaks at seal #\(seal) (bucket \(bucket))"
            case .signature: "Invalid signature on seal #\(seal) (bucket \(bucket))"
            case .key: "Seal #\(seal) (bucket \(bucket)) is not signed by this server's key"
            }
        },
        nothingToSeal: "No bucket waits for a seal",
        range: { "\($0) to \($1)" })
}

extension AdminStrings {
    /// The words of the seal verbs.
    public var seals: SealWords { SealWords.of(language) }
}
