import Logging
import ShennongStore

extension ShennongServer {
    /// Traceability in `shennong serve`: public trace pages, staff trace routes.
    static func makeTrace(config: ServerConfig, store: Store, logger: Logger) throws -> ModuleWiring {
        ModuleWiring()
    }
}
