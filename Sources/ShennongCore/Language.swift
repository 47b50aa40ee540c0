import Foundation

/// The languages staff read: Simplified Chinese first, English on request.
///
/// Staff pages choose by the browser's `Accept-Language`, the CLI by `--lang` or
/// `SHENNONG_LANG`; each module keeps its strings in one catalogue per language. Consumer
/// pages are Chinese only.
public enum Language: String, Sendable, CaseIterable, Hashable {
    /// Simplified Chinese (`zh-CN`), the default.
    case zh = "zh-CN"
    /// English (`en`).
    case en = "en"

    /// The language of a BCP 47 tag (`zh`, `zh-CN`, `zh-Hans`, `en`, `en-GB`, case-insensitive),
    /// or `nil` for any other.
    public init?(tag: String) {
        let primary = tag.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "-", maxSplits: 1).first.map(String.init)
        switch primary {
        case "zh": self = .zh
        case "en": self = .en
        default: return nil
        }
    }

    /// The language an `Accept-Language` header prefers: the one of highest weight (`q`, 1 by
    /// default; the first listed wins a tie) among Chinese and English, Chinese when the header
    /// is absent, names neither, or gives both `q=0`.
    public static func preferred(acceptLanguage header: String?) -> Language {
        guard let header else { return .zh }
        var best: (language: Language, q: Double)?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";")
            guard let tag = parts.first, let language = Language(tag: String(tag)) else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix("q="), let value = Double(pair.dropFirst(2)) { q = value }
            }
            if q > 0, q > (best?.q ?? 0) { best = (language, q) }
        }
        return best?.language ?? .zh
    }
}
