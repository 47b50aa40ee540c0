import ShennongCore
import Foundation
import Hummingbird
import Metrics
import Mustache
import NIOCore
import ShennongAPI
import ShennongSeal
import ShennongTrace

/// Public traceability routes (no token): the consumer page `/t/{code}`, its JSON
/// `/api/v1/trace/{code}`, the GS1 Digital Link resolver `/01/{gtin}/10/{lot}/21/{serial}`,
/// and the seal public key `/.well-known/shennong-trace-key` (PEM, SubjectPublicKeyInfo).
///
/// A forged or mistyped code is refused by its HMAC check before any lookup (Chinese 404);
/// after too many misses a client address gets 429 until its bucket refills. Every found
/// lookup counts a scan. Pages carry a Content-Security-Policy that allows no script.
public struct TracePages: RouteGroup {
    let trace: Traceability
    let templates: MustacheLibrary
    let trustForwardedFor: Bool
    /// Each batch's page rendered once, with holes for the code's own values.
    let pageCache = TracePageCache()
    /// The seals of the monitoring data, for the environment section's line (none: no line).
    public var seals: SealWatch?

    /// `templates` holds `page`, `notfound` and `style` (dashboards/trace/*.mustache).
    public init(trace: Traceability, templates: MustacheLibrary, trustForwardedFor: Bool = false) {
        self.trace = trace
        self.templates = templates
        self.trustForwardedFor = trustForwardedFor
    }

    /// Loads `*.mustache` from `directory` (synchronously, at start-up) and checks that the
    /// templates the pages need are there.
    public static func loadTemplates(directory: String) throws -> MustacheLibrary {
        let (library, missing) = try MustacheLibrary.load(directory: directory, needed: ["page", "notfound", "style"])
        if let missing {
            throw TraceError(.notFound, "trace template \(missing).mustache is missing from \(directory) (trace.templates_dir)")
        }
        return library
    }

