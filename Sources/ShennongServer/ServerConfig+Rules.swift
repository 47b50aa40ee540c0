extension ServerConfig {
    /// The `rules:` section: early warnings.
    public struct Rules: Sendable, Decodable {
        public init() {}
        public init(from decoder: any Decoder) throws {}
    }
}
