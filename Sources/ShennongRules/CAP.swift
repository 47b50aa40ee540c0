import Foundation
import ShennongAlerts
import ShennongCore

/// Who issues the CAP messages and in which time zone.
public struct CAPOptions: Sendable, Hashable {
    /// `sender`: an id of the issuing system (no spaces, commas or `<&`).
    public var sender: String
    /// GB/T 2260 area code (six digits) of the issuing county, for identifiers and geocodes.
    public var areaCode: String
    /// Three-character code of the issuing body within the area (GB/T 35965.1 identifiers [check]).
    public var orgCode: String
    /// UTC offset in minutes of `sent` and the other times (+08:00: 480).
    public var offsetMinutes: Int

    public init(sender: String = "shennong@localhost", areaCode: String = "440000", orgCode: String = "001", offsetMinutes: Int = 480) {
        self.sender = sender
        self.areaCode = areaCode
        self.orgCode = orgCode
        self.offsetMinutes = offsetMinutes
    }
}

/// CAP 1.2 (OASIS) XML of an alert, in the shape China's profile (GB/T 35965.1-2018) uses.
///
/// The first message of an alert is `msgType` Alert; later states are Update, referencing
/// the first; a resolved or closed alert is an Update with `responseType` AllClear and
/// urgency Past. Severity: red Extreme, orange Severe, yellow Moderate, blue Minor; a
/// sensor-observed crossing is certainty Observed, urgency Immediate (STANDARDS.md).
/// Times carry a numeric offset (`+08:00`), never `Z`, and whole seconds, as the CAP
/// schema's dateTime pattern requires.
public enum CAPDocument {
    /// The identifier of the alert's first message: `{area6}{org3}000_YYYYMMDDhhmmss_{id}`.
    public static func identifier(_ alert: AlertRecord, options: CAPOptions) -> String {
        "\(options.areaCode)\(options.orgCode)000_\(LocalTime.compact(alert.raisedAt, offsetMinutes: options.offsetMinutes))_\(alert.id)"
    }

    /// The XML of `alert` as it stands, sent at `sent` (ms).
    public static func xml(
        alert: AlertRecord, transitions: [AlertTransition], device: Device?, rule: Rule?, options: CAPOptions, sent: Int64
    ) -> String {
        let time = { (ms: Int64) in LocalTime.format(ms, offsetMinutes: options.offsetMinutes) }
        let level = alert.level
        let first = identifier(alert, options: options)
        let isUpdate = transitions.count > 1 || alert.status != .open
        let allClear = alert.status == .resolved || alert.status == .closed
        let lastTransition = transitions.last?.id ?? 0
        let ident = isUpdate ? "\(first)_\(lastTransition)" : first
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
        x += element("identifier", ident, 1)
        x += element("sender", options.sender, 1)
        x += element("sent", time(sent), 1)
        x += element("status", "Actual", 1)
        x += element("msgType", isUpdate ? "Update" : "Alert", 1)
        x += element("source", "Shennong 神农 \(alert.rule)", 1)
        x += element("scope", "Public", 1)
        if isUpdate {
            x += element("references", "\(options.sender),\(first),\(time(alert.raisedAt))", 1)
        }
        x += "  <info>\n"
        x += element("language", "zh-CN", 2)
        x += element("category", rule?.category ?? "Other", 2)
        x += element("event", rule?.name ?? alert.rule, 2)
        x += element("responseType", allClear ? "AllClear" : (alert.level >= .orange ? "Prepare" : "Monitor"), 2)
        x += element("urgency", allClear ? "Past" : "Immediate", 2)
        x += element("severity", level.capSeverity, 2)
        x += element("certainty", "Observed", 2)
        x += "    <eventCode>\n" + element("valueName", "shennong:rule", 3) + element("value", alert.rule, 3) + "    </eventCode>\n"
        x += element("effective", time(alert.raisedAt), 2)
        x += element("onset", time(alert.raisedAt), 2)
        x += element("senderName", "神农预警 Shennong early warnings", 2)
        x += element("headline", allClear ? "【已解除】" + alert.title : alert.title, 2)
        x += element("description", alert.message, 2)
        if let instruction = rule?.instruction { x += element("instruction", instruction, 2) }
        var parameters: [(String, String)] = [
            ("level", level.name), ("grade", level.roman), ("status", alert.status.rawValue), ("device", alert.device),
        ]
        if let metric = alert.metric { parameters.append(("metric", metric)) }
        if let value = alert.value { parameters.append(("value", AlertText.format(value))) }
        if let threshold = alert.threshold { parameters.append(("threshold", AlertText.format(threshold))) }
        for (name, value) in parameters {
            x += "    <parameter>\n" + element("valueName", name, 3) + element("value", value, 3) + "    </parameter>\n"
        }
        x += "    <area>\n"
        let place = [device?.site, device?.name, alert.device].compactMap { $0 }.first ?? alert.device
        x += element("areaDesc", place == alert.device ? "监测点 \(alert.device)" : "\(place)（监测点 \(alert.device)）", 3)
        if let lat = device?.latitude, let lon = device?.longitude, (-90...90).contains(lat), (-180...180).contains(lon) {
            x += element("circle", "\(lat),\(lon) 1", 3)
        }
        let area = device?.areaCode ?? options.areaCode
        x += "      <geocode>\n" + element("valueName", "GB/T 2260", 4) + element("value", area, 4) + "      </geocode>\n"
        x += "    </area>\n"
        x += "  </info>\n"
        x += "</alert>\n"
        return x
    }

    static func element(_ name: String, _ text: String, _ depth: Int) -> String {
        String(repeating: "  ", count: depth) + "<\(name)>\(XMLText.escape(text))</\(name)>\n"
    }
}
