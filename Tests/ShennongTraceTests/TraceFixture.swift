import Foundation
import Logging
import ShennongCore
import ShennongStore
@testable import ShennongTrace

/// A Traceability over a fresh SQLite file in a temporary directory, with a clock the test sets.
final class TraceFixture: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used by one test at a time; `now` is only read by the clock.
    let directory: URL
    let store: Store
    let trace: Traceability
    let clock = ManualClock()

    static let day: Int64 = 86_400_000
    /// 2025-03-01T00:00:00+08:00.
    static let t0: Int64 = 1_740_758_400_000

    init(settings: TraceSettings = TraceSettings(), warnings: any WarningHistory = NoWarningHistory()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false)
        let secret = try TraceKeys.loadOrCreate(path: directory.appendingPathComponent("trace-secret").path)
        let signing = try TraceKeys.loadOrCreate(path: directory.appendingPathComponent("trace-signing-key").path)
        clock.now = Self.t0 + 100 * Self.day
        let clock = self.clock
        trace = try Traceability(
            store: store, secret: secret, signingKey: signing, settings: settings, warnings: warnings,
            logger: Logger(label: "test"), clock: WallClock { clock.now })
    }

    var databasePath: String { directory.appendingPathComponent("shennong.db").path }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Producer P1, plot PLOT1 (devices soil-1, wx-1, pond-1), batch B1 planted at t0.
    func registerBatch(id: String = "B1", gtin: String? = "09521234543213", devices: [String] = ["soil-1", "wx-1", "pond-1"]) throws {
        if try trace.producer("P1") == nil {
            try trace.addProducer(
                Producer(
                    id: "P1", name: "连州市丰收蔬菜专业合作社", creditCode: "91350100M000100Y43", contact: "陈伟",
                    phone: "13812341234", address: "清远市连州市保安镇", areaCode: "441882"),
                by: "test")
            try trace.addPlot(
                Plot(id: "PLOT1", producer: "P1", name: "卿罡村3号地", location: "广东省清远市连州市保安镇卿罡村",
                     area: 12.5, areaCode: "441882", devices: devices),
                by: "test")
        }
        try trace.createBatch(
            Batch(id: id, plot: "PLOT1", product: "菜心", variety: "连州菜心", quantity: 500, unit: "kg",
                  plantingDate: Self.t0, gtin: gtin),
            by: "test")
    }

    /// Runs the sqlite3 command-line shell on the database (a direct edit, outside Shennong).
    func sqlite(_ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", databasePath, sql]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: out, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw TraceError(.io, "sqlite3 failed: \(text)") }
        return text
    }
}

final class ManualClock: @unchecked Sendable {
    // Invariant: set by the test between calls, never concurrently with a read.
    var now: Int64 = 0
}
