import Testing
@testable import ShennongCore

@Suite("JSON parser")
struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        let expected = JSONValue.object(JSONObject([
            "a": .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]),
            "b": .object(JSONObject(["c": .string("d")])),
            "e": .string(""),
        ]))
        #expect(value == expected)
    }

    @Test func keepsMemberOrderAndLastDuplicateWins() throws {
        guard case .object(let o) = try JSONParser.parse(#"{"z": 1, "a": 2, "z": 3}"#) else {
            Issue.record("not an object"); return
        }
        #expect(o.members.map(\.key) == ["z", "a", "z"])
        #expect(o["z"] == .number(3))
        #expect(o["missing"] == nil)
    }

    @Test(arguments: [
        ("0", 0.0), ("-0", -0.0), ("7", 7), ("-12", -12), ("5.2", 5.2), ("0.1", 0.1), ("1e3", 1000),
        ("1E+3", 1000), ("2.5e-3", 0.0025), ("0.000001", 0.000001), ("1763700000000", 1_763_700_000_000),
        ("123456789012345678901234567890", 123456789012345678901234567890.0),
        ("1.7976931348623157e308", 1.7976931348623157e308), ("4.9e-324", Double.leastNonzeroMagnitude), ("1e-400", 0),
        ("3.141592653589793238462643383279", 3.141592653589793),
    ])
    func parsesNumbersExactly(text: String, expected: Double) throws {
        let value = try JSONParser.parse(text)
        guard case .number(let d) = value else { Issue.record("not a number"); return }
        #expect(d == expected)
        #expect(d.sign == expected.sign)
    }

    @Test func fastPathAgreesWithStandardLibrary() throws {
        // Numbers a sensor sends; the fast path must round exactly like Double(String).
        let samples = ["24.8", "0.412", "101325", "1013.25", "-87", "3.705", "0.185", "12.340000000000002",
                       "9007199254740993", "0.30000000000000004", "123.456e-5", "8.5e21", "1.5e22"]
        for s in samples {
            guard case .number(let d) = try JSONParser.parse(s) else { Issue.record("\(s)"); continue }
            #expect(d == Double(s)!, "\(s)")
        }
    }

    @Test(arguments: [
        ("NaN", JSONError.Code.nonFiniteLiteral), ("Infinity", .nonFiniteLiteral), ("-Infinity", .nonFiniteLiteral),
        (#"{"ph": NaN}"#, .nonFiniteLiteral), ("[nan]", .nonFiniteLiteral),
        ("01", .invalidNumber), ("-01", .invalidNumber), ("00", .invalidNumber), ("1.", .invalidNumber),
        (".5", .unexpectedCharacter), ("+1", .unexpectedCharacter), ("1e", .invalidNumber), ("-", .unexpectedEnd),
        ("0x10", .trailingData), ("1e400", .numberOutOfRange), ("-1e400", .numberOutOfRange),
        ("[1, 2,]", .trailingComma), (#"{"a": 1,}"#, .trailingComma), ("[1 2]", .unexpectedCharacter),
        (#"{"a" 1}"#, .unexpectedCharacter), ("{a: 1}", .unexpectedCharacter), ("{'a': 1}", .unexpectedCharacter),
        ("[1] x", .trailingData), ("{} {}", .trailingData), ("", .unexpectedEnd), ("   ", .unexpectedEnd),
        ("[", .unexpectedEnd), (#"{"a": "#, .unexpectedEnd), (#""abc"#, .unexpectedEnd),
        ("tru", .invalidLiteral), ("nul", .invalidLiteral), ("True", .unexpectedCharacter),
        ("\"a\u{01}b\"", .controlCharacter), ("\"tab\there\"", .controlCharacter), ("\"line\nbreak\"", .controlCharacter),
        (#""\x41""#, .invalidEscape), (#""\u12""#, .invalidEscape), (#""\uZZZZ""#, .invalidEscape), (#""\'""#, .invalidEscape),
        (#""\uD83D""#, .invalidSurrogate), (#""\uD83Dx""#, .invalidSurrogate), (#""\uDE00""#, .invalidSurrogate),
        (#""\uD83D\u0041""#, .invalidSurrogate),
    ])
    func rejectsInvalidJSON(text: String, code: JSONError.Code) {
        switch parseJSON(text) {
        case .success(let v): Issue.record("\(text) parsed as \(v)")
        case .failure(let e):
            #expect(e.code == code, "\(text): \(e)")
            #expect(!e.message.isEmpty)
        }
    }

    @Test func errorCarriesOffsetAndMessage() {
        guard case .failure(let e) = parseJSON(#"{"ph": NaN}"#) else { Issue.record("parsed"); return }
        #expect(e.offset == 7)
        #expect(e.message.contains("NaN"))
        #expect(e.description == "\(e.message) (byte 7)")

        guard case .failure(let e2) = parseJSON("[1, 2] 3") else { Issue.record("parsed"); return }
        #expect(e2.offset == 7)
        #expect(e2.code == .trailingData)
    }

    @Test func decodesEscapesAndUnicode() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t \u0041\u00e9\u6C34 \ud83d\ude00 \u0000""#)
        #expect(value == .string("a\"b\\c/d\u{8}\u{C}\n\r\t Aé水 😀 \u{0}"))
        // Raw UTF-8 in strings, multi-byte and 4-byte.
        #expect(try JSONParser.parse("\"溶解氧 😀\"") == .string("溶解氧 😀"))
        // An escape after raw UTF-8 takes the slow path and keeps the prefix.
        #expect(try JSONParser.parse(#""水温\n""#) == .string("水温\n"))
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22],                 // invalid byte
        [0x22, 0xC3, 0x22],                 // truncated 2-byte sequence
        [0x22, 0xC0, 0xAF, 0x22],           // overlong encoding
        [0x22, 0xE0, 0x80, 0xAF, 0x22],     // overlong 3-byte
        [0x22, 0xED, 0xA0, 0x80, 0x22],     // UTF-8 encoded surrogate
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], // above U+10FFFF
        [0x22, 0x80, 0x22],                 // lone continuation byte
        [0x22, 0x5C, 0x6E, 0xE6, 0xB0, 0x22], // truncated after an escape (slow path)
    ] as [[UInt8]])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        guard case .failure(let e) = parseJSON(bytes: bytes) else { Issue.record("parsed \(bytes)"); return }
        #expect(e.code == .invalidUTF8)
        #expect(e.offset >= 1)
    }

    @Test func acceptsValidMultiByteUTF8() throws {
        let bytes: [UInt8] = [0x22, 0xC2, 0xB5, 0xE6, 0xB0, 0xB4, 0xF0, 0x9F, 0x98, 0x80, 0x22]  // µ水😀
        #expect(try JSONParser.parse(bytes) == .string("µ水😀"))
    }

    @Test func skipsByteOrderMark() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([.number(1)]))
    }

    @Test func nestingLimitIs64() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        guard case .failure(let e) = parseJSON(deep) else { Issue.record("65 levels parsed"); return }
        #expect(e.code == .tooDeep)
        #expect(e.offset == 64)
        let deepObject = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        guard case .failure(let e2) = parseJSON(deepObject) else { Issue.record("65 objects parsed"); return }
        #expect(e2.code == .tooDeep)
        // Very deep input fails fast instead of overflowing the stack.
        let huge = String(repeating: "[", count: 100_000)
        guard case .failure(let e3) = parseJSON(huge) else { Issue.record("parsed"); return }
        #expect(e3.code == .tooDeep)
    }

    @Test func parseNumberIsStrict() {
        #expect(JSONParser.parseNumber("5.2") == 5.2)
        #expect(JSONParser.parseNumber("-1e3") == -1000)
        #expect(JSONParser.parseNumber(" 5") == nil)
        #expect(JSONParser.parseNumber("5 ") == nil)
        #expect(JSONParser.parseNumber("05") == nil)
        #expect(JSONParser.parseNumber("nan") == nil)
        #expect(JSONParser.parseNumber("inf") == nil)
        #expect(JSONParser.parseNumber("0x1p3") == nil)
        #expect(JSONParser.parseNumber("") == nil)
        #expect(JSONParser.parseNumber("5.2abc") == nil)
    }

    @Test func serialisesCompactJSON() throws {
        let text = #"{"a":[1,2.5,true,null],"s":"q\"\n\u0001水"}"#
        let value = try JSONParser.parse(text)
        #expect(value.description == text)
        #expect(try JSONParser.parse(value.description) == value)
        #expect(JSONValue.format(5) == "5")
        #expect(JSONValue.format(-0.0) == "0")
        #expect(JSONValue.format(15.3) == "15.3")
        #expect(JSONValue.format(1e20) == "1e+20")
    }
}
