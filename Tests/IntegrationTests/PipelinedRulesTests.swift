import Foundation
import Logging
import MosquittoClient
import ShennongAlerts
import ShennongCore
import ShennongIngest
import ShennongRules
import ShennongStore
import Synchronization
import Testing

@testable import ShennongServer

/// The rules stage inside the pipelined ingest, in process: an ``IngestPipeline`` with a
/// ``RulesStage`` on a real SQLite file, bursts fed through `prepare`/`commit`/`dropped` in the
/// orders the MQTT connection uses (burst N+1 prepared before burst N commits).
@Suite(.serialized)
struct PipelinedRulesTests {
    /// A store, the server's rules stage (rules loaded from a rule directory like `serve`
    /// does, an ``AlertNotifier`` without MQTT or webhooks) and the ingest pipeline observing it.
    final class Fixture: @unchecked Sendable {
        // Invariant for @unchecked Sendable: immutable after init; `pipeline` and `stage` are
        // themselves safe to share (the tests call prepare from one thread at a time).
        let directory: URL
        let store: Store
        let rules: [Rule]
        let stage: RulesStage
        let pipeline: IngestPipeline

        /// `databaseDirectory`: where the SQLite file goes (a small file system, say); else a temporary directory.
        init(rulesYAML: String, databaseDirectory: URL? = nil) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-pipelined-\(UUID().uuidString)")
            let rulesDirectory = directory.appendingPathComponent("rules")
            try FileManager.default.createDirectory(at: rulesDirectory, withIntermediateDirectories: true)
            try rulesYAML.write(to: rulesDirectory.appendingPathComponent("test.yaml"), atomically: true, encoding: .utf8)
            let (rules, errors) = RuleLoader.load(directory: rulesDirectory.path)
            guard errors.isEmpty, !rules.isEmpty else { throw FixtureError(description: "rules did not load: \(errors)") }
            self.rules = rules
            let logger = Logger(label: "shennong.test", factory: { _ in SwiftLogNoOpLogHandler() })
            store = try Store(
                path: (databaseDirectory ?? directory).appendingPathComponent("shennong.db").path, durable: false, logger: logger)
            let settings = ServerConfig.Rules()
            let notifier = try AlertNotifier(
                config: settings, outbox: store, topicPrefix: "agri", mqtt: nil, catalog: RuleCatalog(rules: rules), logger: logger)
            let profiles = [DeviceProfile.generic.name: DeviceProfile.generic]
            stage = try RulesStage(
                store: store, rules: rules, options: EngineOptions(lateAfter: settings.lateAfter), profiles: profiles,
                notifier: notifier, logger: logger)
            pipeline = IngestPipeline(
                store: store, profiles: profiles, topics: TopicScheme(prefix: "agri"), options: IngestOptions(),
                observer: stage, logger: logger)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func alerts(_ device: String) throws -> [AlertRecord] { try store.alerts(AlertQuery(device: device)) }
    }

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    /// A minute boundary half an hour ago: readings from it are neither late nor in the future.
    static let base: Int64 = {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return (now - 30 * 60_000) / 60_000 * 60_000
    }()

    static func message(_ device: String, minute m: Int64, _ values: [String: Double]) -> MQTTMessage {
        let fields = values.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        return MQTTMessage(
            topic: "agri/\(device)/telemetry", payload: Array("{\"ts\": \(base + m * 60_000), \"values\": {\(fields)}}".utf8))
    }

    static let stageRules = """
        rules:
          - id: stage-p
            name: stage-p
            source: test
            metric: water_level
            condition: { kind: threshold }
            levels:
              yellow: { at_least: 3 }
              orange: { at_least: 3, for: 10m }
        """

