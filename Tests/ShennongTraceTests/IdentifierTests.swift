import Testing
@testable import ShennongTrace

@Suite struct IdentifierTests {
    /// Published codes (GB 32100-2015's own example and two enterprises').
    static let validCreditCodes = ["91350100M000100Y43", "91110000600037341L", "914403001922038216"]

    @Test("统一社会信用代码: valid codes pass; every single-character change and every bad shape fails")
    func creditCodes() {
        for code in Self.validCreditCodes {
            #expect(CreditCode.isValid(code), "\(code)")
            #expect(CreditCode.isValid(code.lowercased()), "lower case \(code)")
            #expect(CreditCode.checkCharacter(code.prefix(17)) == code.last)
            // Any substitution at any position (check character included) is caught.
            let chars = Array(code)
            for i in chars.indices {
                for c in CreditCode.alphabet where c != chars[i] {
                    var changed = chars
                    changed[i] = c
                    #expect(!CreditCode.isValid(String(changed)), "\(String(changed)) passed")
                }
            }
            #expect(!CreditCode.isValid(code.dropLast()))
            #expect(!CreditCode.isValid(code + "0"))
        }
        // Letters outside the alphabet (I, O, Z, S, V) are refused even with any check character.
        for bad in ["I", "O", "Z", "S", "V"] {
            let code = "9135010" + bad + "M000100Y4"
            for check in CreditCode.alphabet { #expect(!CreditCode.isValid(code + String(check))) }
        }
        #expect(!CreditCode.isValid(""))
    }

    @Test("GTIN check digits: the known-good GTINs of STANDARDS.md pass, every other last digit fails")
    func gtins() {
        for gtin in ["09521234543213", "00614141123452", "70614141123451", "614141123452"] {
            #expect(GTIN.isValid(gtin), "\(gtin)")
            #expect(GTIN.checkDigit(gtin.dropLast()) == gtin.last?.wholeNumberValue)
            for d in 0...9 where d != gtin.last?.wholeNumberValue {
                #expect(!GTIN.isValid(gtin.dropLast() + String(d)), "\(gtin.dropLast())\(d)")
            }
        }
        #expect(GTIN.gtin14("614141123452") == "00614141123452")
        #expect(GTIN.gtin14("9521234543213") == "09521234543213")
        #expect(GTIN.gtin14("0952123454321X") == nil)
        #expect(!GTIN.isValid("952123454321"))  // 12 digits, wrong check
        #expect(!GTIN.isValid("123"))
    }

    @Test("GS1 Digital Link: GTIN-14, lot and serial in qualifier order; bad parts refused")
    func digitalLink() {
        #expect(
            DigitalLink.uri(base: "https://trace.example.cn", gtin: "614141123452", lot: "B2025-03", serial: "ABCDE12345")
                == "https://trace.example.cn/01/00614141123452/10/B2025-03/21/ABCDE12345")
        #expect(DigitalLink.uri(base: "https://x", gtin: "09521234543214", lot: "L", serial: "S") == nil)
        #expect(DigitalLink.uri(base: "https://x", gtin: "09521234543213", lot: String(repeating: "L", count: 21), serial: "S") == nil)
        #expect(DigitalLink.uri(base: "https://x", gtin: "09521234543213", lot: "L/1", serial: "S") == nil)
    }

    @Test("GB/T 2260 area codes: six digits with a province prefix")
    func areaCodes() {
        #expect(AreaCode.isValid("441882"))  // 连州市
        #expect(AreaCode.isValid("110101"))
        #expect(!AreaCode.isValid("44188"))
        #expect(!AreaCode.isValid("991882"))
        #expect(!AreaCode.isValid("44188a"))
    }

    @Test("phone numbers are masked as 138****1234")
    func masking() {
        #expect(maskPhone("13812341234") == "138****1234")
        #expect(maskPhone("+86 138-1234-1234") == "861****1234")
        #expect(maskPhone("12345") == "****")
    }
}

/// Beijing-time formatting of the trace pages.
struct ChinaTimeTests {
    @Test func formatsBeijingTime() {
        // 2025-11-21T04:40:00Z is 12:40 in Beijing.
        #expect(ChinaTime.format(1_763_700_000_000) == "2025年11月21日 12:40")
        #expect(ChinaTime.isoDate(1_763_700_000_000) == "2025-11-21")
    }

    @Test("a stored time far outside years 1–9999 is shown at the edge, never overflows")
    func extremeTimesDoNotTrap() {
        #expect(ChinaTime.format(.max) == "9999年12月31日 23:59")
        #expect(ChinaTime.format(.min) == "1年1月1日 00:00")
        #expect(!ChinaTime.isoDate(.max).isEmpty && !ChinaTime.isoDate(.min).isEmpty)
        #expect(ChinaTime.gs1Date(.max).count == 6)
    }
}
