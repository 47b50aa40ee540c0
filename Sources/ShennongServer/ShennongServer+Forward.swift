import Logging
import ServiceLifecycle
import ShennongForward

extension ShennongServer {
    /// Forwarding in `shennong serve` (`forward:`): one ``Forwarder`` service for all targets,
    /// or none. It turns the store's commit feed on, so it must be made before ingest runs;
    /// put its service where ingest runs (the leader).
    ///
    /// Needs an engine that opens the ``ForwardStore`` doors (SQLite and PostgreSQL both do).
    static func makeForwarder(config: ServerConfig, store: any ServerStore, logger: Logger) -> Forwarder? {
        guard !config.forward.targets.isEmpty else { return nil }
        guard let feed = store as? any ForwardStore else {
            logger.warning("forwarding is off: this storage engine has no commit feed", metadata: ["location": "\(store.location)"])
            return nil
        }
        logger.info(
            "forwarding", metadata: ["targets": "\(config.forward.targets.map(\.name).joined(separator: ","))"])
        return Forwarder(targets: config.forward.targets, store: feed, logger: logger)
    }
}