    @Test("burst 2 prepared on top of burst 1 before burst 1 commits: one alert, raised once, escalated by burst 2's reading")
    func pipelinedOrder() throws {
        let f = try Fixture(rulesYAML: Self.stageRules)
        // Burst 1 crosses yellow (orange starts its 10 minutes); burst 2, 10 minutes later, is
        // still above: orange is raised only if burst 2 builds on burst 1's unwritten evaluation.
        let first = f.pipeline.prepare([Self.message("gauge-p", minute: 0, ["water_level": 3.5])])
        let second = f.pipeline.prepare([Self.message("gauge-p", minute: 10, ["water_level": 3.6])])
        #expect(try f.alerts("gauge-p").isEmpty, "nothing is written before the commit")

        try f.pipeline.commit(first)
        // Burst 1's commit writes burst 1's evaluation only, though the engine already holds burst 2's.
        let afterFirst = try f.alerts("gauge-p")
        #expect(afterFirst.map(\.level) == [AlertLevel.yellow])
        #expect(try f.store.ruleStates().map(\.level) == [AlertLevel.yellow])
        #expect(try f.store.ruleStates().map(\.watermark) == [Self.base])

        try f.pipeline.commit(second)
        let alerts = try f.alerts("gauge-p")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.rule == "stage-p" && alert.status == .open)
        #expect(alert.level == AlertLevel.orange, "level \(alert.level)")
        #expect(alert.raisedAt == Self.base)
        let kinds = try f.store.alertTransitions(id: alert.id).map(\.kind)
        #expect(kinds.filter { $0 == .raised }.count == 1, "\(kinds)")
        #expect(kinds.contains(.escalated), "\(kinds)")
        #expect(try f.store.ruleStates().map(\.watermark) == [Self.base + 10 * 60_000])
    }

    @Test("a prepared burst dropped (the one before failed) is evaluated again when redelivered: one alert")
    func droppedBurstIsEvaluatedAgain() throws {
        let f = try Fixture(rulesYAML: Self.stageRules)
        let burst = [Self.message("gauge-d", minute: 0, ["water_level": 3.5])]
        _ = f.pipeline.prepare(burst)
        // Its job never runs: the connection reports it dropped.
        f.pipeline.dropped()
        #expect(try f.alerts("gauge-d").isEmpty)
        #expect(try f.store.ruleStates().isEmpty)

        // The broker redelivers the same messages.
        try f.pipeline.commit(f.pipeline.prepare(burst))
        let alerts = try f.alerts("gauge-d")
        #expect(alerts.count == 1, "the redelivered reading must raise the alert the dropped burst's evaluation held")
        #expect(alerts.first?.level == AlertLevel.yellow)
        #expect(try f.store.alertTransitions(id: try #require(alerts.first).id).map(\.kind) == [.raised])
        #expect(try f.store.ruleStates().map(\.watermark) == [Self.base])
    }

    @Test("a burst whose commit fails (a full disk) is evaluated again when redelivered: one alert")
    func failedCommitIsEvaluatedAgain() throws {
        if let reason = DiskFullTests.cannotMount() {
            print("PipelinedRulesTests.failedCommitIsEvaluatedAgain skipped: \(reason)")
            Issue.record("skipped: \(reason)", severity: .warning)
            return
        }
        let fs = try DiskFullTests.SmallFileSystem(megabytes: 4)
        defer { fs.unmount() }
        let f = try Fixture(rulesYAML: Self.stageRules, databaseDirectory: fs.mountPoint)
        let burst = [Self.message("gauge-f", minute: 0, ["water_level": 3.5])]
        // Evaluated by the rules (the engine raises yellow in memory), then the disk is full.
        let prepared = f.pipeline.prepare(burst)
        #expect(fs.fill("filler") > 0)
        #expect(throws: (any Error).self, "the commit must fail on a full disk") { try f.pipeline.commit(prepared) }
        #expect(f.pipeline.storageError != nil)
        // Space returns; the broker redelivers the burst (nothing was prepared behind it).
        try FileManager.default.removeItem(at: fs.mountPoint.appendingPathComponent("filler"))
        try f.pipeline.commit(f.pipeline.prepare(burst))
        let alerts = try f.alerts("gauge-f")
        #expect(alerts.count == 1, "the failed burst's evaluation must be forgotten, else its reading is skipped")
        #expect(alerts.first?.level == AlertLevel.yellow)
        #expect(try f.store.alertTransitions(id: try #require(alerts.first).id).map(\.kind) == [.raised])
    }

    @Test("a window rebuilt while burst 1 is still committing waits for burst 1's commit and sums its readings")
    func historyWaitsForPreviousCommit() throws {
        let f = try Fixture(rulesYAML: """
            rules:
              - id: rain-1h
                name: rain-1h
                source: test
                metric: rainfall
                condition: { kind: window, aggregate: sum, window: 1h }
                levels:
                  yellow: { at_least: 10 }
            """)
        // Burst 1: 6 mm (below 10); nothing to write for the rule, so nothing unwritten either.
        let first = f.pipeline.prepare([
            Self.message("rain-p", minute: 0, ["rainfall": 3]), Self.message("rain-p", minute: 5, ["rainfall": 3]),
        ])
        // Once the rules have evaluated burst 1 (on their own thread), a SIGHUP: the runtimes go;
        // burst 2's window is rebuilt from stored readings, which must hold burst 1's.
        let evaluated = Date().addingTimeInterval(30)
        while !first.isObserved && Date() < evaluated { Thread.sleep(forTimeInterval: 0.005) }
        f.stage.reload(rules: f.rules)
        // The rules prepare burst 2 on their own thread, after `prepare` has returned.
        let second = f.pipeline.prepare([Self.message("rain-p", minute: 10, ["rainfall": 5])])
        // The rules' preparation of burst 2 cannot finish before burst 1's commit is even called
        // (a negative check: it never fails when the wait is there).
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!second.isObserved, "burst 2's window was rebuilt before burst 1 was committed")
        #expect(try f.store.history([HistoryRequest(device: "rain-p", metric: "rainfall", from: Self.base - 3_600_000, to: Self.base + 3_600_000)])
            .first?.isEmpty == true)

        try f.pipeline.commit(first)
        let deadline = Date().addingTimeInterval(30)
        while !second.isObserved && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(second.isObserved, "burst 2's preparation never ended after burst 1's commit")
        try f.pipeline.commit(second)

        let alerts = try f.alerts("rain-p")
        #expect(alerts.count == 1, "3 + 3 + 5 mm in the hour: \(alerts.map { ($0.level, $0.value) })")
        #expect(alerts.first?.level == AlertLevel.yellow)
        #expect(alerts.first?.value == 11, "the sum must hold burst 1's readings")
        #expect(alerts.first?.raisedAt == Self.base + 10 * 60_000)
    }
}
