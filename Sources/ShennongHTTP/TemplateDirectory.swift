import ShennongCore
import Foundation
import Mustache

extension MustacheLibrary {
    /// Every `*.mustache` in `directory` (read synchronously, at start-up), registered under
    /// its name without the extension; and the first of `needed` that is missing, if any.
    static func load(directory: String, needed: [String]) throws -> (library: MustacheLibrary, missing: String?) {
        var library = MustacheLibrary()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasSuffix(".mustache") {
            let text = try String(contentsOfFile: (directory as NSString).appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        return (library, needed.first { library.getTemplate(named: $0) == nil })
    }
}
