import ShennongCore
import Foundation

/// EPCIS 2.0 JSON-LD of a batch (GS1): commissioning at harvest (bizLocation = plot), the
/// transformation of the field lot into the packed lot and its items, shipping, receiving,
/// retail selling, and a recall as disposition `recalled`.
///
/// Identifiers: items are GS1 Digital Link URIs (`{base}/01/{gtin}/21/{serial}`) when the
/// batch has a GTIN, else the code's page URL; lots are `{base}/01/{gtin}/10/{lot}` or
/// `urn:shennong:lot:{lot}`; the plot is `urn:shennong:plot:{id}` and other places
/// `urn:shennong:place:{percent-encoded text}`. Times are Beijing time (+08:00).
public enum EPCISExport {
    public static let context = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

    /// The document as JSON bytes (keys sorted).
    public static func document(_ d: BatchDossier, codes: [String], base: String, now: Int64) throws -> Data {
        let batch = d.batch
        func itemURI(_ code: String) -> String {
            if let gtin = batch.gtin { return "\(base)/01/\(gtin)/21/\(code)" }
            return "\(base)/t/\(TraceCode(uncheckedCompact: code).grouped)"
        }
        func lotURI(_ lot: String) -> String {
            if let gtin = batch.gtin { return "\(base)/01/\(gtin)/10/\(lot)" }
            return "urn:shennong:lot:\(lot)"
        }
        let plotURI = "urn:shennong:plot:\(percent(d.plot.id))"
        func placeURI(_ place: String) -> String { place.isEmpty ? plotURI : "urn:shennong:place:\(percent(place))" }
        let items = codes.map(itemURI)
        var quantity: [String: Any] = ["epcClass": lotURI(batch.id), "quantity": batch.quantity]
        if let uom = uom(batch.unit) {
            quantity["uom"] = uom.code
            quantity["quantity"] = batch.quantity * uom.scale
        }

        var events: [[String: Any]] = []
        func event(_ type: String, _ entry: StageEntry?, time: Int64, _ fields: [String: Any]) {
            var e: [String: Any] = [
                "type": type, "eventTime": rfc3339(time), "eventTimeZoneOffset": "+08:00",
                "recordTime": rfc3339(entry?.recordedAt ?? now),
            ]
            if let entry { e["eventID"] = eventID(entry.hash) }
            e.merge(fields) { _, new in new }
            events.append(e)
        }
        var transformed = false
        for entry in d.events {
            let e = entry.event
            let epcs = e.item.map { [itemURI($0)] } ?? items
            switch e.action {
            case TraceAction.harvest:
                var fields: [String: Any] = [
                    "action": "ADD", "bizStep": "commissioning", "disposition": "active",
                    "readPoint": ["id": plotURI], "bizLocation": ["id": plotURI], "quantityList": [quantity],
                ]
                if !d.events.contains(where: { $0.event.action == TraceAction.packing }) && !epcs.isEmpty {
                    fields["epcList"] = epcs
                }
                event("ObjectEvent", entry, time: e.time, fields)
            case TraceAction.packing:
                var fields: [String: Any] = [
                    "inputQuantityList": [quantity], "bizStep": "packing", "disposition": "active",
                    "readPoint": ["id": placeURI(e.place)], "bizLocation": ["id": placeURI(e.place)],
                ]
                if let packed = e.packedLot {
                    var out = quantity
                    out["epcClass"] = lotURI(packed)
                    fields["outputQuantityList"] = [out]
                }
                if !epcs.isEmpty { fields["outputEPCList"] = epcs }
                if fields["outputQuantityList"] != nil || fields["outputEPCList"] != nil {
                    event("TransformationEvent", entry, time: e.time, fields)
                    transformed = true
                }
            case TraceAction.shipping, TraceAction.receiving, TraceAction.retailSelling:
                let disposition = [
                    TraceAction.shipping: "in_transit", TraceAction.receiving: "in_progress",
                    TraceAction.retailSelling: "retail_sold",
                ][e.action]!
                var fields: [String: Any] = [
                    "action": "OBSERVE", "bizStep": e.action, "disposition": disposition,
                    "readPoint": ["id": placeURI(e.place)], "bizLocation": ["id": placeURI(e.place)],
                ]
                if epcs.isEmpty { fields["quantityList"] = [quantity] } else { fields["epcList"] = epcs }
                event("ObjectEvent", entry, time: e.time, fields)
            default:
                continue
            }
        }
        _ = transformed
        if let recall = d.recall {
            var fields: [String: Any] = ["action": "OBSERVE", "disposition": "recalled"]
            if items.isEmpty { fields["quantityList"] = [quantity] } else { fields["epcList"] = items }
            event("ObjectEvent", nil, time: recall.at, fields)
        }
        let document: [String: Any] = [
            "@context": [context], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": rfc3339(now),
            "epcisBody": ["eventList": events],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// UN/CEFACT unit code and scale for common Chinese units.
    static func uom(_ unit: String) -> (code: String, scale: Double)? {
        switch unit.lowercased() {
        case "kg", "公斤", "千克": ("KGM", 1)
        case "斤": ("KGM", 0.5)
        case "t", "吨": ("TNE", 1)
        case "g", "克": ("GRM", 1)
        default: nil
        }
    }

    /// `2025-11-21T12:40:00.000+08:00`.
    static func rfc3339(_ ms: Int64) -> String {
        let local = ms + ChinaTime.offset
        let dayMs = ((local % 86_400_000) + 86_400_000) % 86_400_000
        let s = dayMs / 1000
        let frac = String(dayMs % 1000 + 1000).dropFirst()
        return ChinaTime.isoDate(ms) + "T" + ChinaTime.two(s / 3600) + ":" + ChinaTime.two(s / 60 % 60) + ":"
            + ChinaTime.two(s % 60) + "." + frac + "+08:00"
    }

    /// A UUID URN from the first 16 bytes of a record hash (version 8, RFC 9562).
    static func eventID(_ hash: String) -> String {
        var hex = Array(hash.prefix(32))
        guard hex.count == 32 else { return "urn:uuid:00000000-0000-8000-8000-000000000000" }
        hex[12] = "8"
        let variant = Int(String(hex[16]), radix: 16)! & 0x3 | 0x8
        hex[16] = Character(String(variant, radix: 16))
        let s = String(hex)
        let parts = [s.prefix(8), s.dropFirst(8).prefix(4), s.dropFirst(12).prefix(4), s.dropFirst(16).prefix(4), s.dropFirst(20)]
        return "urn:uuid:" + parts.joined(separator: "-")
    }

    static func percent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
