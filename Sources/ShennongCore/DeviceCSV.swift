/// Bulk device registration from CSV (`shennong devices import FILE.csv`).
///
/// The first line names the columns, in any order: `id` and `profile` are required;
/// `domain` (else the profile's), `site`, `name`, `latitude`, `longitude`, `area_code`
/// (GB/T 2260, six digits) and `owner` are optional; every other column is a numeric device
/// attribute, such as a gauge's `warning_stage`, `guaranteed_stage` and
/// `historical_max_stage` (m). Empty cells are absent values. Fields may be quoted
/// (RFC 4180: `"a, b"`, `""` for a quote). A file is all or nothing: every problem is
/// reported with its line, and none of it is registered while any remains.
public enum DeviceCSV {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Every problem of a file that was refused.
    public struct Failure: Error, Sendable, Hashable {
        public var problems: [Problem]
    }

    static let known: Set<String> = ["id", "profile", "domain", "site", "name", "latitude", "longitude", "area_code", "owner"]

    /// Parses `text`; `profileDomain(name)` is `.some(domain?)` for a known profile, `nil`
    /// for an unknown one. Returns the devices, or every problem found.
    public static func parse(
        _ text: String, createdAt: Int64, profileDomain: (String) -> Domain??
    ) -> Result<[Device], Failure> {
        let rows = records(text)
        guard let header = rows.first else { return .failure(Failure(problems: [Problem(line: 1, message: "the file is empty")])) }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var problems: [Problem] = []
        for required in ["id", "profile"] where !columns.contains(required) {
            problems.append(Problem(line: header.line, message: "missing column \"\(required)\""))
        }
        var seen: Set<String> = []
        for (i, c) in columns.enumerated() {
            if c.isEmpty { problems.append(Problem(line: header.line, message: "column \(i + 1) has no name")) }
            if !seen.insert(c).inserted { problems.append(Problem(line: header.line, message: "column \"\(c)\" appears twice")) }
        }
        guard problems.isEmpty else { return .failure(Failure(problems: problems)) }

        var devices: [Device] = []
        var ids: [String: Int] = [:]
        for row in rows.dropFirst() {
            if row.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            func fail(_ message: String) { problems.append(Problem(line: row.line, message: message)) }
            guard row.fields.count == columns.count else {
                fail("\(row.fields.count) fields, the header has \(columns.count)")
                continue
            }
            var cells: [String: String] = [:]
            for (c, v) in zip(columns, row.fields) {
                let value = v.trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { cells[c] = value }
            }
            let before = problems.count
            let id = cells["id"] ?? ""
            if !Device.isValidID(id) { fail("device id \"\(id.prefix(80))\" must match [A-Za-z0-9_.-]{1,64}") }
            if let first = ids[id] { fail("device \(id) is also on line \(first)") } else { ids[id] = row.line }
            let profile = cells["profile"] ?? ""
            var domain: Domain?
            if let profileDomain = profileDomain(profile) {
                domain = profileDomain
            } else {
                fail(profile.isEmpty ? "no profile" : "unknown profile \"\(profile.prefix(80))\"")
            }
            if let text = cells["domain"] {
                if let d = Domain(rawValue: text), Domain.deviceDomains.contains(d) {
                    domain = d
                } else {
                    fail("domain \"\(text.prefix(40))\" is not one of \(Domain.deviceDomains.map(\.rawValue).joined(separator: ", "))")
                }
            }
            if domain == nil && problems.count == before { fail("profile \(profile) has no domain of its own: give a domain column") }
            func coordinate(_ key: String, _ range: ClosedRange<Double>) -> Double? {
                guard let text = cells[key] else { return nil }
                guard let v = Double(text), v.isFinite, range.contains(v) else {
                    fail("\(key) \"\(text.prefix(40))\" must be a number in \(Int(range.lowerBound))…\(Int(range.upperBound))")
                    return nil
                }
                return v
            }
            let latitude = coordinate("latitude", -90...90)
            let longitude = coordinate("longitude", -180...180)
            if let area = cells["area_code"], !(area.utf8.count == 6 && area.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }) {
                fail("area_code \"\(area.prefix(40))\" must be six digits (GB/T 2260)")
            }
            var attributes: [String: Double] = [:]
            for (key, text) in cells where !known.contains(key) {
                guard let v = Double(text), v.isFinite else {
                    fail("\(key) \"\(text.prefix(40))\" must be a number")
                    continue
                }
                attributes[key] = v
            }
            if let warning = attributes["warning_stage"], let guaranteed = attributes["guaranteed_stage"], guaranteed < warning {
                fail("guaranteed_stage \(guaranteed) is below warning_stage \(warning)")
            }
            guard problems.count == before, let domain else { continue }
            devices.append(Device(
                id: id, profile: profile, domain: domain, site: cells["site"], name: cells["name"], latitude: latitude,
                longitude: longitude, areaCode: cells["area_code"], owner: cells["owner"], createdAt: createdAt,
                attributes: attributes))
        }
        if devices.isEmpty && problems.isEmpty { problems.append(Problem(line: header.line, message: "no device rows")) }
        return problems.isEmpty ? .success(devices) : .failure(Failure(problems: problems))
    }

    /// RFC 4180 records with the line each starts on (a quoted field may span lines).
    static func records(_ text: String) -> [(line: Int, fields: [String])] {
        var out: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var line = 1, start = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }  // a BOM from spreadsheet exports
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) { out.append((start, fields)) }
            fields = []
            field = ""
            wasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
                wasQuoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else if c == "\r" {
                // CRLF: the \n ends the record.
            } else if c == "\n" {
                endRecord()
                line += 1
                start = line
            } else {
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return out
    }
}
