import Foundation
import ShennongProcess
import ShennongTestSupport
import Testing

/// The benchmark itself is tested: a small run must store exactly what it published, so the
/// harness cannot report speed for lost work.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct IngestBenchHarnessTests {
    /// Config/rules: every warning preset.
    static let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Config/rules").path

    @Test("a small ingest benchmark run stores exactly what it published and reports its figures")
    func smallRun() throws {
        let bin = URL(fileURLWithPath: ShennongBinary.path).deletingLastPathComponent()
        let bench = bin.appendingPathComponent("IngestBench").path
        try #require(FileManager.default.isExecutableFile(atPath: bench), "build IngestBench first (make test does)")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(
            executable: bench,
            arguments: ["--shennong", ShennongBinary.path, "--rules", Self.presets, "--messages", "3000", "--devices", "30", "--rates", "500", "--rate-seconds", "3"],
            outputPath: output)
        let status = process.wait(timeout: 240)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(text)")
        #expect(text.contains("stored readings:                        12000 of 12000 published"), "\(text)")
        #expect(text.contains("ratio shennong / bare subscriber:"))
        #expect(text.contains("ratio every preset / no rules:"), "\(text)")
        // All four runs stored everything: SQLite and PostgreSQL, each with the presets and without.
        #expect(text.components(separatedBy: "; stored 12000 of 12000").count == 5, "\(text)")
        #expect(text.contains("postgres, every rule preset:") && text.contains("postgres, no rules:"), "\(text)")
        #expect(text.components(separatedBy: "ratio to SQLite ").count == 3, "\(text)")
        let loaded = text.components(separatedBy: "rules loaded ").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(loaded.count == 2 && loaded[0] > 0 && loaded[1] == 0, "\(text)")
        // The presets saw every reading of the first run.
        #expect(text.contains("readings evaluated by rules 12000; stored 12000"), "\(text)")
        #expect(text.contains("500 msg/s: published"))
        #expect(text.contains("ok: 3000 messages published, 12000 readings stored"))
    }
}
