import Foundation
import ShennongAlerts
import ShennongCore
import ShennongStore
@testable import ShennongRules

/// 2025-11-21T00:00:00+08:00, a local midnight.
let t0: Int64 = 1_763_654_400_000
let minute: Int64 = 60_000
let hour: Int64 = 3_600_000

func device(_ id: String = "dev-1", domain: Domain = .water, profile: String = "generic", site: String? = "pond-a") -> Device {
    Device(id: id, profile: profile, domain: domain, site: site, createdAt: t0 - 86_400_000)
}

/// A level change as the tests write them: at minute `m` (from t0), from → to.
struct Step: Equatable, CustomStringConvertible {
    var minute: Int64
    var from: AlertLevel?
    var to: AlertLevel?

    init(_ minute: Int64, _ from: AlertLevel?, _ to: AlertLevel?) {
        self.minute = minute
        self.from = from
        self.to = to
    }

    init(_ change: AlertLevelChange) {
        minute = (change.at - t0) / 60_000
        from = change.from
        to = change.to
    }

    var description: String { "@\(minute)m \(from?.name ?? "none")→\(to?.name ?? "none")" }
}

/// Parses one rule from YAML (the rule list's first entry); fails the test on errors.
func rule(_ yaml: String) throws -> Rule {
    let parsed = RuleParser.parse(yaml: "rules:\n" + yaml.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"), file: "test.yaml")
    guard parsed.errors.isEmpty, let first = parsed.rules.first else {
        throw RuleTestError(description: "rule did not parse: \(parsed.errors)")
    }
    return first
}

struct RuleTestError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `rules` over readings of one device, one burst per reading (as a live stream),
/// with `now` just after each reading (never late), and returns every level change.
func changes(
    _ rules: [Rule], device d: Device = device(), metric: String, _ series: [(Int64, Double)], stored: [Reading] = []
) throws -> [AlertLevelChange] {
    let engine = AlertEngine(rules: rules, options: EngineOptions(lateAfter: hour))
    engine.setDevices([(d, nil)])
    var out: [AlertLevelChange] = []
    for (m, value) in series {
        let r = Reading(device: d.id, metric: metric, timestamp: t0 + m * minute, value: value)
        let result = try engine.evaluate(readings: [r], now: r.timestamp + 1000, history: { requests in
            requests.map { q in stored.filter { $0.device == q.device && $0.metric == q.metric && $0.timestamp >= q.from && $0.timestamp < q.to } }
        })
        engine.committed(result)
        out += result.changes
    }
    return out
}

func steps(_ changes: [AlertLevelChange]) -> [Step] { changes.map(Step.init) }

/// A fresh store in a temporary directory.
func temporaryStore() throws -> (Store, URL) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shennong-rules-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return (try Store(path: dir.appendingPathComponent("t.db").path, durable: false), dir)
}
