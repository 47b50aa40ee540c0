import ShennongCore
import Testing

struct DeviceCSVTests {
    static let profiles: [String: Domain?] = ["water-level-gauge": .flood, "soil-probe": .soil, "generic": nil]

    func parse(_ text: String) -> Result<[Device], DeviceCSV.Failure> {
        DeviceCSV.parse(text, createdAt: 1_763_700_000_000, profileDomain: { Self.profiles[$0] })
    }

    @Test func registersEveryColumnAndKeepsStagesAsAttributes() throws {
        let text = """
            id,profile,site,latitude,longitude,area_code,owner,name,warning_stage,guaranteed_stage
            gauge-lj,water-level-gauge,lianjiang-bridge,24.78,112.38,441882,"连州市水利局, 防汛办",连江大桥水位站,4.5,6.2
            plot-12,soil-probe,yingde-plot-12,,,441881,,,,\r
            """
        let devices = try parse(text).get()
        #expect(devices.count == 2)
        #expect(devices[0] == Device(
            id: "gauge-lj", profile: "water-level-gauge", domain: .flood, site: "lianjiang-bridge", name: "连江大桥水位站",
            latitude: 24.78, longitude: 112.38, areaCode: "441882", owner: "连州市水利局, 防汛办", createdAt: 1_763_700_000_000,
            attributes: ["warning_stage": 4.5, "guaranteed_stage": 6.2]))
        #expect(devices[1].domain == .soil)
        #expect(devices[1].latitude == nil && devices[1].attributes.isEmpty && devices[1].owner == nil)
    }

    @Test func everyProblemIsReportedWithItsLineAndNothingIsReturned() throws {
        let text = """
            id,profile,domain,latitude,area_code,warning_stage,guaranteed_stage
            ok-1,soil-probe,,23.1,441881,,
            bad id,soil-probe,,,,,
            g2,nope,,,,,
            g3,generic,,,,,
            g4,water-level-gauge,,95,4418,high,
            ok-1,soil-probe,,,,,
            g5,water-level-gauge,,,,5,4
            g6,soil-probe
            """
        guard case .failure(let failure) = parse(text) else {
            Issue.record("a file with problems was accepted")
            return
        }
        let byLine = Dictionary(grouping: failure.problems, by: \.line).mapValues { $0.map(\.message) }
        #expect(byLine.keys.sorted() == [3, 4, 5, 6, 7, 8, 9])
        #expect(byLine[3]?.first?.contains("must match") == true)
        #expect(byLine[4] == ["unknown profile \"nope\""])
        #expect(byLine[5]?.first?.contains("has no domain of its own") == true)
        #expect(byLine[6]?.count == 3)  // latitude, area code, attribute
        #expect(byLine[7] == ["device ok-1 is also on line 2"])
        #expect(byLine[8] == ["guaranteed_stage 4.0 is below warning_stage 5.0"])
        #expect(byLine[9]?.first?.contains("2 fields") == true)
    }

    @Test(arguments: ["", "id,profile\n", "id,id,profile\nx,y,generic\n", "name,site\nx,y\n"])
    func filesWithoutUsableRowsOrHeadersAreRefused(text: String) {
        guard case .failure(let failure) = parse(text) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(!failure.problems.isEmpty)
    }

    @Test func quotedFieldsMaySpanLinesAndCarryQuotes() throws {
        let text = "\u{FEFF}id,profile,name\nsp-1,soil-probe,\"南岭 \"\"一号\"\"\n坡地\"\nsp-2,soil-probe,x\n"
        let devices = try parse(text).get()
        #expect(devices.map(\.name) == ["南岭 \"一号\"\n坡地", "x"])
    }
}
