import Foundation
import Logging
import Mustache
import ShennongCore
import ShennongStore
import ShennongTestSupport
import ShennongTrace
import Testing

@testable import ShennongHTTP

/// The cached consumer page (a batch rendered once, a code's own values joined into its
/// holes) is byte for byte the page a whole render gives, and is rendered afresh when the
/// batch changes.
struct TracePageCacheTests {
    /// 2025-03-01T00:00:00+08:00.
    static let t0: Int64 = 1_740_758_400_000
    static let day: Int64 = 86_400_000

    struct Fixture {
        let directory: URL
        let store: Store
        let trace: Traceability
        let templates: MustacheLibrary

        init(cloneScanLimit: Int = 1_000) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("trace-cache-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false)
            var settings = TraceSettings()
            settings.cloneScanLimit = Int64(cloneScanLimit)
            trace = try Traceability(
                store: store, secret: Array(repeating: 7, count: 32), signingKey: Array(repeating: 9, count: 32),
                settings: settings, logger: Logger(label: "test"), clock: WallClock { TracePageCacheTests.t0 + 100 * TracePageCacheTests.day })
            templates = try TracePages.loadTemplates(
                directory: ShennongBinary.repositoryRoot.appendingPathComponent("dashboards/trace").path)
            try trace.addProducer(
                Producer(
                    id: "P1", name: "连州市丰收<蔬菜>专业合作社", creditCode: "91350100M000100Y43", contact: "陈伟", phone: "13812341234",
                    address: "清远市连州市保安镇", areaCode: "441882"),
                by: "test")
            try trace.addPlot(
                Plot(id: "PLOT1", producer: "P1", name: "卿罡村3号地", location: "广东省清远市连州市保安镇卿罡村", area: 12.5, areaCode: "441882"),
                by: "test")
            try trace.createBatch(
                Batch(id: "B1", plot: "PLOT1", product: "菜心", variety: "连州菜心", quantity: 500, unit: "kg", plantingDate: TracePageCacheTests.t0),
                by: "test")
        }

        func close() {
            try? store.close()
            try? FileManager.default.removeItem(at: directory)
        }

        func view(_ code: TraceCode, client: String = "c") throws -> TraceView {
            guard case .found(let view) = try trace.lookup(code.grouped, client: client) else {
                throw TraceError(.notFound, "code \(code) not found")
            }
            return view
        }

        func whole(_ view: TraceView) throws -> String {
            try #require(templates.render(PageModel(view), withTemplate: "page"))
        }

        func cached(_ cache: TracePageCache, _ view: TraceView, renders: inout Int) throws -> String {
            var count = 0
            let page = cache.page(view) {
                count += 1
                return templates.render($0, withTemplate: "page")
            }
            renders += count
            return try #require(page)
        }
    }

    @Test("every code's cached page equals its whole render, and the batch is rendered once")
    func equalToWholeRender() throws {
        let f = try Fixture()
        defer { f.close() }
        let codes = try f.trace.issueCodes(batch: "B1", count: 5, by: "test")
        let cache = TracePageCache()
        var renders = 0
        for (i, code) in codes.enumerated() {
            for _ in 0...i {
                let view = try f.view(code)
                let page = try f.cached(cache, view, renders: &renders)
                #expect(page == (try f.whole(view)))
                #expect(page.contains(code.grouped))
                #expect(page.contains("此码已被查询\(view.scans.count)次"))
            }
        }
        #expect(renders == 1, "one render for the batch, not one per scan")
    }

    @Test("a new event, a recall or a suspect code renders afresh; an item's own events are never cached")
    func changesRenderAfresh() throws {
        let f = try Fixture(cloneScanLimit: 2)
        defer { f.close() }
        let codes = try f.trace.issueCodes(batch: "B1", count: 2, by: "test")
        let cache = TracePageCache()
        var renders = 0
        _ = try f.cached(cache, try f.view(codes[0]), renders: &renders)
        #expect(renders == 1)

        try f.trace.addEvent(
            batch: "B1",
            TraceEvent(stage: .production, action: TraceAction.harvest, party: "陈伟", time: Self.t0 + 30 * Self.day, place: "卿罡村3号地"),
            by: "test")
        var view = try f.view(codes[1])
        var page = try f.cached(cache, view, renders: &renders)
        #expect(renders == 2)
        #expect(page == (try f.whole(view)))
        #expect(page.contains("卿罡村3号地"))

        // The third scan of codes[1] passes the clone limit: the suspect section shows.
        view = try f.view(codes[1])
        view = try f.view(codes[1])
        #expect(view.suspect)
        page = try f.cached(cache, view, renders: &renders)
        #expect(renders == 3)
        #expect(page == (try f.whole(view)))

        // An event of one item: that code's page is its own, rendered whole each time.
        try f.trace.addEvent(
            batch: "B1",
            TraceEvent(stage: .sales, action: TraceAction.retailSelling, party: "菜市场", time: Self.t0 + 40 * Self.day, place: "连州菜市场", item: codes[0].compact),
            by: "test")
        for _ in 0..<2 {
            view = try f.view(codes[0])
            page = try f.cached(cache, view, renders: &renders)
            #expect(page == (try f.whole(view)))
        }
        #expect(renders == 5)

        // codes[1] has no item events: its page is rendered for the batch's new head once,
        // then cached again; a recall renders afresh.
        for _ in 0..<2 {
            view = try f.view(codes[1])
            page = try f.cached(cache, view, renders: &renders)
            #expect(page == (try f.whole(view)))
        }
        #expect(renders == 6)
        try f.trace.recall(batch: "B1", reason: "农残超标", by: "test")
        view = try f.view(codes[1])
        page = try f.cached(cache, view, renders: &renders)
        #expect(renders == 7)
        #expect(page == (try f.whole(view)))
        #expect(page.contains("农残超标"))
    }

    @Test("a new seal line (the variant) renders afresh and shows on the page")
    func variantRendersAfresh() throws {
        let f = try Fixture()
        defer { f.close() }
        let code = try #require(try f.trace.issueCodes(batch: "B1", count: 1, by: "test").first)
        let cache = TracePageCache()
        var renders = 0
        func page(_ variant: String) throws -> String {
            let view = try f.view(code)
            return try #require(
                cache.page(view, variant: variant, model: { PageModel($0) }) { model in
                    renders += 1
                    // The variant reaches the page as the model would carry it.
                    return f.templates.render(model, withTemplate: "page").map { $0 + "<!--\(variant)-->" }
                })
        }
        #expect(try page("核验中").hasSuffix("<!--核验中-->"))
        #expect(try page("核验中").hasSuffix("<!--核验中-->"))
        #expect(renders == 1)
        #expect(try page("已封存并验证").hasSuffix("<!--已封存并验证-->"))
        #expect(renders == 2)
    }

    @Test("values are escaped as Mustache escapes them; stored text cannot forge a hole")
    func escaping() {
        #expect(TracePageCache.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(TracePageCache.escape("0123-4567") == "0123-4567")
    }
}
