import ShennongAlerts
import ShennongCore

/// `shennong rules replay`: the rules run over a device's stored history, writing nothing.
///
/// The stored readings are played in time order as the live server would have received them,
/// each reading's time standing for its receive time. Silence rules are replayed the way the
/// server runs them: a reading means the device was heard (``AlertEngine/evaluate``'s `seen`),
/// and between readings the silence check runs at every multiple of `checkInterval` (the
/// server's `rules.check_interval`), so a gap in the history raises and clears the silence
/// levels it would have raised live. When the device was last heard before `from` is read
/// from the readings stored before it (as far back as the highest silence level needs).
/// Presence reports (`offline` last wills) are not stored, so they are not replayed.
public enum RuleReplay {
    /// The level changes the rules would have made for `device` over `[from, to)`, in order.
    /// Windows start from the readings stored before `from`.
    /// - Parameters:
    ///   - expectedInterval: the device's reporting interval (ms), from its profile, as the
    ///     server's engine has it (a duration's default max gap is three of them; silence is
    ///     counted in them).
    ///   - checkInterval: how often (ms) the server checks silence (`rules.check_interval`).
    ///   - now: the wall clock: silence is not checked past it (a `to` in the future).
    public static func run(
        rules: [Rule], store: any AlertStore & DeviceRegistry & ReadingQueries, device id: String, from: Int64, to: Int64,
        limit: Int = 1_000_000, expectedInterval: @escaping (Device) -> Int64? = { _ in nil }, checkInterval: Int64 = 30_000,
        now: Int64? = nil
    ) throws -> [AlertLevelChange] {
        guard let device = try store.device(id: id) else { throw StoreError(.notFound, "no device \(id)") }
        let options = EngineOptions(lateAfter: nil)
        let engine = AlertEngine(rules: rules, options: options, expectedInterval: expectedInterval)
        let interval = expectedInterval(device) ?? options.defaultInterval
        let silence = rules.filter { rule in
            guard rule.enabled, case .silence = rule.condition else { return false }
            return rule.applies(to: device)
        }
        let check = max(1000, checkInterval)
        let end = min(to, now.map { $0 + 1 } ?? to)
        var heard: Int64?
        if !silence.isEmpty { heard = try lastHeard(device, before: from, rules: silence, interval: interval, store: store) }
        engine.setDevices([(device, heard)])
        let readings = try store.readings(device: id, from: from, to: to, limit: limit).sorted {
            ($0.timestamp, $0.metric) < ($1.timestamp, $1.metric)
        }
        var changes: [AlertLevelChange] = []
        /// The next silence check after `t` (a multiple of the check interval).
        func tick(after t: Int64) -> Int64 { (t / check + 1) * check }
        // Before the device was registered the server had nothing of it to check (a replay
        // `from=0` would otherwise tick every 30 s since 1970).
        var nextCheck = tick(after: max(from, device.createdAt) - 1)
        /// Silence checks at every tick before `t`, as the server's periodic check makes them.
        func checkSilence(before t: Int64) {
            guard !silence.isEmpty else { return }
            while nextCheck < t {
                let out = engine.checkSilence(now: nextCheck)
                engine.committed(out)
                changes += out.changes
                nextCheck += check
            }
        }
        var start = 0
        while start < readings.count {
            // A burst: readings up to the next silence check (at most 5000, and whole
            // timestamps, so windows rebuild once, before `from`).
            checkSilence(before: readings[start].timestamp)
            var stop = min(readings.count, start + 5000)
            if !silence.isEmpty {
                let boundary = tick(after: readings[start].timestamp - 1)
                var k = start + 1
                while k < stop && readings[k].timestamp < boundary { k += 1 }
                stop = k
            }
            while stop < readings.count && readings[stop].timestamp == readings[stop - 1].timestamp { stop += 1 }
            let last = readings[stop - 1].timestamp
            let out = try engine.evaluate(
                readings: Array(readings[start..<stop]), seen: silence.isEmpty ? [:] : [id: last], now: last,
                history: { try store.history($0) })
            engine.committed(out)
            changes += out.changes
            start = stop
        }
        checkSilence(before: end)
        return changes
    }

    /// When `device` was last heard before `from`: its newest stored reading within the span
    /// the highest silence level needs (a longer silence is that level too), else the start of
    /// that span (or when it was registered, if later).
    static func lastHeard(
        _ device: Device, before from: Int64, rules: [Rule], interval: Int64, store: any ReadingQueries
    ) throws -> Int64 {
        var span: Int64 = interval
        for rule in rules {
            guard case .silence(let own, _) = rule.condition else { continue }
            let factor = rule.levels.values.map(\.threshold).max() ?? 1
            span = max(span, Int64((Double(own ?? interval) * (factor + 1)).rounded(.up)))
        }
        let start = max(device.createdAt, from - span)
        guard start < from else { return device.createdAt }
        let newest = try store.readings(device: device.id, from: start, to: from, limit: 100_000).map(\.timestamp).max()
        return newest ?? start
    }
}
