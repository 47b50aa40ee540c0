import ShennongCore

/// The words of the admin commands' listings (``AdminCommands``) that people read, one
/// value per language (`--lang`, `SHENNONG_LANG`): which buckets retention drops, what a
/// tier holds. Typed like the CLI's catalogue: a key must be given in both languages.
/// Item names (`readings_raw`, `buckets`) and JSON keys stay as they are in every language.
public struct AdminStrings: Sendable {
    public let language: Language
    /// Retention with `--dry-run`.
    public let wouldDrop: String
    public let dropped: String
    /// Rollup rows not in a bucket.
    public let liveRows: String
    /// A time bucket of `db stats` (its start in local time).
    public let bucket: @Sendable (String) -> String
    /// A rollup tier of `db stats`.
    public let rollup: @Sendable (String) -> String
    /// What a rollup tier holds.
    public let cells: @Sendable (_ live: Int, _ packed: Int) -> String

    /// The catalogue of `language`.
    public static func of(_ language: Language) -> AdminStrings {
        switch language {
        case .zh: zh
        case .en: en
        }
    }

    public static let zh = AdminStrings(
        language: .zh, wouldDrop: "将删除", dropped: "已删除", liveRows: "未分桶的行", bucket: { "分桶 \($0)" },
        rollup: { "汇总 \($0)" }, cells: { "\($0) 个活动单元，\($1) 个已打包" })

    public static let en = AdminStrings(
        language: .en, wouldDrop: "would drop", dropped: "dropped", liveRows: "live rows", bucket: { "bucket \($0)" },
        rollup: { "rollup \($0)" }, cells: { "\($0) live, \($1) packed" })
}
