import Foundation
import ShennongCore
import ShennongServer
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
