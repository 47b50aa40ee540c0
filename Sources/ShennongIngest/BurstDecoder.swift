import Foundation
import Logging
import MosquittoClient
import ShennongCore

/// The decoding half of ``IngestPipeline``: topic to device, device to profile, payload to
/// readings, every unusable part to a reject with its reason, unknown devices registered or
/// rejected per ``IngestOptions/unknownDevices``. Nothing is written here.
///
/// A value with the registry cache it decodes against; the pipeline keeps it in a `Mutex`
/// taken once per burst by the ingest thread (the only thread that decodes).
struct BurstDecoder {
    let store: any ReadingIngest & DeviceRegistry
    let profiles: [String: DeviceProfile]
    let topics: TopicScheme
    let options: IngestOptions
    let logger: Logger
    /// The registry cache: registered devices by id, and devices registered by bursts decoded since.
    private var devices: [String: Device] = [:]
    /// When the registry cache was last loaded (epoch ms; 0: never).
    private var devicesLoadedAt: Int64 = 0
    private let clock: WallClock
    private var warnedProfiles: Set<String> = []
    /// Devices the last decoded burst registered (perhaps not committed yet).
    private(set) var lastRegistered: [Device] = []
    /// Bursts decoded, counted from 1.
    private(set) var sequence: UInt64 = 0

    init(
        store: any ReadingIngest & DeviceRegistry, profiles: [String: DeviceProfile], topics: TopicScheme,
        options: IngestOptions, clock: WallClock, logger: Logger
    ) {
        self.clock = clock
        self.store = store
        self.profiles = profiles
        self.topics = topics
        self.options = options
        self.logger = logger
    }

    /// Decodes one burst received at `receivedAt` (epoch ms): its readings, rejects, presence
    /// and new devices, and the devices it registered. Counts the burst (``sequence``).
    mutating func decode(_ messages: [MQTTMessage], receivedAt: Int64) -> (batch: IngestBatch, registered: [Device]) {
        var batch = IngestBatch()
        var registered: [Device] = []
        for (i, message) in messages.enumerated() {
            process(message, receivedAt: receivedAt, into: &batch, registered: &registered)
            // Sized once from the first message's readings: a county burst holds tens of
            // thousands, and growing by doubling holds two copies at the peak.
            if i == 0 && messages.count > 1 { batch.readings.reserveCapacity(messages.count * max(1, batch.readings.count)) }
        }
        lastRegistered = registered
        sequence += 1
        return (batch, registered)
    }

    /// Decodes stored rejects again as one burst (a replay): each distinct message (rows of one
    /// payload share its receive time, topic and bytes) once, at its original receive time, so a
    /// payload without its own time keeps it. The burst replaces the rejects' rows: what of a
    /// payload still fails is among its rejects again, with the reason it fails now. Counts the
    /// burst (``sequence``).
    mutating func decodeReplay(_ rejects: [RejectRecord]) -> (batch: IngestBatch, registered: [Device]) {
        var batch = IngestBatch()
        var registered: [Device] = []
        var seen: Set<ReplayKey> = []
        for reject in rejects {
            if let id = reject.id { batch.replacedRejects.append(id) }
            let key = ReplayKey(receivedAt: reject.receivedAt, topic: reject.topic, payload: reject.payload)
            guard seen.insert(key).inserted else { continue }
            process(
                MQTTMessage(topic: reject.topic, payload: reject.payload), receivedAt: reject.receivedAt, into: &batch,
                registered: &registered)
        }
        lastRegistered = registered
        sequence += 1
        return (batch, registered)
    }

    /// One message among stored rejects.
    private struct ReplayKey: Hashable {
        var receivedAt: Int64
        var topic: String
        var payload: [UInt8]
    }

