import Foundation
import MosquittoClient
import ShennongTestSupport
import Testing

@Suite struct MQTTErrorTests {
    @Test("libmosquitto return codes map to readable messages")
    func returnCodes() {
        let lost = MQTTError(mosquittoCode: 7 /* MOSQ_ERR_CONN_LOST */, operation: "read")
        #expect(lost.code == 7)
        #expect(lost.message.lowercased().contains("lost"))
        #expect(lost.description.contains("read"))
        #expect(lost.connackCode == nil)

        let invalid = MQTTError(mosquittoCode: 3 /* MOSQ_ERR_INVAL */, operation: "publish")
        #expect(invalid.message.lowercased().contains("invalid"))

        let system = MQTTError(mosquittoCode: 14 /* MOSQ_ERR_ERRNO */, operation: "connect", systemErrno: ECONNREFUSED)
        #expect(system.message == "Connection refused")
    }

    @Test("CONNACK refusals map to the broker's reason")
    func connackCodes() {
        let refused = MQTTError(mosquittoCode: 5 /* MOSQ_ERR_CONN_REFUSED */, operation: "connect", connackCode: 5)
        #expect(refused.connackCode == 5)
        #expect(refused.message.lowercased().contains("not authori"))
        #expect(refused.description.contains("CONNACK 5"))
    }

    @Test("Connecting to a port nobody listens on throws a readable error")
    func connectionRefused() throws {
        let port = freeLoopbackPort()
        let publisher = try MQTTPublisher(configuration: MQTTConfiguration(port: port, clientID: "nobody-home", cleanSession: true))
        let error = #expect(throws: MQTTError.self) { try publisher.connect(timeout: .seconds(2)) }
        #expect(error?.message == "Connection refused")
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }

    @Test("Invalid configuration is rejected when the client is created")
    func invalidConfiguration() {
        #expect(throws: MQTTError.self) {
            _ = try MQTTIngestConnection(configuration: MQTTConfiguration(clientID: "", cleanSession: false))
        }
        #expect(throws: MQTTError.self) {
            _ = try MQTTIngestConnection(configuration: MQTTConfiguration(clientID: "x", keepAlive: 1))
        }
        #expect(throws: MQTTError.self) {
            _ = try MQTTIngestConnection(configuration: MQTTConfiguration(
                clientID: "x", tls: .init(caFile: "/nonexistent/ca.pem")
            ))
        }
    }
}
