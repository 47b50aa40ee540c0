import Foundation
import ShennongCore
import ShennongIngest
import ShennongSimulator
import ShennongTestSupport
import Testing

struct SimulationModelTests {
    let model = SimulationModel(seed: 7)
    let devices = SimulationModel.devices(count: 10)
    /// 2025-11-21T00:00:00+08:00
    let midnightLocal: Int64 = 1_763_654_400_000

    @Test func devicesCoverEveryDomain() {
        #expect(Set(devices.map(\.domain)) == Set(Domain.deviceDomains))
        #expect(Set(devices.map(\.id)).count == devices.count)
        #expect(devices.allSatisfy { Device.isValidID($0.id) })
    }

    @Test func everyValueIsACanonicalMetricInsideItsPhysicalRange() {
        for device in devices {
            for hour in stride(from: 0, to: 24 * 14, by: 1) {
                let values = model.values(for: device, at: midnightLocal + Int64(hour) * 3_600_000, interval: 300_000)
                for (name, value) in values {
                    let metric = MetricCatalogue.metric(named: name)
                    #expect(metric != nil, "\(name)")
                    #expect(metric?.accepts(value) == true, "\(device.id) \(name) = \(value)")
                }
            }
        }
    }

    @Test func dissolvedOxygenSagsAtDawnAndPeaksInTheAfternoon() {
        let pond = devices.first { $0.domain == .water }!
        func oxygen(hour: Int64) -> Double {
            model.values(for: pond, at: midnightLocal + hour * 3_600_000, interval: 300_000)["dissolved_oxygen"]!
        }
        #expect(oxygen(hour: 5) < 4.5)
        #expect(oxygen(hour: 16) > 7.5)
        #expect(oxygen(hour: 5) < oxygen(hour: 10))
    }

    @Test func rainWetsTheSoilAndSoilDriesBetweenRains() {
        let soil = devices.first { $0.domain == .soil }!
        let hours = (0..<(24 * 60)).map { midnightLocal + Int64($0) * 3_600_000 }
        let rainy = hours.filter { model.rainRate($0) > 5 }
        #expect(!rainy.isEmpty, "two months without a real rain")
        // After a rain, moisture is higher than in the driest hour of the period.
        let moisture = { (t: Int64) in model.values(for: soil, at: t, interval: 1_800_000)["soil_moisture"]! }
        let driest = hours.map(moisture).min()!
        #expect(rainy.contains { moisture($0 + 3_600_000) > driest + 2 })
        // Same seed, same readings; another seed, other readings.
        #expect(SimulationModel(seed: 7).values(for: soil, at: hours[100], interval: 1000) == model.values(for: soil, at: hours[100], interval: 1000))
        #expect(SimulationModel(seed: 8).values(for: soil, at: hours[100], interval: 1000) != model.values(for: soil, at: hours[100], interval: 1000))
    }
}

@Suite(.serialized, .timeLimit(.minutes(5)))
struct SimulatorIntegrationTests {
    @Test("shennong simulate publishes through libmosquitto and the server stores every reading")
    func simulateIntoServer() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(brokerPort: broker.port)
        try await server.start()
        let run = try ShennongBinary.run([
            "simulate", "--devices", "10", "--rate", "200", "--count", "40", "--port", "\(broker.port)", "--seed", "3",
        ])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("published 40 messages"))
        // 40 messages over 10 devices: 4 reports each of every metric of its domain.
        let model = SimulationModel(seed: 3)
        let expected = SimulationModel.devices(count: 10).reduce(0) {
            $0 + 4 * model.values(for: $1, at: 0, interval: 1000).count
        }
        let stored = await eventually(timeout: 20) { (try? server.storedReadings()) == expected }
        #expect(stored, "stored \((try? server.storedReadings()) ?? -1), expected \(expected)")
        let (_, devices) = try await server.get("/api/v1/devices")
        let list = devices["devices"] as? [[String: Any]] ?? []
        #expect(list.count == 10)
        #expect(Set(list.compactMap { $0["domain"] as? String }) == ["water", "soil", "weather", "fire", "flood"])
        let rejects = try await server.get("/api/v1/rejects").json["rejects"] as? [Any]
        #expect(rejects?.isEmpty == true)
        #expect(server.terminate() == 0)
    }
}

/// The scripted scenarios: deterministic for a seed, and shaped as their story says.
struct ScenarioTests {
    /// 2025-11-21T12:00:00+08:00
    let end: Int64 = 1_763_697_600_000

    func series(_ messages: [Scenario.Message], _ device: String, _ metric: String) -> [(ts: Int64, v: Double)] {
        messages.filter { $0.device == device }.compactMap { m in m.values[metric].map { (m.ts, $0) } }
    }

    @Test("every scenario: same seed, same bytes; another seed, other bytes; canonical values in range; ends at `end`",
          arguments: Scenario.allCases)
    func deterministic(_ scenario: Scenario) {
        let a = scenario.messages(seed: 11, end: end)
        #expect(!a.isEmpty)
        #expect(a == scenario.messages(seed: 11, end: end))
        #expect(a.map(\.bytes) == scenario.messages(seed: 11, end: end).map(\.bytes))
        #expect(a.map(\.bytes) != scenario.messages(seed: 12, end: end).map(\.bytes))
        #expect(a.map(\.ts).max() == end)
        for message in a {
            #expect(Device.isValidID(message.device))
            for (name, value) in message.values {
                #expect(MetricCatalogue.metric(named: name)?.accepts(value) == true, "\(scenario) \(message.device) \(name) = \(value)")
            }
        }
    }

