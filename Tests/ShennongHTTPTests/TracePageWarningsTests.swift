import Foundation
import Logging
import ShennongCore
import ShennongStore
import ShennongTestSupport
import ShennongTrace
import Testing

@testable import ShennongHTTP

/// The consumer trace page's warnings table names each warning's rule as people read it
/// (its Chinese name), never by its id.
struct TracePageWarningsTests {
    /// 2025-03-01T00:00:00+08:00.
    static let t0: Int64 = 1_740_758_400_000
    static let day: Int64 = 86_400_000

    /// Two warnings on the plot's sensor: one with the rule's name recorded, one frozen
    /// before names were (only the id).
    struct Warnings: WarningHistory {
        func warnings(devices: [String], from: Int64, to: Int64) throws -> [WarningRecord] {
            [
                WarningRecord(
                    level: "orange", rule: "fire-danger", ruleName: "森林火险等级", device: devices[0], raisedAt: from + 1000,
                    closedAt: from + 2000, closedBy: "陈伟", note: "加强巡山"),
                WarningRecord(level: "yellow", rule: "soil-drought", device: devices[0], raisedAt: from + 3000),
            ]
        }
    }

    @Test("the warnings table shows 森林火险等级, not fire-danger; a warning without a recorded name falls back to its id")
    func ruleNamesOnPage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trace-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false)
        defer { try? store.close() }
        let trace = try Traceability(
            store: store, secret: Array(repeating: 7, count: 32), signingKey: Array(repeating: 9, count: 32),
            warnings: Warnings(), logger: Logger(label: "test"), clock: WallClock { Self.t0 + 100 * Self.day })
        try trace.addProducer(
            Producer(
                id: "P1", name: "连州市丰收蔬菜专业合作社", creditCode: "91350100M000100Y43", contact: "陈伟", phone: "13812341234",
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
        let templates = try TracePages.loadTemplates(
            directory: ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/trace").path)
        let page = try #require(templates.render(PageModel(view), withTemplate: "page"))
        #expect(page.contains("<td>橙色</td><td>森林火险等级</td>"), "\(page)")
        #expect(!page.contains("fire-danger"))
        #expect(page.contains("<td>黄色</td><td>soil-drought</td>"))
    }
}
