import ShennongAlerts
import ShennongCommands
import ShennongCore

/// Verification by the process: a confirmed command whose profile names an effect (an aerator
/// raises dissolved oxygen) is judged once its `rises_within` has passed. If the actuator still
/// reports the commanded state and the metric is not above its value at the confirmation, the
/// ``noEffectRule`` alert is raised (orange, the profile's title: 增氧机运行中溶解氧仍下降); a
/// later command whose effect shows clears it.
extension CommandCenter {
    /// The rule id of the alert raised when an actuator runs without effect.
    public static let noEffectRule = "actuator-no-effect"

    /// Scans the confirmed commands of the last day at most every 5 s.
    func checkEffects() throws {
        let now = clock.now()
        let due = effects.withLock { state -> Bool in
            guard now - state.scannedAt >= 5000 else { return false }
            state.scannedAt = now
            return true
        }
        guard due else { return }
        let judged = effects.withLock { $0.judged }
        let candidates = try store.commands(CommandQuery(states: [.acknowledged], issuedSince: now - 86_400_000, limit: 10_000))
        for command in candidates where command.confirmedAt != nil && !judged.contains(command.id) {
            guard let device = try store.device(id: command.device), let spec = spec(device: device, name: command.name),
                let effect = spec.effect, let confirmedAt = command.confirmedAt, let state = command.confirm
            else {
                effects.withLock { _ = $0.judged.insert(command.id) }
                continue
            }
            let deadline = confirmedAt + Int64(effect.risesWithin) * 1000
            guard now >= deadline else { continue }
            effects.withLock { _ = $0.judged.insert(command.id) }
            // The actuator must still be in the commanded state (a stop since then ends the judgement).
            let stateNow = try store.readings(device: command.device, metric: state.metric, from: confirmedAt, to: now + 1).last
            guard stateNow == nil || stateNow!.value == state.value else { continue }
            let before = try store.readings(device: command.device, metric: effect.metric, from: confirmedAt - 3_600_000, to: confirmedAt + 1).last
            let after = try store.readings(device: command.device, metric: effect.metric, from: confirmedAt, to: now + 1).last
            guard let before, let after, after.timestamp > before.timestamp else { continue }
            let name = MetricCatalogue.metric(named: effect.metric)?.chineseName ?? effect.metric
            if after.value <= before.value {
                alert(
                    rule: Self.noEffectRule, device: command.device, metric: effect.metric, level: .orange, value: after.value,
                    title: effect.title,
                    message: "\(command.name)（\(command.id)）运行 \(effect.risesWithin / 60) 分钟后\(name)仍为 \(JSONValue.format(after.value))（确认时 \(JSONValue.format(before.value))）：请检查叶轮、电源，或增氧能力不足。")
                logger.warning(
                    "actuator runs without effect",
                    metadata: ["device": "\(command.device)", "command": "\(command.id)", "metric": "\(effect.metric)"])
            } else {
                alert(
                    rule: Self.noEffectRule, device: command.device, metric: effect.metric, level: nil, value: after.value,
                    title: effect.title, message: "\(name)已回升 recovered")
            }
        }
    }
}
