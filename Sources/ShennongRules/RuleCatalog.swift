import Foundation
import ShennongAlerts
import ShennongCore
import Synchronization

/// The rules in force, shared by the evaluator, the API and the notifiers; replaced on SIGHUP.
public final class RuleCatalog: Sendable {
    private let state: Mutex<(rules: [Rule], errors: [RuleFileError], loadedAt: Int64)>
    private let clock: WallClock

    public init(rules: [Rule], errors: [RuleFileError] = [], clock: WallClock = .system) {
        self.clock = clock
        state = Mutex((rules, errors, clock.now()))
    }

    public var rules: [Rule] { state.withLock { $0.rules } }
    /// Problems found at the last load (those rules are left out).
    public var errors: [RuleFileError] { state.withLock { $0.errors } }
    public var loadedAt: Int64 { state.withLock { $0.loadedAt } }

    public func rule(id: String) -> Rule? { state.withLock { $0.rules.first { $0.id == id } } }

    public func replace(rules: [Rule], errors: [RuleFileError]) {
        let now = clock.now()
        state.withLock { $0 = (rules, errors, now) }
    }
}

/// `shennong rules replay`: the rules run over a device's stored history, writing nothing.
public enum RuleReplay {
    /// The level changes the rules would have made for `device` over `[from, to)`, in order.
    /// Windows start from the readings stored before `from`; silence is not replayed.
    /// - Parameter expectedInterval: the device's reporting interval (ms), from its profile, as
    ///   the server's engine has it (a duration's default max gap is three of them).
    public static func run(
        rules: [Rule], store: any AlertStore & DeviceRegistry & ReadingQueries, device id: String, from: Int64, to: Int64,
        limit: Int = 1_000_000, expectedInterval: @escaping (Device) -> Int64? = { _ in nil }
    ) throws -> [AlertLevelChange] {
        guard let device = try store.device(id: id) else { throw StoreError(.notFound, "no device \(id)") }
        let engine = AlertEngine(rules: rules, options: EngineOptions(lateAfter: nil), expectedInterval: expectedInterval)
        engine.setDevices([(device, nil)])
        let readings = try store.readings(device: id, from: from, to: to, limit: limit).sorted {
            ($0.timestamp, $0.metric) < ($1.timestamp, $1.metric)
        }
        var changes: [AlertLevelChange] = []
        var start = 0
        // Chunks of one timestamp's worth at least, so windows rebuild once, before `from`.
        while start < readings.count {
            let end = min(readings.count, start + 5000)
            let out = try engine.evaluate(readings: Array(readings[start..<end]), now: readings[end - 1].timestamp, history: { try store.history($0) })
            engine.committed(out)
            changes += out.changes
            start = end
        }
        return changes
    }
}