    @Test("drought: four weeks without rain; relative moisture crosses 60, 50, 40 and 30 % in order and stays dry")
    func drought() {
        let script = Scenario.drought.messages(seed: 5, end: end)
        let r = series(script, "sim-drought-001", "soil_relative_moisture")
        #expect(r.count == script.count)
        #expect(r.last!.ts - r.first!.ts >= 27 * 86_400_000)
        #expect(r.first!.v > 70)
        #expect(r.last!.v < 30)
        let crossings = [60.0, 50, 40, 30].map { grade in r.firstIndex { $0.v <= grade }! }
        #expect(crossings == crossings.sorted())
        // Each grade is held for days, far beyond the preset's 6 h: no bounce back above it by more than noise.
        for (grade, index) in zip([60.0, 50, 40, 30], crossings) {
            #expect(r[index...].allSatisfy { $0.v <= grade + 1.5 }, "back above \(grade)")
        }
        // Volumetric moisture follows field capacity × R.
        let vol = series(script, "sim-drought-001", "soil_moisture")
        #expect(zip(vol, r).allSatisfy { abs($0.v - $1.v * 0.36) < 0.11 })
    }

    @Test("fire: hotter, drier, windier days without rain; then the fire-watch node's IR, smoke, CO and flame alarms")
    func fire() {
        let script = Scenario.fire.messages(seed: 5, end: end)
        #expect(series(script, "sim-aws-fire", "rainfall").allSatisfy { $0.v == 0 })
        let temps = series(script, "sim-aws-fire", "air_temp")
        let humidity = series(script, "sim-aws-fire", "relative_humidity")
        let firstDay = temps.prefix(24).map(\.v).max()!, lastDay = temps.suffix(24).map(\.v).max()!
        #expect(lastDay - firstDay > 6, "\(firstDay) → \(lastDay)")
        #expect(humidity.suffix(24).map(\.v).min()! < 25)
        #expect(humidity.prefix(24).map(\.v).min()! > 50)
        let flame = series(script, "sim-firewatch-001", "flame")
        let firstFlame = flame.firstIndex { $0.v == 1 }!
        #expect(flame[..<firstFlame].allSatisfy { $0.v == 0 })
        #expect(flame[firstFlame...].allSatisfy { $0.v == 1 })
        #expect(flame.last!.ts == end)
        let smoke = series(script, "sim-firewatch-001", "smoke")
        #expect(smoke.map(\.v).max()! >= 5)
        #expect(series(script, "sim-firewatch-001", "co").map(\.v).max()! >= 50)
        // The alarm comes after the fire weather: only the last half hour holds smoke above 1.
        #expect(smoke.filter { $0.v >= 1 }.allSatisfy { end - $0.ts < 30 * 60_000 })
        #expect(script.map(\.ts) == script.map(\.ts).sorted())
    }

    @Test("silent: an hour of minute reports, then only the retained offline of its last will")
    func silent() {
        let script = Scenario.silent.messages(seed: 5, end: end)
        let last = script.last!
        #expect(last.topic == .status && last.retain && last.bytes == Array("offline".utf8) && last.device == "sim-silent-001")
        let telemetry = script.dropLast()
        #expect(telemetry.allSatisfy { $0.topic == .telemetry && !$0.retain && $0.device == "sim-silent-001" })
        #expect(telemetry.count == 60)
        #expect(zip(telemetry, telemetry.dropFirst()).allSatisfy { $1.ts - $0.ts == 60_000 })
    }

    @Test("backfill: the DTU gateway's buffered frames as arrays with their own past times, decoded by the dtu-gateway profile")
    func backfill() throws {
        let script = Scenario.backfill.messages(seed: 5, end: end)
        let profiles = try ProfileRegistry.load(directory: ShennongBinary.repositoryRoot.appendingPathComponent("devices").path)
        let gateway = try #require(profiles["dtu-gateway"])
        // The gateway is registered with that profile before it plays (serve --scenario does it).
        #expect(Scenario.backfill.registrations.map(\.profile) == ["dtu-gateway"])
        #expect(Scenario.backfill.registrations.map(\.id) == ["sim-dtu-001"])
        #expect(script.allSatisfy { $0.device == "sim-dtu-001" && $0.topic == .telemetry && $0.payload != nil })
        // All but the last are arrays (the flush); the last is one live frame.
        #expect(script.dropLast().allSatisfy { $0.bytes.first == UInt8(ascii: "[") })
        #expect(script.last!.bytes.first == UInt8(ascii: "{"))
        var readings: [Reading] = []
        for message in script {
            // Received at `end`: the flushed frames are hours older than their arrival.
            let (result, children) = PayloadDecoder.decodeMessage(
                message.bytes, device: message.device, profile: gateway, receivedAt: end,
                profileOf: { _ in profiles[gateway.gateway!.childProfile] })
            #expect(result.rejections.isEmpty, "\(result.rejections)")
            #expect(Set(children) == ["sim-dtu-pond-01", "sim-dtu-pond-02"])
            readings += result.readings
        }
        // 73 frames (6 h every 5 min, and the live one) × 2 ponds × DO, temperature, aerator.
        #expect(readings.count == 73 * 2 * 3)
        #expect(Set(readings.map(\.metric)) == ["dissolved_oxygen", "water_temp", "aerator_on"])
        let times = Set(readings.map(\.timestamp)).sorted()
        #expect(times.count == 73 && times.first == end - 6 * 3_600_000 && times.last == end)
        // Pond 02's oxygen crash is inside the outage, more than an hour before the flush.
        let crash = readings.filter { $0.device == "sim-dtu-pond-02" && $0.metric == "dissolved_oxygen" && $0.value < 2 }
        #expect(!crash.isEmpty)
        #expect(crash.allSatisfy { end - $0.timestamp > 3_600_000 })
    }
}
