import Foundation
import ShennongAlerts
import ShennongCore
import ShennongRules
import ShennongStore
import Testing

@testable import ShennongServer

/// The warnings the trace environment summary takes from the alerts store name their rule
/// in Chinese (the rule in force, else the name its alert's title was written with).
struct AlertWarningHistoryTests {
    static let t0: Int64 = 1_763_700_000_000

    @Test("warnings carry the rule's Chinese name from the rules in force, else from the alert's title")
    func ruleNames() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-warnings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("shennong.db").path, durable: false)
        defer { try? store.close() }
        try store.addDevice(Device(id: "aws-1", profile: "generic", domain: .weather, createdAt: Self.t0 - 86_400_000))
        func change(_ rule: String, _ title: String, at: Int64) -> AlertLevelChange {
            AlertLevelChange(
                rule: rule, device: "aws-1", domain: "weather", metric: nil, from: nil, to: .orange, value: 80, threshold: 73,
                at: at, late: false, title: title, message: "")
        }
        _ = try store.applyRuleEvaluation(
            states: [],
            changes: [
                change("fire-danger", "森林火险等级 Forest-fire danger (LY/T 1172) 橙色预警（II级 严重）— aws-1", at: Self.t0),
                change("old-frost", "旧霜冻规则 Old frost 橙色预警（II级 严重）— aws-1", at: Self.t0 + 1000),
            ],
            now: Self.t0 + 1000)
        let catalog = RuleCatalog(rules: [
            Rule(id: "fire-danger", name: "森林火险等级 Forest-fire danger (LY/T 1172)", metric: nil, condition: .derived(.fireDanger), levels: [:])
        ])
        let history = AlertWarningHistory(store: store, ruleName: { catalog.rule(id: $0)?.name })
        let records = try history.warnings(devices: ["aws-1"], from: Self.t0 - 1, to: Self.t0 + 10_000)
        #expect(records.map(\.rule) == ["fire-danger", "old-frost"])
        #expect(records.map(\.ruleName) == ["森林火险等级", "旧霜冻规则"])
        // Without the rules module (rules disabled): the titles still name them.
        let bare = try AlertWarningHistory(store: store).warnings(devices: ["aws-1"], from: Self.t0 - 1, to: Self.t0 + 10_000)
        #expect(bare.map(\.ruleName) == ["森林火险等级", "旧霜冻规则"])
        #expect(AlertWarningHistory.ruleName(title: "no level here") == nil)
        #expect(Rule.chineseName(of: "Nesterov 火险指数 Nesterov index") == "Nesterov 火险指数")
        #expect(Rule.chineseName(of: "池塘 pH 异常 Pond pH") == "池塘 pH 异常")
        #expect(Rule.chineseName(of: "Only English") == "Only English")
    }
}
