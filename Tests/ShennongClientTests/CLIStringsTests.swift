import Foundation
import ShennongAPI
import ShennongClient
import ShennongCore
import Testing

/// The CLI's words: Chinese first, English by `--lang en` or `SHENNONG_LANG=en`; one
/// catalogue per language, every column the shipped verbs list with its Chinese header.
struct CLIStringsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func hasHan(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) || (0xFF00...0xFF60).contains($0.value) }
    }

    /// Every quoted key in a column list of the CLI's sources (`columns: [...]`, `…Columns = [...]`,
    /// `showFields = [...]`, `columns + [...]`).
    static func shippedColumns() throws -> Set<String> {
        let folders = ["Sources/ShennongClient", "Sources/shennong", "Sources/ShennongServer"]
        let list = try NSRegularExpression(pattern: #"(?:[cC]olumns(?: =|:| \+)|showFields =)\s*\[([^\]]*)\]"#)
        let key = try NSRegularExpression(pattern: #""([a-z_]+)""#)
        var keys = Set<String>()
        for folder in folders {
            let dir = repository.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for match in list.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let inner = String(text[Range(match.range(at: 1), in: text)!])
                    for k in key.matches(in: inner, range: NSRange(inner.startIndex..., in: inner)) {
                        keys.insert(String(inner[Range(k.range(at: 1), in: inner)!]))
                    }
                }
            }
        }
        return keys
    }

    @Test("every column a shipped verb lists has a Chinese header (a new column fails here until it has one)")
    func columnsHaveHeaders() throws {
        let shipped = try Self.shippedColumns()
        #expect(shipped.count > 60, "\(shipped.sorted())")
        for key in [
            "raised_at", "late_skipped", "received_at", "still_rejected", "bytes_per_reading", "item", "value", "field", "metrics",
        ] {
            #expect(shipped.contains(key), "the scan missed \(key)")
        }
        for key in shipped.sorted() {
            #expect(Column(rawValue: key) != nil, "column \(key) has no header in CLIStrings")
            #expect(Self.hasHan(CLIStrings.zh.header(for: key)), "\(key): \(CLIStrings.zh.header(for: key))")
            #expect(CLIStrings.en.header(for: key) == key.uppercased())
        }
        #expect(CLIStrings.zh.header(for: "raised_at") == "发布时间" && CLIStrings.zh.header(for: "late_skipped") == "跳过的迟到数据")
    }

    @Test("messages: Chinese in zh, no Chinese in en, the values in both")
    func messages() {
        let zh = CLIStrings.zh, en = CLIStrings.en
        let pairs: [(String, String)] = [
            (zh.none, en.none), (zh.serverNotHTTP("ftp://x"), en.serverNotHTTP("ftp://x")),
            (zh.cannotReach("http://127.0.0.1:1", "refused"), en.cannotReach("http://127.0.0.1:1", "refused")),
            (zh.unauthorized("no token"), en.unauthorized("no token")), (zh.httpError(409, "conflict"), en.httpError(409, "conflict")),
            (zh.badTime("--from", "yesterday"), en.badTime("--from", "yesterday")), (zh.noAlertsToExport, en.noAlertsToExport),
            (zh.manyAlertsNeedDirectory(3), en.manyAlertsNeedDirectory(3)), (zh.capRequired, en.capRequired),
            (zh.verified(2, 10, 5, 1), en.verified(2, 10, 5, 1)), (zh.verifyBroken, en.verifyBroken),
            (zh.checkError("x"), en.checkError("x")), (zh.errorsFound(2), en.errorsFound(2)),
            (zh.tokenRevoked(3), en.tokenRevoked(3)), (zh.tokenAlreadyRevoked(3), en.tokenAlreadyRevoked(3)),
            (zh.noSuchToken(3), en.noSuchToken(3)),
        ]
        for (chinese, english) in pairs {
            #expect(Self.hasHan(chinese), "\(chinese)")
            #expect(!Self.hasHan(english), "\(english)")
        }
        #expect(zh.httpError(409, "conflict") == "HTTP 409：conflict" && en.httpError(409, "conflict") == "HTTP 409: conflict")
        #expect(zh.verified(2, 10, 5, 1) == "校验通过：2 条链、10 条记录、5 个码、1 个封存")
        #expect(en.verified(2, 10, 5, 1) == "ok: 2 chains, 10 records, 5 codes, 1 seals verified")
        #expect(throws: ClientError.self) { try StaffClient(server: "ftp://x", token: nil) }
        do {
            _ = try StaffClient(server: "ftp://x", token: nil)
        } catch {
            #expect("\(error)" == "--server 必须是 http(s) 地址，而不是 ftp://x")
        }
    }

    @Test("--lang anywhere on the command line (removed before parsing), else SHENNONG_LANG, else Chinese; an unknown one is refused")
    func choose() throws {
        let (a, restA) = try CLIStrings.choose(arguments: ["alerts", "list", "--open"], environment: [:])
        #expect(a == .zh && restA == ["alerts", "list", "--open"])
        let (b, restB) = try CLIStrings.choose(arguments: ["--lang", "en", "alerts", "list"], environment: ["SHENNONG_LANG": "zh-CN"])
        #expect(b == .en && restB == ["alerts", "list"])
        let (c, restC) = try CLIStrings.choose(arguments: ["readings", "latest", "--lang=zh-CN"], environment: ["SHENNONG_LANG": "en"])
        #expect(c == .zh && restC == ["readings", "latest"])
        let (d, _) = try CLIStrings.choose(arguments: ["rules", "list"], environment: ["SHENNONG_LANG": "en-US"])
        #expect(d == .en)
        // After `--` nothing is an option.
        let (e, restE) = try CLIStrings.choose(arguments: ["alerts", "ack", "1", "--note", "x", "--", "--lang", "en"], environment: [:])
        #expect(e == .zh && restE == ["alerts", "ack", "1", "--note", "x", "--", "--lang", "en"])
        #expect(throws: ClientError.self) { try CLIStrings.choose(arguments: ["--lang", "fr"], environment: [:]) }
        #expect(throws: ClientError.self) { try CLIStrings.choose(arguments: ["--lang"], environment: [:]) }
        #expect(throws: ClientError.self) { try CLIStrings.choose(arguments: [], environment: ["SHENNONG_LANG": "ja"]) }
    }
}
