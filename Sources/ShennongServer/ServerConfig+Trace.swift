extension ServerConfig {
    /// The `trace:` section: traceability.
    public struct Trace: Sendable, Decodable {
        public init() {}
        public init(from decoder: any Decoder) throws {}
    }
}
