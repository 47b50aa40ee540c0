import Foundation
import Testing
@testable import ShennongCore

/// The fuzz corpus (Tests/FuzzCorpus) replayed through the same harness `make fuzz` runs:
/// every seed and every input that once crashed or trapped the decoders (regressions/)
/// must now decode without breaking an invariant.
@Suite struct FuzzCorpusTests {
    static func corpusFiles(_ folder: String) -> [URL] {
        guard let root = repositoryRoot() else { return [] }
        let dir = root.appendingPathComponent("Tests/FuzzCorpus").appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func harness() throws -> DecoderFuzzHarness {
        let root = try #require(repositoryRoot())
        let profiles = try deviceProfileFiles().map { name in
            let path = root.appendingPathComponent("devices").appendingPathComponent(name).path
            return try DeviceProfile.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), sourceName: path)
        }
        #expect(profiles.count >= 9, "the repository's device profiles should all load")
        return DecoderFuzzHarness(profiles: profiles)
    }

    @Test("every seed payload decodes, and the seeds as a whole yield readings")
    func seeds() throws {
        let harness = try Self.harness()
        let files = Self.corpusFiles("seeds")
        #expect(files.count >= 20, "the seed corpus is missing")
        var readings = 0
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: file))
            readings += bytes.withUnsafeBytes { harness.run($0) }
        }
        // Real payload shapes: most of them decode to readings with some profile.
        #expect(readings > 50)
    }

    @Test("every regression input found by fuzzing runs through every decoder without a trap")
    func regressions() throws {
        let harness = try Self.harness()
        for file in Self.corpusFiles("regressions") {
            let bytes = try [UInt8](Data(contentsOf: file))
            _ = bytes.withUnsafeBytes { harness.run($0) }
        }
    }
}
