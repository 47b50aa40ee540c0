import Foundation
import Logging
import ShennongCore
import ShennongSeal
import ShennongStore
import ShennongTestSupport
import ShennongTrace
import Testing

@testable import ShennongHTTP

/// The trace page's environment section and the dashboard say whether the monitoring data
/// behind them is sealed and verified — and stop saying so when a block is changed.
struct SealPageTests {
    /// 2025-03-01T00:00:00+08:00.
    static let t0: Int64 = 1_740_758_400_000
    static let day: Int64 = 86_400_000

    @Test("the environment section says 已封存并验证 for sealed data, 校验未通过 once a block is deleted by hand")
    func tracePageLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seal-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("shennong.db").path
        let chain = try SealChain(signingKey: Array(repeating: 9, count: 32))
        var options = StoreOptions()
        options.sealer = chain.storeSealer
        let store = try Store(path: path, durable: false, options: options)
        defer { try? store.close() }
        var batch = IngestBatch()
        batch.newDevices = [Device(id: "wx-1", profile: "generic", domain: .weather, createdAt: 1)]
        for hour in 0..<(40 * 24) {
            batch.readings.append(
                Reading(device: "wx-1", metric: "air_temp", timestamp: Self.t0 + Int64(hour) * 3_600_000, value: 18 + Double(hour % 10)))
        }
        try store.commit(batch)
        try store.compact(now: Self.t0 + 100 * Self.day)

        let trace = try Traceability(
            store: store, secret: Array(repeating: 7, count: 32), signingKey: Array(repeating: 9, count: 32),
            logger: Logger(label: "test"), clock: WallClock { Self.t0 + 100 * Self.day })
        try trace.addProducer(
            Producer(id: "P1", name: "连州市丰收蔬菜专业合作社", creditCode: "91350100M000100Y43", contact: "陈伟", phone: "13812341234",
                address: "清远市连州市保安镇", areaCode: "441882"),
            by: "test")
        try trace.addPlot(
            Plot(id: "PLOT1", producer: "P1", name: "卿罡村3号地", location: "广东省清远市连州市保安镇卿罡村", area: 12.5, areaCode: "441882",
                 devices: ["wx-1"]),
            by: "test")
        try trace.createBatch(
            Batch(id: "B1", plot: "PLOT1", product: "菜心", variety: "连州菜心", quantity: 500, unit: "kg", plantingDate: Self.t0),
            by: "test")
        try trace.addEvent(
            batch: "B1",
            TraceEvent(stage: .production, action: TraceAction.harvest, party: "陈伟", time: Self.t0 + 30 * Self.day, place: "卿罡村3号地"),
            by: "test")
        let code = try #require(try trace.issueCodes(batch: "B1", count: 1, by: "test").first)
        guard case .found(let view) = try trace.lookup(code.grouped, client: "c") else {
            Issue.record("code not found")
            return
        }
        var pages = TracePages(
            trace: trace,
            templates: try TracePages.loadTemplates(directory: ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/trace").path))
        let render = { pages.templates.render(pages.pageModel(view), withTemplate: "page") ?? "" }
        #expect(!render().contains("封存"), "no watch, no line")

        let watch = SealWatch(ledger: store, publicKey: chain.publicKey)
        pages.seals = watch
        #expect(render().contains("监测数据封存校验中"), "before the first check")
        watch.refresh()
        #expect(render().contains("监测数据已封存并验证（2025年3月1日至2025年3月31日，数字签名防篡改）"), "\(render())")
        let staff = SealNotes.staff(watch.current(), language: .zh, offsetMinutes: 480)
        #expect(!staff.failed && staff.text.hasPrefix("监测数据已封存并验证：2025-02-28T08:00 至 2025-04-10T08:00，41 个分桶、960 条读数"), "\(staff.text)")
        let english = SealNotes.staff(watch.current(), language: .en, offsetMinutes: 480)
        #expect(english.text.hasPrefix("Monitoring data sealed and verified"))

        // A block deleted past the store: the next check fails, and the pages say so.
        try sqlite3(path, "DELETE FROM blk_20250310;")
        watch.refresh()
        #expect(render().contains("监测数据封存校验未通过"), "\(render())")
        let failed = SealNotes.staff(watch.current(), language: .zh, offsetMinutes: 480)
        #expect(failed.failed && failed.text.contains("分桶 2025-03-10T08:00"), "\(failed.text)")
    }
}
