import Testing
@testable import ShennongTrace

@Suite struct TraceCodeTests {
    static let secret = Array("a test secret of at least 16 bytes".utf8)

    @Test("1,000,000 random forged codes are all refused by the HMAC check")
    func forgedCodesRefused() throws {
        let codec = try TraceCodec(secret: Self.secret)
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        var symbols = [UInt8](repeating: 0, count: TraceCode.length)
        for _ in 0..<1_000_000 {
            for i in symbols.indices {
                let r: UInt8 = generator.next()
                symbols[i] = Crockford.alphabet[Int(r & 31)]
            }
            if codec.isAuthentic(String(decoding: symbols, as: UTF8.self)) { accepted += 1 }
        }
        #expect(accepted == 0)
    }

    @Test("issued codes pass, in any case and grouping; one changed symbol or another secret fails")
    func issuedCodes() throws {
        let codec = try TraceCodec(secret: Self.secret)
        let other = try TraceCodec(secret: Array("another secret, also 16+ bytes".utf8))
        let codes = codec.generate(count: 2000)
        #expect(Set(codes).count == 2000)
        for code in codes {
            #expect(code.compact.count == 20)
            #expect(code.grouped.split(separator: "-").map(\.count) == [5, 5, 5, 5])
            #expect(codec.parse(code.grouped) == code)
            #expect(codec.parse(code.compact.lowercased()) == code)
            #expect(!other.isAuthentic(code.compact))
        }
        // Every position, every other symbol: refused.
        let code = Array(codes[0].compact.utf8)
        for i in code.indices {
            for s in Crockford.alphabet where s != code[i] {
                var changed = code
                changed[i] = s
                #expect(!codec.isAuthentic(String(decoding: changed, as: UTF8.self)))
            }
        }
        // Read aloud and typed back: I/L for 1 and O for 0 are folded.
        let typed = codes[0].grouped.replacingOccurrences(of: "1", with: "l").replacingOccurrences(of: "0", with: "O")
        #expect(codec.parse(typed) == codes[0])
        #expect(codec.parse(codes[0].compact + "0") == nil)
        #expect(codec.parse("<script>alert(1)</script>") == nil)
    }

    @Test("a short secret is refused")
    func shortSecret() {
        #expect(throws: TraceError.self) { try TraceCodec(secret: [1, 2, 3]) }
    }
}
