import Foundation

/// What a staff token may see and act on: domains, sites, area codes (GB/T 2260 prefixes) and
/// device ids. A value with no restriction at all (``everything``) sees every device.
///
/// Within one dimension the entries are alternatives (`site=A`, `site=B`: either site); across
/// dimensions they all hold (`domain=water` and `area=4418`: water devices of Qingyuan). A device
/// is in scope when every non-empty dimension admits it:
///
/// - `domains`: the device's domain is one of them;
/// - `sites`: the device's site is one of them (a device without a site is outside);
/// - `areas`: the device's area code starts with one of them (`44` Guangdong, `4418` Qingyuan,
///   `441882` Lianzhou; a device without an area code is outside);
/// - `devices`: the device's id is one of them.
///
/// The text form (``parse(_:)``, ``text``) is `key=value` pairs separated by commas, keys
/// `domain`, `site`, `area` and `device`, a key repeated for alternatives:
/// `domain=water,site=东陂村,site=西岸村,area=4418`. A site name cannot contain a comma.
public struct AccessScope: Sendable, Hashable, Codable {
    /// Sorted, no duplicates (as every other list here).
    public private(set) var domains: [Domain]
    public private(set) var sites: [String]
    /// Area-code prefixes: 2 to 12 digits (province 2, city 4, county 6, town 9, village 12).
    public private(set) var areas: [String]
    public private(set) var devices: [String]

    /// No restriction: every device.
    public static let everything = AccessScope()

    public init(domains: [Domain] = [], sites: [String] = [], areas: [String] = [], devices: [String] = []) {
        self.domains = Array(Set(domains)).sorted { $0.rawValue < $1.rawValue }
        self.sites = Array(Set(sites)).sorted()
        self.areas = Array(Set(areas)).sorted()
        self.devices = Array(Set(devices)).sorted()
    }

    /// Whether this scope restricts nothing (every device is in it).
    public var isEverything: Bool { domains.isEmpty && sites.isEmpty && areas.isEmpty && devices.isEmpty }

    /// Whether `device` is in this scope. Pure: no lookup, no clock.
    public func contains(_ device: Device) -> Bool {
        if !domains.isEmpty && !domains.contains(device.domain) { return false }
        if !sites.isEmpty {
            guard let site = device.site, sites.contains(site) else { return false }
        }
        if !areas.isEmpty {
            guard let code = device.areaCode, areas.contains(where: { code.hasPrefix($0) }) else { return false }
        }
        if !devices.isEmpty && !devices.contains(device.id) { return false }
        return true
    }

    /// Whether a device could be in this scope knowing only its domain (the rest unknown): a
    /// quick check before a device lookup.
    public func admits(domain: Domain) -> Bool { domains.isEmpty || domains.contains(domain) }

    /// The text form, keys in the order domain, site, area, device; empty for ``everything``.
    public var text: String {
        (domains.map { "domain=\($0.rawValue)" } + sites.map { "site=\($0)" } + areas.map { "area=\($0)" }
            + devices.map { "device=\($0)" }).joined(separator: ",")
    }

    /// Why a scope text cannot be read.
    public struct ParseError: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
    }

    /// Reads the text form (`domain=water,site=东陂村,area=4418,device=pond-1`); an empty text is
    /// ``everything``. Refuses an unknown key, an unknown domain, an area that is not 2–12 digits
    /// and a device id that is not one.
    public static func parse(_ text: String) throws(ParseError) -> AccessScope {
        var domains: [Domain] = [], sites: [String] = [], areas: [String] = [], devices: [String] = []
        for part in text.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.isEmpty { continue }
            guard let equals = pair.firstIndex(of: "=") else {
                throw ParseError(description: "scope entry \(pair) is not key=value (domain=, site=, area=, device=)")
            }
            let key = pair[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw ParseError(description: "scope entry \(pair) has no value") }
            switch key {
            case "domain":
                guard let domain = Domain(rawValue: value), Domain.deviceDomains.contains(domain) else {
                    let known = Domain.deviceDomains.map(\.rawValue).joined(separator: ", ")
                    throw ParseError(description: "unknown domain \(value) in scope; known: \(known)")
                }
                domains.append(domain)
            case "site":
                guard value.count <= 200 else { throw ParseError(description: "site name longer than 200 characters in scope") }
                sites.append(value)
            case "area":
                guard isAreaPrefix(value) else {
                    throw ParseError(description: "area \(value) in scope is not a GB/T 2260 code prefix (2 to 12 digits: 44, 4418, 441882)")
                }
                areas.append(value)
            case "device":
                guard Device.isValidID(value) else {
                    throw ParseError(description: "device \(value) in scope is not a device id ([A-Za-z0-9_.-]{1,64})")
                }
                devices.append(value)
            default:
                throw ParseError(description: "unknown scope key \(key); use domain=, site=, area= or device=")
            }
        }
        return AccessScope(domains: domains, sites: sites, areas: areas, devices: devices)
    }

    /// 2 to 12 ASCII digits.
    public static func isAreaPrefix(_ text: String) -> Bool {
        (2...12).contains(text.utf8.count) && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

extension AccessScope: CustomStringConvertible {
    /// The text form, or `*` for everything.
    public var description: String { isEverything ? "*" : text }
}
