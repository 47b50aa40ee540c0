import Logging
import MosquittoClient
import ShennongCore
import ShennongStore

extension ShennongServer {
    /// The warnings stage of `shennong serve`: rules after each ingest burst, notifiers,
    /// alert routes. `mqtt` reaches the same broker as ingest (for alert publishing).
    static func makeRules(
        config: ServerConfig, store: Store, profiles: [String: DeviceProfile], mqtt: MQTTConfiguration,
        logger: Logger
    ) throws -> ModuleWiring {
        ModuleWiring()
    }
}
