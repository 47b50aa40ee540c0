import CMosquitto
import Logging

/// Forwards libmosquitto's own log lines to a `Logger`.
///
/// libmosquitto formats a line for every packet once a log callback is installed, so clients
/// only install it when their logger is at `.debug` or `.trace`.
enum MosquittoLog {
    static func wanted(by logger: Logger) -> Bool {
        logger.logLevel <= .debug
    }

    static func forward(_ logger: Logger, level: Int32, text: UnsafePointer<CChar>?) {
        guard let text else { return }
        let line = String(cString: text)
        switch level {
        case 8: // MOSQ_LOG_ERR
            logger.error("libmosquitto: \(line)")
        case 4: // MOSQ_LOG_WARNING
            logger.warning("libmosquitto: \(line)")
        case 1, 2: // MOSQ_LOG_INFO, MOSQ_LOG_NOTICE
            logger.debug("libmosquitto: \(line)")
        default:
            logger.trace("libmosquitto: \(line)")
        }
    }
}
