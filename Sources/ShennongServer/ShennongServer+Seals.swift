import ShennongCore
import ShennongSeal

extension ShennongServer {
    /// The watch over the seals of the monitoring data that a page group reports: the
    /// store's seal chain, checked against the server's signing key (the trace key).
    static func sealWatch(config: ServerConfig, store: any ServerStore) throws -> SealWatch {
        let sealer = try AdminCommands.sealer(signingKeyPath: config.trace.signingKeyPath(database: config.database.path))
        return SealWatch(ledger: store, publicKey: sealer.publicKey)
    }
}
