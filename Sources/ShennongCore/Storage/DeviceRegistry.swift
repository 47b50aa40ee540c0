import Foundation

/// A registered device with what the store knows of its life: when it was last heard from,
/// its presence on the status topic, and the metrics it has reported.
public struct DeviceRecord: Sendable, Hashable, Codable {
    public var device: Device
    /// Receive time (ms) of its newest message.
    public var lastSeen: Int64?
    /// `online` / `offline` as last reported on `agri/{device}/status`.
    public var presence: String?
    public var presenceAt: Int64?
    public var metrics: [String]

    public init(device: Device, lastSeen: Int64?, presence: String?, presenceAt: Int64?, metrics: [String]) {
        self.device = device
        self.lastSeen = lastSeen
        self.presence = presence
        self.presenceAt = presenceAt
        self.metrics = metrics
    }
}


/// The door to the device registry: the staff API, the CLI's admin commands, ingest (which
/// registers unknown devices inside its own commit) and the rules (a device's site and
/// attributes).
public protocol DeviceRegistry: Sendable {
    /// Registers `device`. Throws ``StoreError`` `conflict` if the id is taken.
    func addDevice(_ device: Device) throws
    /// Registers or updates every device in one transaction (all or nothing); returns how many were new.
    @discardableResult
    func upsertDevices(_ devices: [Device]) throws -> Int
    /// Every registered device, by id.
    func devices() throws -> [Device]
    /// Devices with what the store knows of their life, filtered when the arguments are given.
    func deviceRecords(site: String?, domain: Domain?, id: String?) throws -> [DeviceRecord]
    /// The device with this id, or `nil`.
    func device(id: String) throws -> Device?
}

extension DeviceRegistry {
    /// Registers `device`, or updates it if the id exists.
    public func upsertDevice(_ device: Device) throws {
        try upsertDevices([device])
    }

    /// Devices of a site or domain (or all), with their life.
    public func deviceRecords(site: String? = nil, domain: Domain? = nil) throws -> [DeviceRecord] {
        try deviceRecords(site: site, domain: domain, id: nil)
    }

    /// The record of one device, if registered (a list of at most one).
    public func deviceRecords(id: String) throws -> [DeviceRecord] {
        try deviceRecords(site: nil, domain: nil, id: id)
    }
}
