/// A tier of stored data: raw readings, or rollups at 1 minute, 1 hour and 1 day.
public enum StorageTier: String, Sendable, Hashable, Codable, CaseIterable {
    case raw
    case minute = "1m"
    case hour = "1h"
    case day = "1d"

    /// Width of one rollup cell (ms); 1 for raw readings.
    public var width: Int64 {
        switch self {
        case .raw: 1
        case .minute: 60_000
        case .hour: 3_600_000
        case .day: 86_400_000
        }
    }

    /// The rollup tiers, finest first.
    public static let rollups: [StorageTier] = [.minute, .hour, .day]
}
