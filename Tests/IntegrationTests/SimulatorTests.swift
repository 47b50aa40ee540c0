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

/// The demo's county: where `serve --simulate` registers its devices (``DemoCounty``).
struct DemoCountyTests {
    static let root = ShennongBinary.repositoryRoot

    /// `make demo`'s device count (DEMO_DEVICES in the Makefile).
    static func demoCount() throws -> Int {
        let makefile = try String(contentsOf: root.appendingPathComponent("Makefile"), encoding: .utf8)
        let line = makefile.split(separator: "\n").first { $0.hasPrefix("DEMO_DEVICES") }
        return try #require(line.flatMap { Int($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) })
    }

    static func isChinese(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
    }

    @Test("Config/demo-devices.csv parses, is the simulator's own registry, and places every device of the default demo in Guangdong with a site and a Chinese name")
    func shippedRegistry() throws {
        let count = try Self.demoCount()
        let profiles = try ProfileRegistry.load(directory: Self.root.appendingPathComponent("devices").path)
        let text = try String(contentsOf: Self.root.appendingPathComponent("Config/demo-devices.csv"), encoding: .utf8)
        let parsed = try DeviceCSV.parse(text, createdAt: 0, profileDomain: { name in profiles[name].map { $0.domain } }).get()
        let simulated = Simulator.Options(devices: count, rate: 1).registrations
        #expect(simulated.count == count)
        // The file is the table `serve --simulate` registers, device for device.
        let byID = Dictionary(uniqueKeysWithValues: parsed.map { ($0.id, $0) })
        #expect(Set(byID.keys) == Set(simulated.map(\.id)))
        for device in simulated {
            #expect(byID[device.id] == device, "Config/demo-devices.csv differs from the simulator's table (DemoCounty) at \(device.id)")
        }
        #expect(simulated.map(\.id) == SimulationModel.devices(count: count).map(\.id))
        for device in simulated {
            #expect(device.profile == "generic", "\(device.id): the simulator publishes canonical names")
            #expect(device.site.map(Self.isChinese) == true, "\(device.id) site \(device.site ?? "none")")
            #expect(device.name.map(Self.isChinese) == true, "\(device.id) name \(device.name ?? "none")")
            #expect(device.latitude.map { (20.0...26.0).contains($0) } == true, "\(device.id) latitude")
            #expect(device.longitude.map { (109.0...118.0).contains($0) } == true, "\(device.id) longitude")
            #expect(device.areaCode?.hasPrefix("44") == true, "\(device.id): a Guangdong area code")
            if device.domain == .flood {
                let warning = try #require(device.attributes["warning_stage"])
                let guaranteed = try #require(device.attributes["guaranteed_stage"])
                #expect(warning < guaranteed && guaranteed < (device.attributes["historical_max_stage"] ?? 0))
            }
        }
        // A county: ponds, plots, forests and river reaches, not one list.
        #expect(Set(simulated.compactMap(\.site)).count >= 8)
        #expect(Set(simulated.compactMap(\.name)).count == count)
        for domain in Domain.deviceDomains {
            #expect(simulated.contains { $0.domain == domain })
        }
    }

    @Test("past the table, devices are numbered at their sites: still named, placed and distinct")
    func largerDemo() {
        let devices = SimulationModel.devices(count: 1000)
        #expect(Set(devices.map(\.name)).count == 1000)
        #expect(devices.allSatisfy { (20.0...26.0).contains($0.latitude) && (109.0...118.0).contains($0.longitude) })
    }

