import Foundation
import ShennongAPI
import ShennongCore
import Testing

/// The ShennongAPI types against openapi.yaml, both ways: each object schema has its type,
/// and a sample with every property of the schema (and one with only the required ones)
/// decodes into the type and encodes back to the same JSON. A property the type lacks, one
/// it names differently, requires where the spec does not, or types otherwise, fails here.
struct ContractTypesTests {
    /// Object schemas that are parts of others, with no type of their own.
    static let parts: Set<String> = ["AlertFields"]

    @Test("every object schema of openapi.yaml is one ShennongAPI type, and every type is a schema")
    func schemasAndTypes() throws {
        let schemas = Set(try Contract.samples().keys)
        let types = API.objectTypes.map { $0.schemaName }
        #expect(Set(types).count == types.count, "two types claim one schema")
        #expect(schemas.subtracting(Self.parts).subtracting(types).isEmpty, "schemas without a type: \(schemas.subtracting(Self.parts).subtracting(types).sorted())")
        #expect(Set(types).subtracting(schemas).isEmpty, "types without a schema: \(Set(types).subtracting(schemas).sorted())")
    }

    @Test("each type decodes the schema's full and minimal samples and encodes them back unchanged")
    func samplesRoundTrip() throws {
        let samples = try Contract.samples()
        for type in API.objectTypes {
            let sample = try #require(samples[type.schemaName], "no schema \(type.schemaName)")
            for (kind, data) in [("full", sample.full), ("minimal", sample.minimal)] {
                do {
                    let again = try Self.roundTrip(type, data)
                    let (encoded, sample) = (try JSONParser.parse(Array(again)), try JSONParser.parse(Array(data)))
                    #expect(
                        encoded == sample,
                        "\(type.schemaName) (\(kind)): \(String(decoding: data, as: UTF8.self))\n → \(String(decoding: again, as: UTF8.self))")
                } catch {
                    Issue.record("\(type.schemaName) (\(kind)) does not decode \(String(decoding: data, as: UTF8.self)): \(error)")
                }
            }
        }
    }

    static func roundTrip<T: APIObject>(_ type: T.Type, _ data: Data) throws -> Data {
        try APICoding.encode(try APICoding.decode(T.self, from: data))
    }

    @Test("one coding configuration: sorted keys, slashes as they are, nil left out")
    func coding() throws {
        let device = API.NewDevice(id: "a/b", profile: "generic", domain: "water", areaCode: "441882")
        #expect(String(decoding: try APICoding.encode(device), as: UTF8.self) == #"{"area_code":"441882","domain":"water","id":"a/b","profile":"generic"}"#)
    }
}
