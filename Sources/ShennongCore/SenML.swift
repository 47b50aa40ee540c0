/// SenML JSON (RFC 8428) as ``PayloadDecoder`` reads it.
///
/// - Base fields `bn`, `bt`, `bu`, `bv`, `bver` apply to their record and every later one.
/// - Name: `bn + n`; the field looked up in the profile is the part after the last `:` or
///   `/` of that name (`urn:dev:ow:10e2073a01080063:` + `temp` → `temp`). The device is the
///   one of the MQTT topic, not the name.
/// - Time: `bt + t` seconds (fractional allowed); a resolved time below 2^28 is relative to
///   the receive time (so a record without any time is stamped with it), as RFC 8428 says.
/// - Value: `v` (+ `bv`), or `vb` as 1/0 for 0/1 metrics. A record with only `vs`, `vd` or
///   `s` is `wrong_type`; a record with base fields only sets them and is otherwise skipped.
/// - Unit: `u`, else `bu`. With a unit, the profile's mapping applies when its `unit` is the
///   same; otherwise ``UnitConversion`` converts to the canonical unit, or the record is
///   `unit_mismatch`. Without a unit the profile's mapping applies as for JSON fields.
/// - A must-understand field (name ending in `_`) or `bver` above 10 rejects its record as
///   `unsupported_payload`; other unknown fields (`ut`, `bs`, extensions) are ignored.
public enum SenML {
    /// The SenML version this decoder understands.
    public static let version = 10
    /// Resolved times below this many seconds are relative to the receive time.
    public static let relativeTimeLimit: Double = 268_435_456
    /// Keys that mark an array element as a SenML record.
    public static let keys: Set<String> = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"]

    /// The field part of a resolved SenML name: what follows its last `:` or `/`.
    public static func fieldName(of resolvedName: String) -> Substring {
        let utf8 = resolvedName.utf8
        guard let i = utf8.lastIndex(where: { $0 == 0x3A || $0 == 0x2F }) else { return resolvedName[...] }
        return resolvedName[utf8.index(after: i)...]
    }
}

