/// How the ingest treats what it receives: unknown devices, payload and time limits, the
/// profile of new devices and the size of a burst.
///
/// A plain value: the server maps its `ingest:` configuration section to it (see
/// `ServerConfig.Ingest`), tests build it directly. The defaults are the server's defaults.
public struct IngestOptions: Sendable, Hashable {
    /// What to do with telemetry from a device that is not registered.
    public enum UnknownDevices: String, Sendable, Hashable, CaseIterable {
        /// Register it with the default profile (a gateway's children with the gateway's child
        /// profile), its domain inferred from its metrics, and store its readings.
        case register
        /// Store nothing: the message becomes an `unknown_device` reject.
        case reject
    }

    /// What to do with telemetry from a device that is not registered.
    public var unknownDevices: UnknownDevices
    /// The profile a new device is decoded and registered with; must name a loaded profile.
    public var defaultProfile: String
    /// Payloads larger than this many bytes are rejected (`payload_too_large`) without decoding.
    public var maxPayloadBytes: Int
    /// Readings stamped further ahead of the receive time than this are rejected.
    public var maxFutureSkewSeconds: Int
    /// Most messages committed in one transaction (one burst). Two bursts are in memory at
    /// once: one committing, one read.
    public var maxBatch: Int

    /// Options with the server's defaults unless given.
    public init(
        unknownDevices: UnknownDevices = .register, defaultProfile: String = "generic", maxPayloadBytes: Int = 262_144,
        maxFutureSkewSeconds: Int = 3600, maxBatch: Int = 20_000
    ) {
        self.unknownDevices = unknownDevices
        self.defaultProfile = defaultProfile
        self.maxPayloadBytes = maxPayloadBytes
        self.maxFutureSkewSeconds = maxFutureSkewSeconds
        self.maxBatch = maxBatch
    }
}
