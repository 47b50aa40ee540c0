import Foundation
import ShennongAlerts
import ShennongCore
import ShennongPostgres
import ShennongStore
import ShennongTestSupport

/// Every door a storage engine must open; the contract suite holds each engine to it.
typealias ContractStore = ReadingIngest & ReadingQueries & DeviceRegistry & TokenStore & RejectLog & TraceLedger
    & StoreMaintenance & StoreHealth & AlertStore & AlertOutbox & SealLedger & DashboardSessionStore & LeaderLease

/// A storage engine under contract: a name and how to open a fresh, empty store of it.
///
/// The suite runs every test once per engine in ``all``. A second engine (PostgreSQL) joins by
/// adding itself there; nothing in the tests names an engine.
struct StoreEngine: Sendable, CustomTestStringConvertible {
    var name: String
    /// Opens a new empty store with `options`.
    var open: @Sendable (_ options: StoreOptions) throws -> any ContractStore
    /// Writes behind the doors, as someone with the database file or a SQL console would
    /// (StoreEngine+Intruder.swift).
    var intruder: Intruder = .none

    var testDescription: String { name }

    static let sqlite = StoreEngine(
        name: "sqlite",
        open: { options in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)")
            return try Store(path: directory.appendingPathComponent("s.db").path, durable: false, options: options)
        }, intruder: .sqlite)

    /// A fresh database on the suite's one PostgreSQL server (started on first use, stopped
    /// when the test process ends).
    static let postgres = StoreEngine(
        name: "postgres",
        open: { options in try PostgresStore(url: try TestPostgres.shared().createDatabase(), options: options) },
        intruder: .postgres)

    static let all: [StoreEngine] = [.sqlite, .postgres]
}

import Testing

/// Builders shared by the contract tests.
enum Fixture {
    static let day: Int64 = 86_400_000
    /// 2025-11-21T00:00:00Z: a UTC midnight, so buckets and 1 d cells start here.
    static let t0: Int64 = 1_763_683_200_000

    static func device(_ id: String, _ domain: Domain = .water, site: String? = nil) -> Device {
        Device(id: id, profile: "generic", domain: domain, site: site, createdAt: 1)
    }

    static func batch(_ readings: [Reading], devices: [Device] = [], rejects: [RejectRecord] = []) -> IngestBatch {
        var batch = IngestBatch()
        batch.readings = readings
        batch.newDevices = devices
        batch.rejects = rejects
        return batch
    }

    static func reading(_ device: String, _ metric: String, _ t: Int64, _ v: Double) -> Reading {
        Reading(device: device, metric: metric, timestamp: t, value: v)
    }
}
