/// One message received from the broker, copied out of libmosquitto's buffers.
public struct MQTTMessage: Sendable, Equatable {
    /// The topic the message was published to.
    public var topic: String
    /// The raw payload bytes (may be empty).
    public var payload: [UInt8]
    /// The QoS the message was delivered with (0, 1 or 2).
    public var qos: Int32
    /// Whether the broker delivered it as a retained message.
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}
