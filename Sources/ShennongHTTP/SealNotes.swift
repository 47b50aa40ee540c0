import ShennongCore
import ShennongSeal
import ShennongTrace

/// What the pages say about the sealed monitoring data behind them (``SealWatch``): the
/// consumer page in Chinese, the staff dashboard in its language.
enum SealNotes {
    /// The line of the trace page's environment section.
    static func consumer(_ coverage: SealWatch.Coverage) -> String {
        let day = { (ms: Int64) in ChinaTime.format(ms, time: false) }
        switch coverage {
        case .verified(let from, let to): return "监测数据已封存并验证（\(day(from))至\(day(to))，数字签名防篡改）"
        case .partly(let from, let through): return "监测数据已封存并验证（\(day(from))至\(day(through))），此后的数据尚未封存"
        case .unsealed: return "监测数据尚未封存"
        case .failed: return "监测数据封存校验未通过"
        case .checking: return "监测数据封存校验中"
        }
    }

    /// The dashboard's line, and whether it is a failure (shown as a warning).
    static func staff(_ result: SealVerification?, language: Language, offsetMinutes: Int) -> (text: String, failed: Bool) {
        let time = { (ms: Int64) in String(LocalTime.format(ms, offsetMinutes: offsetMinutes).prefix(16)) }
        let zh = language != .en
        guard let result else { return (zh ? "监测数据封存校验中" : "Checking the sealed monitoring data", false) }
        if let p = result.problem {
            let series = p.series.map { zh ? "序列 \($0)，" : "series \($0), " } ?? ""
            return (
                zh
                    ? "监测数据封存校验未通过：\(series)分桶 \(time(p.bucketStart))（\(p.kind.rawValue)，封存 #\(p.sequence)）；运行 shennong db verify 查看"
                    : "Sealed monitoring data failed verification: \(series)bucket \(time(p.bucketStart)) (\(p.kind.rawValue), seal #\(p.sequence)); run shennong db verify",
                true)
        }
        var text: String
        if let first = result.firstBucket, let last = result.lastUntil {
            text =
                zh
                ? "监测数据已封存并验证：\(time(first)) 至 \(time(last))，\(result.buckets) 个分桶、\(result.readings) 条读数"
                : "Monitoring data sealed and verified: \(time(first)) to \(time(last)), \(result.buckets) buckets, \(result.readings) readings"
        } else {
            text = zh ? "尚无封存的监测数据" : "No monitoring data is sealed yet"
        }
        if !result.unsealed.isEmpty {
            text += zh ? "；\(result.unsealed.count) 个分桶待封存" : "; \(result.unsealed.count) bucket(s) waiting for a seal"
        }
        return (text, false)
    }
}
