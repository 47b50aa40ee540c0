/// 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters over
/// `0-9 A-H J-N P-R T U W-Y`, the last a check character over the first 17.
public enum CreditCode {
    /// The 31 characters, value order (no I, O, Z, S, V).
    static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// The check character of the first 17 characters, or `nil` if one is outside the alphabet.
    public static func checkCharacter(_ first17: some StringProtocol) -> Character? {
        let chars = Array(first17.uppercased())
        guard chars.count == 17 else { return nil }
        var sum = 0
        for (c, w) in zip(chars, weights) {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            sum += v * w
        }
        return alphabet[(31 - sum % 31) % 31]
    }

    /// True when `code` is 18 characters of the alphabet whose last is the right check character.
    public static func isValid(_ code: some StringProtocol) -> Bool {
        let chars = Array(code.uppercased())
        guard chars.count == 18, let check = checkCharacter(String(chars[..<17])) else { return false }
        return chars[17] == check
    }
}

/// GS1 Global Trade Item Numbers: GTIN-8/12/13/14 with the mod-10 check digit
/// (weights 3, 1, 3, … from the rightmost data digit).
public enum GTIN {
    /// The check digit of `data` (the digits before it), or `nil` for a non-digit.
    public static func checkDigit(_ data: some StringProtocol) -> Int? {
        var sum = 0
        for (i, c) in data.reversed().enumerated() {
            guard let d = c.wholeNumberValue, c.isASCII else { return nil }
            sum += d * (i % 2 == 0 ? 3 : 1)
        }
        return (10 - sum % 10) % 10
    }

    /// True when `gtin` is 8, 12, 13 or 14 digits with the right check digit.
    public static func isValid(_ gtin: some StringProtocol) -> Bool {
        guard [8, 12, 13, 14].contains(gtin.count), let last = gtin.last?.wholeNumberValue,
            let check = checkDigit(gtin.dropLast())
        else { return false }
        return last == check
    }

    /// The GTIN-14 form (left-padded with zeros) of a valid GTIN, or `nil`.
    public static func gtin14(_ gtin: some StringProtocol) -> String? {
        guard isValid(gtin) else { return nil }
        return String(repeating: "0", count: 14 - gtin.count) + gtin
    }
}

/// GB/T 2260 administrative area codes: six digits, a province prefix (11–82).
public enum AreaCode {
    static let provinces: Set<Int> = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
        61, 62, 63, 64, 65, 71, 81, 82,
    ]

    /// True when `code` is six ASCII digits with a known province prefix.
    public static func isValid(_ code: some StringProtocol) -> Bool {
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(code.prefix(2)) else {
            return false
        }
        return provinces.contains(p)
    }
}

/// GS1 Digital Link URIs: `https://{domain}/01/{gtin14}/10/{lot}/21/{serial}`.
public enum DigitalLink {
    /// Characters GS1 allows in AI 10 (lot) and AI 21 (serial) that need no escaping here.
    static func isSafe(_ s: some StringProtocol) -> Bool {
        !s.isEmpty && s.count <= 20 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }
    }

    /// The Digital Link of one item, or `nil` when the GTIN is invalid or the lot or serial
    /// is empty, longer than 20 characters or has characters outside `A-Z a-z 0-9 - . _`.
    ///
    /// `base` is the resolver's origin (`trace.public_base_url`), without a trailing slash.
    public static func uri(base: String, gtin: String, lot: String, serial: String, harvestDate: String? = nil) -> String? {
        guard let g = GTIN.gtin14(gtin), isSafe(lot), isSafe(serial) else { return nil }
        var uri = "\(base)/01/\(g)/10/\(lot)/21/\(serial)"
        if let harvestDate { uri += "?7007=\(harvestDate)" }
        return uri
    }
}
