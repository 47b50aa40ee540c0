import Foundation
import ShennongCore
import Testing

/// The device registry and token doors on every engine.
@Suite("store contract: devices and tokens")
struct RegistryContractTests {
    typealias F = Fixture

    @Test("devices: add refuses a taken id, upsert updates and counts the new, filters by site, domain and id", arguments: StoreEngine.all)
    func devices(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        var gauge = Device(
            id: "gauge-lj", profile: "water-level-gauge", domain: .flood, site: "lianjiang-bridge", name: "连江桥水位站",
            latitude: 24.78, longitude: 112.38, areaCode: "441882", owner: "连州市水利局", createdAt: 42,
            attributes: ["warning_stage": 4.5, "guaranteed_stage": 6.2])
        try store.addDevice(gauge)
        let error = #expect(throws: StoreError.self) { try store.addDevice(gauge) }
        #expect(error?.code == .conflict)
        #expect(try store.device(id: "gauge-lj") == gauge)
        #expect(try store.device(id: "nobody") == nil)

        gauge.name = "连江大桥水位站"
        gauge.attributes = ["warning_stage": 4.8]
        let created = try store.upsertDevices([gauge, F.device("pond-7", .water, site: "qingxin-fish-farm"), F.device("aws-1", .weather)])
        #expect(created == 2)
        let updated = try #require(try store.device(id: "gauge-lj"))
        #expect(updated.name == "连江大桥水位站" && updated.attributes == ["warning_stage": 4.8] && updated.createdAt == 42)
        #expect(try store.devices().map(\.id) == ["aws-1", "gauge-lj", "pond-7"])
        #expect(try store.deviceRecords(site: "qingxin-fish-farm").map(\.device.id) == ["pond-7"])
        #expect(try store.deviceRecords(domain: .weather).map(\.device.id) == ["aws-1"])
        #expect(try store.deviceRecords(id: "gauge-lj").map(\.device) == [updated])
        #expect(try store.deviceRecords().count == 3)
    }

    @Test("tokens: the secret authenticates once created, only its hash is kept, roles survive", arguments: StoreEngine.all)
    func tokens(engine: StoreEngine) throws {
        let store = try engine.open(StoreOptions())
        let viewer = try store.createToken(name: "村网格员", role: .viewer)
        let admin = try store.createToken(name: "ops", role: .admin)
        #expect(viewer != admin && viewer.hasPrefix("snk_"))
        #expect(try store.authenticate(token: viewer)?.role == .viewer)
        #expect(try store.authenticate(token: viewer)?.name == "村网格员")
        #expect(try store.authenticate(token: admin)?.role == .admin)
        var forged = Array(admin)
        forged[forged.count - 1] = forged.last == "0" ? "1" : "0"
        #expect(try store.authenticate(token: String(forged)) == nil)
        #expect(try store.authenticate(token: "") == nil)
        let listed = try store.tokens()
        #expect(listed.map(\.name) == ["村网格员", "ops"])
        #expect(listed.map(\.role) == [.viewer, .admin])
    }
}
