/// Which stored rejects a replay decodes again (every filter optional).
public struct RejectReplayRequest: Sendable, Hashable {
    /// Rejects received at or after this time (epoch ms).
    public var since: Int64
    /// A reject code (`unknown_metric`) or a part of the reason text.
    public var reason: String?
    /// Rejects of this device only.
    public var device: String?
    /// Decode and count, store nothing.
    public var dryRun: Bool

    public init(since: Int64 = 0, reason: String? = nil, device: String? = nil, dryRun: Bool = false) {
        self.since = since
        self.reason = reason
        self.device = device
        self.dryRun = dryRun
    }
}

/// What a reject replay did; its JSON (snake_case keys) is the staff API's `RejectReplay` body.
public struct RejectReplayCounts: Sendable, Hashable, Codable {
    /// Reject rows decoded again.
    public var examined: Int
    /// Readings stored (on a dry run: readings that decode, duplicates of stored readings included).
    public var stored: Int
    /// Reject rows left after the replay, each with the reason its payload fails now.
    public var stillRejected: Int
    /// Reject rows whose payload now decodes entirely, gone from the reject list.
    public var replayedRejects: Int
    public var dryRun: Bool

    public init(examined: Int = 0, stored: Int = 0, stillRejected: Int = 0, replayedRejects: Int = 0, dryRun: Bool = false) {
        self.examined = examined
        self.stored = stored
        self.stillRejected = stillRejected
        self.replayedRejects = replayedRejects
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case examined, stored
        case stillRejected = "still_rejected"
        case replayedRejects = "replayed_rejects"
        case dryRun = "dry_run"
    }
}
