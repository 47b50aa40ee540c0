// The fuzz target for device-data decoding (`make fuzz`).
//
// Built with `-sanitize=fuzzer,address -D SHENNONG_LIBFUZZER` it is a libFuzzer binary:
// libFuzzer's `main` calls `LLVMFuzzerTestOneInput` for every generated input. Built plainly
// (`swift build`) it is a replay tool: `ShennongFuzz FILE|DIR ...` runs each file through
// the same harness once, so a crash input can be reproduced without the fuzzer.
//
// Device profiles are read from $SHENNONG_FUZZ_PROFILES (default `devices`).

import Foundation
import ShennongCore

/// The harness with the repository's device profiles, loaded once.
let harness: DecoderFuzzHarness = {
    let directory = ProcessInfo.processInfo.environment["SHENNONG_FUZZ_PROFILES"] ?? "devices"
    var profiles: [DeviceProfile] = []
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for name in names.sorted() where name.hasSuffix(".yaml") {
        let path = directory + "/" + name
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
        do {
            profiles.append(try DeviceProfile.parse(yaml: text, sourceName: path))
        } catch {
            FileHandle.standardError.write(Data("ShennongFuzz: skipping \(path): \(error)\n".utf8))
        }
    }
    if profiles.isEmpty {
        FileHandle.standardError.write(Data("ShennongFuzz: no profiles under \(directory); generic only\n".utf8))
    }
    return DecoderFuzzHarness(profiles: profiles)
}()

#if SHENNONG_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    harness.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// libFuzzer's driver (compiler-rt, LLVM 12+): parses the libFuzzer flags and runs `callback`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable target with `main` aliased to `<Module>_main`, so libFuzzer's
/// own `main` is not used: this one hands the command line to libFuzzer's driver.
@_cdecl("ShennongFuzz_main")
public func shennongFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        fuzzOneInput(data, size)
    }
}
#else
@main
enum ShennongFuzzReplay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty else {
            print("usage: ShennongFuzz FILE|DIR ... (replays inputs through the decoders; `make fuzz` fuzzes)")
            return
        }
        var files: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                throw ReplayError(message: "\(argument) does not exist")
            }
            if isDirectory.boolValue, let enumerator = FileManager.default.enumerator(atPath: argument) {
                for case let name as String in enumerator {
                    var isDir: ObjCBool = false
                    let path = argument + "/" + name
                    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { files.append(path) }
                }
            } else {
                files.append(argument)
            }
        }
        var readings = 0
        for path in files.sorted() {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            readings += bytes.withUnsafeBytes { harness.run($0) }
        }
        print("replayed \(files.count) inputs through \(harness.profiles.count) profiles: \(readings) readings decoded, no invariant broken")
    }
}

struct ReplayError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
#endif
