/// The four warning levels, as Chinese warning signals use them (STANDARDS.md):
/// IV blue 一般 · III yellow 较重 · II orange 严重 · I red 特别严重.
///
/// Raw values order them (1 blue … 4 red); 0 is "no level" and is not a case.
public enum AlertLevel: Int, Sendable, Codable, CaseIterable, Comparable, Hashable {
    case blue = 1
    case yellow = 2
    case orange = 3
    case red = 4

    public static func < (a: AlertLevel, b: AlertLevel) -> Bool { a.rawValue < b.rawValue }

    /// `blue`, `yellow`, `orange`, `red`.
    public var name: String {
        switch self {
        case .blue: "blue"
        case .yellow: "yellow"
        case .orange: "orange"
        case .red: "red"
        }
    }

    /// 蓝色, 黄色, 橙色, 红色.
    public var chineseName: String {
        switch self {
        case .blue: "蓝色"
        case .yellow: "黄色"
        case .orange: "橙色"
        case .red: "红色"
        }
    }

    /// The grade: IV (blue) … I (red).
    public var roman: String {
        switch self {
        case .blue: "IV"
        case .yellow: "III"
        case .orange: "II"
        case .red: "I"
        }
    }

    /// 一般, 较重, 严重, 特别严重.
    public var gravity: String {
        switch self {
        case .blue: "一般"
        case .yellow: "较重"
        case .orange: "严重"
        case .red: "特别严重"
        }
    }

    /// CAP 1.2 severity (STANDARDS.md: red Extreme, orange Severe, yellow Moderate, blue Minor).
    public var capSeverity: String {
        switch self {
        case .blue: "Minor"
        case .yellow: "Moderate"
        case .orange: "Severe"
        case .red: "Extreme"
        }
    }

    /// The level named `name` (`yellow`, also `III`, `3` or `黄色`), or `nil`.
    public init?(name: String) {
        let n = name.lowercased()
        guard let level = AlertLevel.allCases.first(where: {
            $0.name == n || $0.roman.lowercased() == n || String(5 - $0.rawValue) == n || $0.chineseName == name
        }) else { return nil }
        self = level
    }

    /// The level of a stored integer (1…4), or `nil` for 0 and anything else.
    public init?(stored: Int) {
        self.init(rawValue: stored)
    }

    /// The level a transition recorded (`nil` for none).
    public init?(stored level: TransitionLevel) {
        guard case .level(let level) = level else { return nil }
        self = level
    }
}