    @Test("serve registers what is missing, completes what the ingest auto-registered, and leaves a device somebody registered alone")
    func registrationsAgainstAnExistingRegistry() {
        let options = Simulator.Options(devices: 5, rate: 1)
        let ids = options.registrations.map(\.id)
        let existing: [String: Device] = [
            // Auto-registered by an older demo: the default profile, nothing else.
            ids[0]: Device(id: ids[0], profile: "generic", domain: .water, createdAt: 1),
            // Registered by staff with a site of their own.
            ids[1]: Device(id: ids[1], profile: "generic", domain: .soil, site: "my-plot", createdAt: 1),
            // Registered with another profile.
            ids[2]: Device(id: ids[2], profile: "weather-station", domain: .weather, createdAt: 1),
        ]
        let registered = Simulator.registrations(for: options, at: 42) { existing[$0] }
        #expect(registered.map(\.id) == [ids[0], ids[3], ids[4]])
        #expect(registered.allSatisfy { $0.createdAt == 42 && $0.site != nil && $0.name != nil })
        // A scenario registers its own devices, not the steady model's.
        let flood = Simulator.registrations(for: .init(devices: 25, rate: 1, scenario: .flood), at: 42) { _ in nil }
        #expect(flood.map(\.id) == ["sim-flood-rain-001", "sim-flood-creek-001", "sim-flood-river-001"])
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

    @Test("serve --simulate (make demo) registers its devices at their sites, with Chinese names and places, before they report")
    func serveRegistersTheDemoCounty() async throws {
        let broker = try TestBroker(persistence: false)
        let server = try ServerProcess(
            brokerPort: broker.port,
            extraYAML: """
                simulator:
                  enabled: true
                  devices: 25
                  rate: 100
                """)
        try await server.start()
        let reporting = await eventually(timeout: 20) { ((try? server.storedReadings()) ?? 0) >= 25 * 3 }
        #expect(reporting, "\(server.log().suffix(1500))")
        let list = try await server.get("/api/v1/devices").json["devices"] as? [[String: Any]] ?? []
        #expect(list.count == 25)
        let expected = Dictionary(uniqueKeysWithValues: SimulationModel.devices(count: 25).map { ($0.id, $0) })
        for device in list {
            let id = device["id"] as? String ?? ""
            let simulated = try #require(expected[id], "\(id)")
            #expect(device["site"] as? String == simulated.site)
            #expect(device["name"] as? String == simulated.name)
            #expect(device["domain"] as? String == simulated.domain.rawValue)
            #expect((device["latitude"] as? NSNumber)?.doubleValue == simulated.latitude)
        }
        let gauge = try await server.get("/api/v1/devices/sim-gauge-001").json
        #expect((gauge["attributes"] as? [String: Any])?["warning_stage"] as? Double == 4.5, "\(gauge)")
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

    @Test("flood: the storm crosses the torrent critical rainfall; the creek rises fast; hours later the river passes its stages in order",
          arguments: [1, 5, 7] as [UInt64])
    func flood(seed: UInt64) throws {
        let script = Scenario.flood.messages(seed: seed, end: end)
        let rain = series(script, "sim-flood-rain-001", "rainfall")
        let creek = series(script, "sim-flood-creek-001", "water_level")
        let river = series(script, "sim-flood-river-001", "water_level")
        // 12 h of 5-minute reports from each gauge, in time order, the last one at `end`.
        #expect(rain.count == 145 && creek.count == 145 && river.count == 145)
        #expect(script.count == 3 * 145 && script.map(\.ts) == script.map(\.ts).sorted())
        #expect(zip(rain, rain.dropFirst()).allSatisfy { $1.ts - $0.ts == 300_000 } && rain.last!.ts == end)
        #expect(abs(rain.map(\.v).reduce(0, +) - 146) < 2)
        #expect(Set(script.map(\.device)) == Set(Scenario.flood.registrations.map(\.id)))

        // Torrent critical rainfall (Config/rules/torrent.yaml, the county table), over the
        // last 1, 3, 6 and 24 h of reports: each sum peaks at least 3 mm clear of every
        // threshold, so the level it reaches does not depend on the seed's noise.
        func sums(_ reports: Int) -> [Double] {
            rain.indices.map { i in rain[max(0, i - reports + 1)...i].reduce(0) { $0 + $1.v } }
        }
        let table: [(reports: Int, thresholds: [Double], reached: Int)] = [
            (12, [35, 45, 60, 80], 2), (36, [55, 75, 100, 120], 3), (72, [70, 95, 120, 150], 3), (288, [100, 130, 160, 200], 2),
        ]
        var torrentCrossings: [Int] = []
        for row in table {
            let s = sums(row.reports)
            let peak = s.max()!
            #expect(row.thresholds.allSatisfy { abs(peak - $0) >= 3 }, "\(row.reports) reports: \(peak)")
            #expect(row.thresholds.filter { peak >= $0 }.count == row.reached, "\(row.reports) reports: \(peak)")
            torrentCrossings.append(s.firstIndex { $0 >= row.thresholds[0] }!)
        }

        // The creek rises more than 1.2 m in an hour (the rate the preset computes: first to
        // last reading of the hour), above water-level-rise's orange 1.0 m/h.
        let rise = creek.indices.dropFirst(11).map { i in (creek[i].v - creek[i - 11].v) / 55 * 60 }
        #expect(rise.max()! > 1.2, "\(rise.max()!)")

        // The river gauge's stages come with its registration; the preset's levels are
        // blue 0.5 m below the warning stage, yellow at it, orange at the guaranteed stage,
        // red at the highest recorded.
        let gauge = try #require(Scenario.flood.registrations.first { $0.id == "sim-flood-river-001" })
        let warning = try #require(gauge.attributes["warning_stage"])
        let guaranteed = try #require(gauge.attributes["guaranteed_stage"])
        let highest = try #require(gauge.attributes["historical_max_stage"])
        let stages = [warning - 0.5, warning, guaranteed]
        let crossings = stages.map { stage in river.firstIndex { $0.v >= stage }! }
        #expect(crossings == crossings.sorted())
        // Each level held far longer than the preset's 10 minutes, never falling back below a
        // stage by its clear margin (0.1 m) once passed; still above the guaranteed stage at the end.
        #expect(zip(crossings, crossings.dropFirst()).allSatisfy { $1 - $0 >= 6 }, "\(crossings)")
        for (stage, index) in zip(stages, crossings) {
            #expect(river[index...].allSatisfy { $0.v > stage - 0.1 }, "back below \(stage)")
        }
        #expect(river.map(\.v).max()! < highest - 0.5)
        #expect(river.last!.v >= guaranteed + 0.2)
        #expect(river.first!.v < warning - 1.5)
        // In that order: the rain's critical sums, then the river.
        #expect(torrentCrossings.max()! < crossings[0], "\(torrentCrossings) then \(crossings)")
    }

    @Test("flood: its gauges are registered in one catchment and one river reach, the river gauge with its stages")
    func floodRegistrations() {
        let devices = Scenario.flood.registrations
        #expect(devices.allSatisfy { $0.profile == "generic" && $0.domain == .flood && $0.site != nil && $0.name != nil })
        #expect(devices.allSatisfy { ($0.latitude ?? 0) > 20 && ($0.latitude ?? 0) < 26 && ($0.longitude ?? 0) > 109 && ($0.longitude ?? 0) < 118 })
        #expect(Set(devices.prefix(2).map(\.site)).count == 1, "the rain gauge and the creek share a catchment")
        #expect(devices.last?.attributes["warning_stage"] == 12.5 && devices.last?.attributes["guaranteed_stage"] == 13.8)
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
