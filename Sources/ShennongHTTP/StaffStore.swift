import ShennongCore

/// The store doors the staff API and `/healthz` use: devices, readings, rejects, tokens and a
/// health check.
public typealias StaffStore = DeviceRegistry & ReadingQueries & RejectLog & TokenStore & StoreHealth