    public func register(on router: Router<StaffContext>) {
        router.get("t/{code}") { request, context in try self.page(code: context.parameters.require("code"), request, context) }
        router.get("api/v1/trace/{code}") { request, context in
            try self.json(code: context.parameters.require("code"), request, context)
        }
        router.get("01/{gtin}/10/{lot}/21/{serial}") { request, context in
            let p = context.parameters
            return try self.render(
                try self.trace.lookup(
                    gtin: p.require("gtin"), lot: p.require("lot"), serial: p.require("serial"),
                    client: self.client(request, context)),
                html: !Self.wantsJSON(request))
        }
        router.get(".well-known/shennong-trace-key") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/x-pem-file; charset=us-ascii", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: TraceKeys.pem(self.trace.publicKey))))
        }
    }

    static func wantsJSON(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("application/json") == true
    }

    private func page(code: String, _ request: Request, _ context: StaffContext) throws -> Response {
        try render(try trace.lookup(code, client: client(request, context)), html: true)
    }

    private func json(code: String, _ request: Request, _ context: StaffContext) throws -> Response {
        try render(try trace.lookup(code, client: client(request, context)), html: false)
    }

    /// The client's address: the peer, or with `trust_forwarded_for` the first address of
    /// `X-Forwarded-For` (set it only behind a reverse proxy that overwrites the header).
    func client(_ request: Request, _ context: StaffContext) -> String {
        if trustForwardedFor, let forwarded = request.headers[.init("X-Forwarded-For")!],
            let first = forwarded.split(separator: ",").first
        {
            return first.trimmingCharacters(in: .whitespaces)
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }

    /// `shennong_trace_scans_total{format="page|json"}`: found lookups answered (each one is
    /// also a scan in the trace store's counters, written by the scan flush).
    static let scanCounters = (page: Counter(label: "shennong_trace_scans_total", dimensions: [("format", "page")]),
                               json: Counter(label: "shennong_trace_scans_total", dimensions: [("format", "json")]))

    /// The environment section's seal line when seals are watched.
    func sealLine(_ view: TraceView) -> String? {
        guard let seals, let e = view.dossier.environment else { return nil }
        return SealNotes.consumer(seals.coverage(from: e.from, to: e.to))
    }

    /// The page's model, with the environment section's seal line when seals are watched.
    func pageModel(_ view: TraceView) -> PageModel {
        var model = PageModel(view)
        model.environment?.dataSeal = sealLine(view)
        return model
    }

    func render(_ result: Traceability.Lookup, html: Bool) throws -> Response {
        switch result {
        case .found(let view):
            (html ? Self.scanCounters.page : Self.scanCounters.json).increment()
            if html {
                let page = pageCache.page(view, variant: sealLine(view), model: pageModel) {
                    templates.render($0, withTemplate: "page")
                }
                return Self.html(page ?? "", status: .ok)
            }
            return try APIResponseEncoder.response(API.PublicTrace(view), status: .ok)
        case .unknown:
            if html {
                return Self.html(
                    templates.render(
                        MessagePage(title: "未找到此追溯码", message: "此码无效，或不是本平台发放的追溯码。请核对后重试，谨防假冒。"),
                        withTemplate: "notfound") ?? "", status: .notFound)
            }
            throw APIError(.notFound, "未找到此追溯码（无效或非本平台发放） / unknown or forged code")
        case .rateLimited:
            if html {
                var response = Self.html(
                    templates.render(
                        MessagePage(title: "查询过于频繁", message: "查询过于频繁，请稍后再试。"), withTemplate: "notfound") ?? "",
                    status: .tooManyRequests)
                response.headers[.retryAfter] = "60"
                return response
            }
            throw APIError(.tooManyRequests, "查询过于频繁，请稍后再试 / too many unknown codes from this address")
        }
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Numbers as the page writes them: at most two decimals, no trailing zeros.
func plainNumber(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    if r == r.rounded() && abs(r) < 1e15 { return String(Int64(r)) }
    var s = String(format: "%.2f", r)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}

/// What the public page shows (strings formatted for people; Mustache escapes them).
struct PageModel {
    struct OriginModel {
        var name: String
        var location: String
        var area: String?
        var areaCode: String
        var coordinates: String?
    }
    struct InputModel {
        var kind: String
        var name: String
        var amount: String?
        var withdrawal: String?
    }
    struct EventModel {
        var stage: String
        var action: String
        var time: String
        var place: String
        var party: String
        var note: String?
        var inputs: [InputModel]
    }
    struct WarningModel {
        var level: String
        var rule: String
        var raised: String
        var closed: String
    }
    struct EnvironmentModel {
        var period: String
        var devices: Int
        var readings: Int
        var soilMoisture: String?
        var soilTemp: String?
        var airTemp: String?
        var rainfall: String?
        var oxygen: String?
        var ph: String?
        var classIII: String?
        var warnings: [WarningModel]
        var hasWarnings: Bool
        var warningCount: Int
        /// Whether the data behind it is sealed and verified.
        var dataSeal: String? = nil
    }
    struct CertificateModel {
        var product: String
        var quantity: String
        var producer: String
        var origin: String
        var contact: String
        var date: String
        var basis: String
        var commitment: String
    }
    struct InspectionModel {
        var sample: String
        var item: String
        var result: String
        var passed: Bool
        var lab: String
        var date: String
    }
    struct RecallModel {
        var reason: String
        var at: String
    }
    struct ScansModel {
        var count: String
        var first: String

        init(count: String, first: String) {
            self.count = count
            self.first = first
        }

        init(_ scans: ScanState) {
            self.init(count: String(scans.count), first: ChinaTime.format(scans.firstAt))
        }
    }

    var code: String
    var product: String
    var variety: String?
    var batch: String
    var quantity: String
    var planting: String
    var harvest: String?
    var gtin: String?
    /// The producer as the JSON shows it (no id, the phone masked).
    var producer: API.PublicProducer
    var origin: OriginModel
    var environment: EnvironmentModel?
    var events: [EventModel]
    var certificate: CertificateModel?
    var inspections: [InspectionModel]
    var hasInspections: Bool
    var recalled: Bool
    var recall: RecallModel?
    var suspect: Bool
    var scans: ScansModel
    var records: Int
    var head: String
    var sealed: String?

    init(_ v: TraceView) {
        let d = v.dossier
        code = v.code.grouped
        product = d.batch.product
        variety = d.batch.variety
        batch = d.batch.id
        quantity = plainNumber(d.batch.quantity) + " " + d.batch.unit
        planting = ChinaTime.format(d.batch.plantingDate, time: false)
        let harvestEvent = d.events.last { $0.event.action == TraceAction.harvest }
        harvest = harvestEvent.map { ChinaTime.format($0.event.time, time: false) }
        gtin = d.batch.gtin
        producer = API.PublicProducer(d.producer)
        origin = OriginModel(
            name: d.plot.name, location: d.plot.location,
            area: d.plot.area.map { plainNumber($0) + " " + d.plot.areaUnit }, areaCode: d.plot.areaCode,
            coordinates: d.plot.latitude.flatMap { lat in
                d.plot.longitude.map { "\(plainNumber(lat))°N, \(plainNumber($0))°E" }
            })
        environment = d.environment.map { e in
            let warnings = e.warnings.map { w in
                WarningModel(
                    level: ["blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"][w.level] ?? w.level, rule: w.ruleName ?? w.rule,
                    raised: ChinaTime.format(w.raisedAt),
                    closed: w.closedAt.map { ChinaTime.format($0) + (w.closedBy.map { " \($0)" } ?? "") + (w.note.map { "：\($0)" } ?? "") }
                        ?? "未关闭")
            }
            return EnvironmentModel(
                period: ChinaTime.format(e.from, time: false) + "至" + ChinaTime.format(e.to, time: false),
                devices: e.devices.count, readings: e.readings, soilMoisture: e.soilMoistureMean.map(plainNumber),
                soilTemp: e.soilTempMean.map(plainNumber), airTemp: e.airTempMean.map(plainNumber),
                rainfall: e.rainfallTotal.map(plainNumber),
                oxygen: e.dissolvedOxygen.map { plainNumber($0.min) + "–" + plainNumber($0.max) },
                ph: e.ph.map { plainNumber($0.min) + "–" + plainNumber($0.max) },
                classIII: e.classThreeShare.map { plainNumber($0 * 100) + "%" }, warnings: warnings,
                hasWarnings: !warnings.isEmpty, warningCount: warnings.count)
        }
        events = d.events.map { entry in
            let e = entry.event
            return EventModel(
                stage: e.stage.chineseName, action: TraceAction.chineseName(e.action), time: ChinaTime.format(e.time),
                place: e.place, party: e.party, note: e.note,
                inputs: e.inputs.map {
                    InputModel(kind: $0.kind.chineseName, name: $0.name, amount: $0.amount, withdrawal: $0.withdrawalDays.map(String.init))
                })
        }
        certificate = d.certificate.map { c in
            CertificateModel(
                product: c.product, quantity: plainNumber(c.quantity) + " " + c.unit, producer: c.producerName, origin: c.origin,
                contact: maskPhone(c.contact) == "****" ? c.contact : maskPhone(c.contact),
                date: ChinaTime.format(c.issueDate, time: false), basis: c.basis.map(\.rawValue).joined(separator: "、"),
                commitment: c.commitment)
        }
        inspections = d.inspections.map {
            InspectionModel(
                sample: $0.sample, item: $0.item, result: $0.result, passed: $0.passed, lab: $0.lab,
                date: ChinaTime.format($0.date, time: false))
        }
        hasInspections = !inspections.isEmpty
        recalled = d.recall != nil
        recall = d.recall.map { RecallModel(reason: $0.reason, at: ChinaTime.format($0.at)) }
        suspect = v.suspect
        scans = ScansModel(v.scans)
        records = d.records
        head = String(d.head.prefix(16))
        sealed = d.seal.map { ChinaTime.format($0.sealedAt) }
    }
}

// The page's model is looked up by name, without reflection: swift-mustache reflects a
// struct (`Mirror`) on every lookup, which made the page several times slower to render.
// A `nil` optional is "not there", as a missing key is.

extension PageModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "code": code
        case "product": product
        case "variety": variety
        case "batch": batch
        case "quantity": quantity
        case "planting": planting
        case "harvest": harvest
        case "gtin": gtin
        case "producer": producer
        case "origin": origin
        case "environment": environment
        case "events": events
        case "certificate": certificate
        case "inspections": inspections
        case "hasInspections": hasInspections
        case "recalled": recalled
        case "recall": recall
        case "suspect": suspect
        case "scans": scans
        case "records": records
        case "head": head
        case "sealed": sealed
        default: nil
        }
    }
}

