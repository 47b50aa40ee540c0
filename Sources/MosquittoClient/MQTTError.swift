import CMosquitto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error reported by libmosquitto or by the MQTT broker.
///
/// `code` is a libmosquitto `MOSQ_ERR_*` value (for example `MOSQ_ERR_CONN_LOST` = 7). When the
/// broker refused the connection in its CONNACK, `code` is `MOSQ_ERR_CONN_REFUSED` and
/// `connackCode` holds the broker's CONNACK return code (5 = not authorised). All values are
/// built by one mapping function, ``init(mosquittoCode:operation:connackCode:systemErrno:)``.
public struct MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libmosquitto return code (`MOSQ_ERR_*`).
    public var code: Int32
    /// What was being done, for example `"connect"` or `"publish"`.
    public var operation: String
    /// A readable explanation, from `mosquitto_strerror`, `mosquitto_connack_string` or `strerror`.
    public var message: String
    /// The broker's CONNACK return code when the broker refused the connection, otherwise `nil`.
    public var connackCode: Int32?

    /// Creates an error from its parts; prefer ``init(mosquittoCode:operation:connackCode:systemErrno:)``.
    public init(code: Int32, operation: String, message: String, connackCode: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.message = message
        self.connackCode = connackCode
    }

    public var description: String {
        if let connackCode {
            return "MQTT \(operation) failed: \(message) (CONNACK \(connackCode))"
        }
        return "MQTT \(operation) failed: \(message) (libmosquitto code \(code))"
    }
}

extension MQTTError {
    /// The one place that turns a libmosquitto return code (or a CONNACK code) into an error.
    ///
    /// - Parameters:
    ///   - mosquittoCode: a `MOSQ_ERR_*` value returned by a libmosquitto function.
    ///   - operation: what was being done, shown in the message.
    ///   - connackCode: the broker's CONNACK code, when the broker refused the connection.
    ///   - systemErrno: `errno` read right after the call; used for `MOSQ_ERR_ERRNO`.
    public init(mosquittoCode: Int32, operation: String, connackCode: Int32? = nil, systemErrno: Int32 = 0) {
        if let connackCode {
            let text = String(cString: mosquitto_connack_string(connackCode))
            self.init(code: Int32(MOSQ_ERR_CONN_REFUSED.rawValue), operation: operation,
                      message: text, connackCode: connackCode)
            return
        }
        var text: String
        if mosquittoCode == Int32(MOSQ_ERR_ERRNO.rawValue) {
            // mosquitto_strerror(MOSQ_ERR_ERRNO) reads the *current* errno, which may have moved on.
            text = systemErrno != 0 ? String(cString: strerror(systemErrno)) : "System call failed."
        } else {
            text = String(cString: mosquitto_strerror(mosquittoCode))
        }
        if text.isEmpty {
            text = "Unknown libmosquitto error."
        }
        self.init(code: mosquittoCode, operation: operation, message: text)
    }

    /// Throws the mapped error unless `rc` is `MOSQ_ERR_SUCCESS`; reads `errno` immediately.
    @inline(__always)
    static func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
        if rc != Int32(MOSQ_ERR_SUCCESS.rawValue) {
            let savedErrno = errno
            throw MQTTError(mosquittoCode: rc, operation: operation(), systemErrno: savedErrno)
        }
    }
}

/// `MOSQ_ERR_*` values as `Int32`, so that comparisons against C return codes stay short.
enum MosqCode {
    static let success = Int32(MOSQ_ERR_SUCCESS.rawValue)
    static let noMemory = Int32(MOSQ_ERR_NOMEM.rawValue)
    static let invalid = Int32(MOSQ_ERR_INVAL.rawValue)
    static let noConnection = Int32(MOSQ_ERR_NO_CONN.rawValue)
    static let connectionRefused = Int32(MOSQ_ERR_CONN_REFUSED.rawValue)
    static let connectionLost = Int32(MOSQ_ERR_CONN_LOST.rawValue)
    static let keepalive = Int32(MOSQ_ERR_KEEPALIVE.rawValue)
    static let timeout = Int32(MOSQ_ERR_TIMEOUT.rawValue)
    static let errno = Int32(MOSQ_ERR_ERRNO.rawValue)
}
