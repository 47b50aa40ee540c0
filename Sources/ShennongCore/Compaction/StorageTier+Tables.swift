extension StorageTier {
    /// The table of live (not yet packed) cells of a rollup tier.
    package var liveTable: String { "rollup_\(rawValue)" }

    /// The prefix of per-bucket tables of packed cells; `nil` for the 1 d tier, whose cells
    /// stay rows (one a series a day) and may span buckets narrower than a day.
    package var packedPrefix: String? {
        switch self {
        case .minute: "m1_"
        case .hour: "h1_"
        case .raw, .day: nil
        }
    }
}