extension API.PublicProducer: MustacheParent {
    /// The consumer page reads the producer's fields by name.
    public func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "creditCode": creditCode
        case "contact": contact
        case "phone": phone
        case "address": address
        default: nil
        }
    }
}

extension PageModel.OriginModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "location": location
        case "area": area
        case "areaCode": areaCode
        case "coordinates": coordinates
        default: nil
        }
    }
}

extension PageModel.InputModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "kind": kind
        case "name": self.name
        case "amount": amount
        case "withdrawal": withdrawal
        default: nil
        }
    }
}

extension PageModel.EventModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "stage": stage
        case "action": action
        case "time": time
        case "place": place
        case "party": party
        case "note": note
        case "inputs": inputs
        default: nil
        }
    }
}

extension PageModel.WarningModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "level": level
        case "rule": rule
        case "raised": raised
        case "closed": closed
        default: nil
        }
    }
}

extension PageModel.EnvironmentModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "period": period
        case "devices": devices
        case "readings": readings
        case "soilMoisture": soilMoisture
        case "soilTemp": soilTemp
        case "airTemp": airTemp
        case "rainfall": rainfall
        case "oxygen": oxygen
        case "ph": ph
        case "classIII": classIII
        case "warnings": warnings
        case "hasWarnings": hasWarnings
        case "warningCount": warningCount
        case "dataSeal": dataSeal
        default: nil
        }
    }
}

extension PageModel.CertificateModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "product": product
        case "quantity": quantity
        case "producer": producer
        case "origin": origin
        case "contact": contact
        case "date": date
        case "basis": basis
        case "commitment": commitment
        default: nil
        }
    }
}

extension PageModel.InspectionModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "sample": sample
        case "item": item
        case "result": result
        case "passed": passed
        case "lab": lab
        case "date": date
        default: nil
        }
    }
}

extension PageModel.RecallModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "reason": reason
        case "at": at
        default: nil
        }
    }
}

extension PageModel.ScansModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "count": count
        case "first": first
        default: nil
        }
    }
}