extension DecodeContext {
    mutating func decodeSenML(_ records: [JSONValue]) {
        var baseName = "", baseTime = 0.0, baseUnit: String?, baseValue = 0.0
        for (i, element) in records.enumerated() {
            let label = "record [\(i)]"
            guard case .object(let record) = element else {
                reject(.unsupportedPayload, "a SenML record must be an object, got \(describe(element))", label: label)
                continue
            }
            var name: String?, unit: String?, value: JSONValue?, boolValue: JSONValue?, time: JSONValue?
            var otherValue: String?, hasBase = false, fault: String?, unsupported: String?
            for member in record.members {
                let v = member.value
                switch member.key {
                case "bn":
                    hasBase = true
                    if case .string(let s) = v { baseName = s } else { fault = "\"bn\" must be a string" }
                case "bt":
                    hasBase = true
                    if case .number(let d) = v { baseTime = d } else { fault = "\"bt\" must be a number" }
                case "bu":
                    hasBase = true
                    if case .string(let s) = v { baseUnit = s } else { fault = "\"bu\" must be a string" }
                case "bv":
                    hasBase = true
                    if case .number(let d) = v { baseValue = d } else { fault = "\"bv\" must be a number" }
                case "bver":
                    hasBase = true
                    if case .number(let d) = v {
                        if d > Double(SenML.version) { unsupported = "SenML version \(JSONValue.format(d)) is newer than version \(SenML.version)" }
                    } else {
                        fault = "\"bver\" must be a number"
                    }
                case "bs", "ut":
                    hasBase = true
                case "n":
                    if case .string(let s) = v { name = s } else { fault = "\"n\" must be a string" }
                case "u":
                    if case .string(let s) = v { unit = s } else { fault = "\"u\" must be a string" }
                case "v": value = v
                case "vb": boolValue = v
                case "vs", "vd", "s": otherValue = member.key
                case "t": time = v
                default:
                    if member.key.hasSuffix("_") { unsupported = "must-understand field \"\(member.key)\" is not supported" }
                }
            }
            if let unsupported {
                reject(.unsupportedPayload, unsupported, label: label)
                continue
            }
            let fullName = baseName + (name ?? "")
            let field = String(SenML.fieldName(of: fullName))
            if let fault {
                reject(.wrongType, "SenML \(fault), got a record \(describe(element))", field: field.isEmpty ? nil : field, label: label)
                continue
            }
            if name == nil && value == nil && boolValue == nil && otherValue == nil {
                if !hasBase { reject(.unsupportedPayload, "SenML record has neither a name nor a value", label: label) }
                continue
            }
            fieldsSeen += 1
            guard !field.isEmpty else {
                reject(.unknownMetric, "SenML name \"\(fullName)\" has no field part after its last ':' or '/'", label: label)
                continue
            }

            let metric: Metric, mapping: FieldMapping?
            switch profile.resolve(field: field) {
            case .mapped(let m, let fm): (metric, mapping) = (m, fm)
            case .canonical(let m): (metric, mapping) = (m, nil)
            case .ignored: continue
            case .unknown:
                rejectUnknown(field, value ?? boolValue ?? .null, label: label)
                continue
            }

            // Time: bt + t seconds; below 2^28 relative to the receive time.
            var t = baseTime
            if let time {
                guard case .number(let d) = time else {
                    reject(.badTimestamp, "field \"t\" of \"\(fullName)\": value \(describe(time)) is not a number of seconds; the record was not stored", field: field, label: label)
                    continue
                }
                t += d
            }
            let msDouble = (t * 1000).rounded() + (t < SenML.relativeTimeLimit ? Double(receivedAt) : 0)
            guard msDouble.isFinite, msDouble > -9.2e18, msDouble < 9.2e18 else {
                reject(.badTimestamp, "field \"t\" of \"\(fullName)\": time \(JSONValue.format(t)) s is not a usable time; the record was not stored", field: field, label: label)
                continue
            }
            let ms = Int64(msDouble)
            guard checkTime(ms, field: field, label: label) else { continue }

            // Value.
            let raw: Double
            if let value {
                guard case .number(let d) = value else {
                    reject(.wrongType, "field \"\(field)\": SenML \"v\" \(describe(value)) is not a number", field: field, label: label)
                    continue
                }
                raw = d + baseValue
            } else if let boolValue {
                guard case .bool(let b) = boolValue else {
                    reject(.wrongType, "field \"\(field)\": SenML \"vb\" \(describe(boolValue)) is not a boolean", field: field, label: label)
                    continue
                }
                guard metric.isBinary else {
                    reject(.wrongType, "field \"\(field)\": value \(b) is a boolean, but \(metric.name) takes a number (booleans are accepted for 0/1 metrics only)", field: field, label: label)
                    continue
                }
                raw = b ? 1 : 0
            } else {
                let what = otherValue.map { "only a \"\($0)\" value" } ?? "no value"
                reject(.wrongType, "field \"\(field)\": SenML record \"\(fullName)\" has \(what); Shennong stores numbers (\"v\") and 0/1 states (\"vb\")", field: field, label: label)
                continue
            }

            // Unit.
            let converted: Double
            var didConvert = false
            if let u = unit ?? baseUnit {
                if let mapping, mapping.unit == u {
                    converted = mapping.apply(raw)
                    didConvert = !mapping.isIdentity
                } else if let conversion = UnitConversion.conversion(from: u, to: metric.unit) {
                    converted = conversion.apply(raw)
                    didConvert = conversion != .identity
                } else {
                    let canonical = metric.unit.isEmpty ? "a dimensionless value" : metric.unit
                    reject(.unitMismatch, "field \"\(field)\": value \(JSONValue.format(raw)) in unit \"\(u)\" cannot be converted to \(canonical) (\(metric.name))", field: field, label: label)
                    continue
                }
            } else {
                converted = mapping?.apply(raw) ?? raw
                didConvert = mapping.map { !$0.isIdentity } ?? false
            }
            guard check(converted, raw: raw, field: field, metric: metric, converted: didConvert, label: label) else { continue }
            readings.append(Reading(device: device, metric: metric.name, timestamp: ms, value: converted))
        }
    }
}
