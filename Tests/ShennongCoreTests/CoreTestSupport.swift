import Foundation
@testable import ShennongCore

/// 2025-11-21T06:45:00Z, the receive time used throughout (examples are stamped 06:40Z).
let receivedAt: Int64 = 1_763_707_500_000

/// Decodes `text` for device `dev-1` with `profile` (generic by default) at ``receivedAt``.
func decode(_ text: String, profile: DeviceProfile = .generic, at time: Int64 = receivedAt,
            options: DecodeOptions = .init()) -> DecodeResult {
    PayloadDecoder.decode(Array(text.utf8), device: "dev-1", profile: profile, receivedAt: time, options: options)
}

extension DecodeResult {
    /// metric → value, for results with one value per metric.
    var values: [String: Double] {
        Dictionary(readings.map { ($0.metric, $0.value) }, uniquingKeysWith: { _, last in last })
    }
    var codes: [RejectCode] { rejections.map(\.code) }
}

/// Parses JSON text, or returns the error.
func parseJSON(_ text: String) -> Result<JSONValue, JSONError> {
    do { return .success(try JSONParser.parse(text)) } catch { return .failure(error) }
}

func parseJSON(bytes: [UInt8]) -> Result<JSONValue, JSONError> {
    do { return .success(try JSONParser.parse(bytes)) } catch { return .failure(error) }
}

/// The repository root: the nearest ancestor holding `devices/` and `Package.swift`, searched
/// from this file's real path (the test target may be reached through a symlink), then from
/// the current directory (`swift test` runs from the package root).
func repositoryRoot(filePath: String = #filePath) -> URL? {
    let fm = FileManager.default
    func search(from start: URL) -> URL? {
        var dir = start
        while true {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir.appendingPathComponent("devices").path, isDirectory: &isDir), isDir.boolValue,
               fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                return dir
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }
    var real = filePath
    if let resolved = realpath(filePath, nil) {
        real = String(cString: resolved)
        free(resolved)
    }
    let fromFile = URL(fileURLWithPath: real).deletingLastPathComponent()
    return search(from: fromFile) ?? search(from: URL(fileURLWithPath: fm.currentDirectoryPath))
}

/// Every `devices/*.yaml` file name, sorted; empty when the root cannot be found.
func deviceProfileFiles() -> [String] {
    guard let root = repositoryRoot(),
          let names = try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("devices").path)
    else { return [] }
    return names.filter { $0.hasSuffix(".yaml") }.sorted()
}
