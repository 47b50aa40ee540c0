import Foundation
import Testing
@testable import ShennongCore

@Suite("Device profiles")
struct DeviceProfileTests {
    static let minimal = """
    name: demo
    domain: water
    description: 演示 — demo
    expected_interval: 60
    fields:
      DO: dissolved_oxygen
      Cond: { metric: conductivity, scale: 1000, unit: mS/cm }
      lvl:
        metric: water_level
        scale: 0.01
        offset: 12.5
    ignore: [seq]
    """

    @Test func parsesMappingsWithDefaults() throws {
        let p = try DeviceProfile.parse(yaml: Self.minimal, sourceName: "demo.yaml")
        #expect(p.name == "demo")
        #expect(p.domain == .water)
        #expect(p.topic == "agri/{device}/telemetry")
        #expect(p.expectedInterval == 60)
        #expect(p.passThroughCanonical)
        #expect(p.example == nil)
        #expect(p.fields == [
            "DO": FieldMapping(metric: "dissolved_oxygen"),
            "Cond": FieldMapping(metric: "conductivity", scale: 1000, unit: "mS/cm"),
            "lvl": FieldMapping(metric: "water_level", scale: 0.01, offset: 12.5),
        ])
        #expect(p.ignore == ["seq"])
    }

    @Test func resolveOrderIsMappingIgnoreCanonical() throws {
        var p = try DeviceProfile.parse(yaml: Self.minimal, sourceName: "demo.yaml")
        guard case .mapped(let m, let fm) = p.resolve(field: "Cond") else { Issue.record("Cond not mapped"); return }
        #expect(m.name == "conductivity")
        #expect(fm.scale == 1000)
        #expect(p.resolve(field: "seq") == .ignored)
        #expect(p.resolve(field: "ph") == .canonical(MetricCatalogue.metric(named: "ph")!))
        #expect(p.resolve(field: "pH") == .unknown)
        #expect(p.map(field: "lvl")?.offset == 12.5)
        #expect(p.map(field: "lvl")?.metric.name == "water_level")
        #expect(p.map(field: "seq") == nil)
        // The lookup cache follows changes to fields.
        p.fields["pH"] = FieldMapping(metric: "ph")
        #expect(p.map(field: "pH")?.metric.name == "ph")
        p.passThroughCanonical = false
        #expect(p.resolve(field: "ph") == .unknown)
    }

    @Test func fieldMappingCodableDefaults() throws {
        let m = try JSONDecoder().decode(FieldMapping.self, from: Data(#"{"metric": "ph"}"#.utf8))
        #expect(m == FieldMapping(metric: "ph", scale: 1, offset: 0, unit: nil))
        let round = try JSONDecoder().decode(FieldMapping.self, from: JSONEncoder().encode(FieldMapping(metric: "rainfall", scale: 0.2, unit: "tips")))
        #expect(round.scale == 0.2)
        #expect(round.unit == "tips")
        #expect(FieldMapping(metric: "rainfall", scale: 0.2).apply(3) == 0.6)
    }

    @Test func syntaxErrorNamesFileAndLine() {
        let yaml = """
        name: demo
        domain: water
        description: "unterminated
        expected_interval: 60
        """
        do {
            _ = try DeviceProfile.parse(yaml: yaml, sourceName: "devices/demo.yaml")
            Issue.record("parsed")
        } catch {
            #expect(error.code == .syntax)
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("devices/demo.yaml:\(error.line ?? -1): invalid YAML"))
        }
    }

    @Test func badIndentationNamesItsLine() {
        let yaml = "name: demo\ndomain: water\n  description: x\nexpected_interval: 60\n"
        do {
            _ = try DeviceProfile.parse(yaml: yaml, sourceName: "demo.yaml")
            Issue.record("parsed")
        } catch {
            #expect(error.code == .syntax)
            #expect(error.line == 3)
        }
    }

    @Test(arguments: [
        // (yaml with one fault, code, line, message fragment)
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  DO: disolved_oxygen\n",
         DeviceProfileError.Code.unknownMetric, 6, "disolved_oxygen"),
        ("name: demo\ndomain: ocean\ndescription: d\nexpected_interval: 60\n", .invalidValue, 2, "ocean"),
        ("name: demo\ndomain: health\ndescription: d\nexpected_interval: 60\n", .invalidValue, 2, "health"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 0\n", .invalidValue, 4, "expected_interval"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: -5\n", .invalidValue, 4, "expected_interval"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: soon\n", .invalidValue, 4, "soon"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  X: { metric: ph, scale: 0 }\n", .invalidValue, 6, "scale"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  X: { metric: ph, scale: .nan }\n", .invalidValue, 6, "scale"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  X: { metric: ph, scale: .inf }\n", .invalidValue, 6, "scale"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  X: { metric: ph, scael: 2 }\n", .unknownKey, 6, "scael"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  X: { scale: 2 }\n", .missingKey, 6, "metric"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nintervall: 5\n", .unknownKey, 5, "intervall"),
        ("name: demo\ndomain: water\nexpected_interval: 60\n", .missingKey, 1, "description"),
        ("name: Demo Sonde\ndomain: water\ndescription: d\nexpected_interval: 60\n", .invalidValue, 1, "Demo Sonde"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nfields:\n  seq: ph\nignore: [seq]\n", .invalidValue, 7, "both"),
        ("name: demo\ndomain: water\ndescription: d\nexpected_interval: 60\nexample: '{}'\nexample_values:\n  phh: 7\n", .unknownMetric, 7, "phh"),
        ("- just\n- a list\n", .invalidValue, 1, "mapping"),
        ("name: demo\nname: again\ndomain: water\ndescription: d\nexpected_interval: 60\n", .syntax, 1, "duplicate"),
    ])
    func validationErrorsNameTheLine(yaml: String, code: DeviceProfileError.Code, line: Int, fragment: String) {
        do {
            _ = try DeviceProfile.parse(yaml: yaml, sourceName: "bad.yaml")
            Issue.record("parsed: \(yaml)")
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
            #expect(error.description.hasPrefix("bad.yaml:\(line): "))
        }
    }

    @Test func emptyDocumentIsAnError() {
        #expect(throws: DeviceProfileError.self) { try DeviceProfile.parse(yaml: "", sourceName: "empty.yaml") }
        #expect(throws: DeviceProfileError.self) { try DeviceProfile.parse(yaml: "# only a comment\n", sourceName: "empty.yaml") }
    }
}

@Suite("Device profile files (devices/*.yaml)")
struct DeviceProfileFileTests {
    static let exampleReceivedAt: Int64 = 1_763_707_500_000  // 2025-11-21T06:45:00Z, 5 min after the examples

    static func load(_ file: String) throws -> DeviceProfile {
        let root = try #require(repositoryRoot(), "repository root with devices/ not found")
        let text = try String(contentsOf: root.appendingPathComponent("devices").appendingPathComponent(file), encoding: .utf8)
        return try DeviceProfile.parse(yaml: text, sourceName: "devices/\(file)")
    }

    @Test func requiredProfilesExist() {
        let files = Set(deviceProfileFiles())
        for name in ["water-sonde", "pond-oxygen-probe", "soil-probe", "weather-station", "fire-watch-node",
                     "water-level-gauge", "rain-gauge", "generic", "dtu-gateway", "soil-profile-probe"] {
            #expect(files.contains("\(name).yaml"), "devices/\(name).yaml is missing")
        }
    }

    @Test(arguments: deviceProfileFiles())
    func profileParsesAndItsExampleDecodesExactly(file: String) throws {
        let profile = try Self.load(file)
        #expect(profile.name + ".yaml" == file)
        #expect(profile.description.unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF }, "description needs the Chinese name")
        #expect(profile.topic.contains("{device}"))
        let example = try #require(profile.example, "\(file) has no example")
        #expect(!profile.exampleValues.isEmpty)
        if let gateway = profile.gateway {
            // Children decode with the child profile; example_values are child/metric.
            let child = try Self.load(gateway.childProfile + ".yaml")
            let (result, children) = PayloadDecoder.decodeMessage(
                Array(example.utf8), device: "example", profile: profile, receivedAt: Self.exampleReceivedAt,
                profileOf: { _ in child })
            #expect(result.rejections.isEmpty, "\(file): \(result.rejections.map(\.message))")
            #expect(result.form == .gateway)
            let got = Dictionary(result.readings.map { ("\($0.device)/\($0.metric)", $0.value) }, uniquingKeysWith: { a, _ in a })
            let expected = Dictionary(
                profile.exampleValues.map { ($0.key.replacingOccurrences(of: "{device}", with: "example"), $0.value) },
                uniquingKeysWith: { a, _ in a })
            #expect(result.readings.count == expected.count, "\(file): one reading per example value")
            #expect(got == expected, "\(file)")
            #expect(Set(children) == Set(expected.keys.map { String($0.split(separator: "/")[0]) }))
            return
        }
        let result = PayloadDecoder.decode(Array(example.utf8), device: "example", profile: profile, receivedAt: Self.exampleReceivedAt)
        #expect(result.rejections.isEmpty, "\(file): \(result.rejections.map(\.message))")
        #expect(result.readings.count == profile.exampleValues.count, "\(file): one reading per example value")
        #expect(result.values == profile.exampleValues, "\(file)")
        for (metric, _) in profile.exampleValues {
            #expect(MetricCatalogue.metric(named: metric) != nil)
        }
        // Every mapping is used by some field name; the metric domain fits the profile's domain.
        if let domain = profile.domain {
            for (vendor, mapping) in profile.fields {
                let metric = try #require(MetricCatalogue.metric(named: mapping.metric))
                let fits = metric.domain == domain || metric.domain == .health
                    || (domain == .flood && metric.domain == .weather)  // rain gauges on flood stations
                #expect(fits, "\(file): \(vendor) → \(metric.name) (\(metric.domain)) in a \(domain) profile")
            }
        }
    }

    @Test func genericFileMatchesBuiltInGeneric() throws {
        let file = try Self.load("generic.yaml")
        var builtIn = DeviceProfile.generic
        builtIn.example = file.example
        #expect(file == builtIn)
        let a = decode(DeviceProfile.generic.example!, profile: .generic)
        #expect(a.values == DeviceProfile.generic.exampleValues)
    }

    @Test func profileExamplesAreStampedFromTheirOwnTime() throws {
        // The examples carry 2025-11-21T06:40:00Z in their own notation (ms, s, RFC 3339, SenML bt).
        for file in deviceProfileFiles() where file != "pond-oxygen-probe.yaml" {
            let profile = try Self.load(file)
            let child = try profile.gateway.map { try Self.load($0.childProfile + ".yaml") }
            let r = PayloadDecoder.decodeMessage(
                Array(profile.example!.utf8), device: "x", profile: profile, receivedAt: Self.exampleReceivedAt,
                profileOf: { _ in child }
            ).result
            #expect(Set(r.readings.map(\.timestamp)) == [1_763_707_200_000], "\(file)")
        }
    }

    @Test func repositoryRootIsFoundFromTheRealPath() throws {
        let root = try #require(repositoryRoot())
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("devices/generic.yaml").path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("Sources/ShennongCore").path))
    }
}