    private mutating func process(
        _ message: MQTTMessage, receivedAt: Int64, into batch: inout IngestBatch, registered: inout [Device]
    ) {
        func reject(_ code: RejectCode, _ reason: String, device: String?, field: String? = nil) {
            batch.reject(message, receivedAt: receivedAt, code: code, reason: reason, device: device, field: field)
        }
        guard let (deviceID, kind) = topics.parse(message.topic) else {
            reject(.invalidTopic, "topic \(message.topic) is not \(topics.prefix)/{device}/telemetry or /status", device: nil)
            return
        }
        guard Device.isValidID(deviceID) else {
            reject(.invalidDeviceID, "device id \"\(deviceID.prefix(80))\" must match [A-Za-z0-9_.-]{1,64}", device: nil)
            return
        }
        if message.payload.count > options.maxPayloadBytes {
            reject(
                .payloadTooLarge,
                "payload of \(message.payload.count) bytes is larger than the limit of \(options.maxPayloadBytes)",
                device: deviceID)
            return
        }
        let known = device(deviceID)
        switch kind {
        case .status:
            let text = String(decoding: message.payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                .lowercased()
            guard text == "online" || text == "offline" else {
                reject(.unsupportedPayload, "status payload must be online or offline, not \"\(text.prefix(40))\"", device: deviceID)
                return
            }
            if known != nil {
                batch.presence[deviceID] = Presence(state: text, at: receivedAt)
            }
        case .telemetry:
            let profile = known.map { self.profile(named: $0.profile) } ?? profile(named: options.defaultProfile)
            if known == nil && options.unknownDevices != .register {
                reject(.unknownDevice, "device \(deviceID) is not registered (ingest.unknown_devices: reject)", device: deviceID)
                return
            }
            let decoding = DecodeOptions(
                maxPayloadBytes: options.maxPayloadBytes, maxFutureSkew: Int64(options.maxFutureSkewSeconds) * 1000)
            if let gateway = profile.gateway {
                processGateway(
                    message, gateway: deviceID, known: known, profile: profile, mapping: gateway, options: decoding,
                    receivedAt: receivedAt, into: &batch, registered: &registered)
                return
            }
            let result = PayloadDecoder.decode(
                message.payload, device: deviceID, profile: profile, receivedAt: receivedAt, options: decoding)
            for rejection in result.rejections {
                reject(rejection.code, rejection.message, device: deviceID, field: rejection.field)
            }
            guard !result.readings.isEmpty else { return }
            if known == nil {
                let domain = profile.domain ?? Domain.infer(from: result.readings.map(\.metric)) ?? .weather
                let device = Device(id: deviceID, profile: profile.name, domain: domain, createdAt: receivedAt)
                devices[deviceID] = device
                batch.newDevices.append(device)
                registered.append(device)
            }
            batch.readings.append(contentsOf: result.readings)
            batch.markSeen(deviceID, at: receivedAt)
        }
    }

    /// A gateway's message: each child decoded with its own profile (or the gateway's child
    /// profile when new), new children registered like any unknown device, the gateway too.
    private mutating func processGateway(
        _ message: MQTTMessage, gateway: String, known: Device?, profile: DeviceProfile, mapping: GatewayMapping,
        options: DecodeOptions, receivedAt: Int64, into batch: inout IngestBatch, registered: inout [Device]
    ) {
        func reject(_ code: RejectCode, _ reason: String, _ device: String?, _ field: String?) {
            batch.reject(message, receivedAt: receivedAt, code: code, reason: reason, device: device, field: field)
        }
        let childDefault = self.profile(named: mapping.childProfile)
        let (result, _) = PayloadDecoder.decodeMessage(
            message.payload, device: gateway, profile: profile, receivedAt: receivedAt, options: options,
            profileOf: { id in self.device(id).map { self.profile(named: $0.profile) } ?? childDefault })
        for rejection in result.rejections {
            reject(rejection.code, rejection.message, gateway, rejection.field)
        }
        var byDevice: [String: [Reading]] = [:]
        var order: [String] = []
        for reading in result.readings {
            if byDevice[reading.device] == nil { order.append(reading.device) }
            byDevice[reading.device, default: []].append(reading)
        }
        func register(_ id: String, profile: DeviceProfile, metrics: [String]) {
            let domain = profile.domain ?? Domain.infer(from: metrics) ?? .weather
            let device = Device(id: id, profile: profile.name, domain: domain, createdAt: receivedAt)
            devices[id] = device
            batch.newDevices.append(device)
            registered.append(device)
        }
        var stored = false
        for id in order {
            let readings = byDevice[id] ?? []
            if device(id) == nil {
                guard self.options.unknownDevices == .register else {
                    reject(.unknownDevice, "child \(id) of gateway \(gateway) is not registered (ingest.unknown_devices: reject)", gateway, nil)
                    continue
                }
                register(id, profile: childDefault, metrics: readings.map(\.metric))
            }
            batch.readings.append(contentsOf: readings)
            batch.markSeen(id, at: receivedAt)
            stored = true
        }
        if stored {
            if known == nil { register(gateway, profile: profile, metrics: result.readings.map(\.metric)) }
            batch.markSeen(gateway, at: receivedAt)
        }
    }

    private mutating func device(_ id: String) -> Device? {
        if let device = devices[id] { return device }
        // Registered through the API since the last refresh?
        if let device = try? store.device(id: id) {
            devices[id] = device
            return device
        }
        return nil
    }

    private mutating func profile(named name: String) -> DeviceProfile {
        if let profile = profiles[name] { return profile }
        if !warnedProfiles.contains(name) {
            warnedProfiles.insert(name)
            logger.warning("device profile not found; decoding with canonical names", metadata: ["profile": "\(name)"])
        }
        return .generic
    }

    /// Reloads the device registry every 30 s so profile changes made through the API apply,
    /// and at once after a failed commit or a dropped burst (`failed`: devices either registered
    /// were never stored). Devices the previous burst registered stay: it may still be committing.
    mutating func refreshDevicesIfStale(failed: Bool) {
        if failed {
            lastRegistered = []
        } else if clock.now() - devicesLoadedAt <= 30_000 {
            return
        }
        if let all = try? store.devices() {
            devices = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for device in lastRegistered where devices[device.id] == nil {
                devices[device.id] = device
            }
            devicesLoadedAt = clock.now()
        } else if failed {
            devices = [:]
            devicesLoadedAt = 0
        }
    }
}

extension IngestBatch {
    /// Records `message` (raw bytes, topic, time) as a reject with its reason.
    mutating func reject(
        _ message: MQTTMessage, receivedAt: Int64, code: RejectCode, reason: String, device: String?, field: String?
    ) {
        rejects.append(
            RejectRecord(
                receivedAt: receivedAt, topic: message.topic, device: device, payload: message.payload, code: code,
                reason: reason, field: field))
    }
}
