import Mustache
import ShennongCore

/// Every string of the staff pages (dashboard, chart, login, messages) in the language of one
/// request: ``zh`` (the default) or ``en``, chosen by `Accept-Language`
/// (``Language/preferred(acceptLanguage:)``). `t.overview`, `t.openCount(3)`: each word is
/// read from the one catalogue, ``StaffWords`` (plain words) or ``StaffPhrases``
/// (words with a value in them), in this language.
///
/// The templates read the plain strings as `{{t.key}}` (the page models carry the strings as
/// `t`), and `DashboardLanguageTests` checks every `t.key` the templates name exists.
@dynamicMemberLookup
struct StaffStrings: Sendable {
    let language: Language

    static let zh = StaffStrings(language: .zh)
    static let en = StaffStrings(language: .en)

    /// The strings of `language`.
    static func of(_ language: Language) -> StaffStrings {
        StaffStrings(language: language)
    }

    /// A word of the catalogue in this language (`t.overview`).
    subscript(dynamicMember word: KeyPath<StaffWords, Bilingual<String>>) -> String {
        StaffWords.catalogue[keyPath: word][language]
    }

    /// A phrase of the catalogue in this language (`t.seen("5 分钟")`).
    subscript<Value>(dynamicMember phrase: KeyPath<StaffPhrases, Bilingual<Value>>) -> Value {
        StaffPhrases.catalogue[keyPath: phrase][language]
    }

    /// The plain strings by key (what templates can name), per language.
    static let tables: [Language: [String: String]] = Dictionary(
        uniqueKeysWithValues: Language.allCases.map { language in
            let pairs = Mirror(reflecting: StaffWords.catalogue).children.compactMap { child -> (String, String)? in
                guard let label = child.label, let word = child.value as? Bilingual<String> else { return nil }
                return (label, word[language])
            }
            return (language, Dictionary(uniqueKeysWithValues: pairs))
        })
}

extension StaffStrings: MustacheParent {
    /// A plain string by key (`{{t.overview}}`).
    func child(named name: String) -> Any? { Self.tables[language]?[name] }
}
