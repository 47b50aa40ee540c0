import ShennongCore
import Foundation
import Hummingbird
import NIOCore
import ShennongAPI
import ShennongTrace

/// Staff traceability routes under `/api/v1/trace` (Bearer token): reads need `viewer`,
/// writes `operator`. Bodies are the contract's types (snake_case keys, times in ms since
/// the epoch; the CLI converts dates). A harvest inside a withdrawal period answers 422 with the
/// reason; a recalled batch 409. A scoped token is refused (403): the ledger is not partitioned by device.
public struct TraceAPI: RouteGroup {
    let trace: Traceability
    let store: any TraceLedger & TokenStore

    public init(trace: Traceability, store: any TraceLedger & TokenStore) {
        self.trace = trace
        self.store = store
    }

    public func register(on router: Router<StaffContext>) {
        // The ledger is not partitioned by device: a scoped token is refused here (403).
        let api = router.group("api/v1/trace").add(middleware: BearerAuthMiddleware(store: store))
            .add(middleware: UnscopedOnlyMiddleware(what: "the trace ledger"))
        api.get("batches") { _, context -> API.BatchList in
            try context.require(.viewer)
            return API.BatchList(batches: try self.mapped { try self.trace.batchIDs() })
        }
        appending(api, "producers", API.Producer.self) { producer, _, by in try self.trace.addProducer(producer, by: by) }
        appending(api, "plots", API.Plot.self) { plot, _, by in try self.trace.addPlot(plot, by: by) }
        appending(api, "batches", API.Batch.self) { batch, _, by in try self.trace.createBatch(batch.checked(), by: by) }
        api.get("batches/{id}") { _, context -> API.BatchDossier in
            try context.require(.viewer)
            let id = try context.parameters.require("id")
            return try self.mapped { try self.trace.dossier(batch: id) }
        }
        api.post("batches/{id}/certificate") { request, context -> EditedResponse<API.Certificate> in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await request.decode(as: API.CertificateRequest.self, context: context)
            try checkTime(body.issueDate, "issue_date")
            var basis: [Certificate.Basis] = []
            for text in body.basis {
                guard let b = Certificate.Basis(rawValue: text) ?? Self.basisAliases[text] else {
                    throw APIError(
                        .badRequest,
                        "unknown basis \(text); use " + Certificate.Basis.allCases.map(\.rawValue).joined(separator: " / ")
                            + " (or quality-control / self-tested / commissioned-test)")
                }
                basis.append(b)
            }
            let certificate = try self.mapped {
                try self.trace.issueCertificate(
                    batch: id, basis: basis, issueDate: body.issueDate, quantity: body.quantity, unit: body.unit,
                    commitment: body.commitment, by: Self.who(context))
            }
            return EditedResponse(status: .created, response: certificate)
        }
        appending(api, "batches/{id}/inspections", API.Inspection.self) { inspection, id, by in
            try self.trace.addInspection(batch: id, inspection.checked(), by: by)
        }
        appending(api, "batches/{id}/events", API.TraceEvent.self) { event, id, by in
            try self.trace.addEvent(batch: id, event.checked(), by: by)
        }
        api.post("batches/{id}/codes") { request, context -> EditedResponse<API.IssuedCodes> in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await request.decode(as: API.CodesRequest.self, context: context)
            let (codes, batch) = try self.mapped {
                (try self.trace.issueCodes(batch: id, count: body.count, by: Self.who(context)), try self.trace.dossier(batch: id).batch)
            }
            let rows = codes.map { code in
                let links = self.trace.links(code, batch: batch)
                return API.IssuedCode(code: code.grouped, url: links.url, digitalLink: links.digitalLink)
            }
            return EditedResponse(
                status: .created, response: API.IssuedCodes(batch: id, product: batch.product, count: rows.count, codes: rows))
        }
        api.post("batches/{id}/recall") { request, context -> EditedResponse<API.Recall> in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await request.decode(as: API.RecallRequest.self, context: context)
            let recall = try self.mapped { try self.trace.recall(batch: id, reason: body.reason, by: Self.who(context)) }
            return EditedResponse(status: .created, response: recall)
        }
        api.post("batches/{id}/seal") { _, context -> EditedResponse<API.Seal> in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let seal = try self.mapped { try self.trace.seal(batch: id, by: Self.who(context)) }
            return EditedResponse(status: .created, response: seal)
        }
        api.get("batches/{id}/epcis") { _, context -> Response in
            try context.require(.viewer)
            let id = try context.parameters.require("id")
            let data = try self.mapped {
                try EPCISExport.document(
                    try self.trace.dossier(batch: id), codes: try self.store.traceCodes(batch: id),
                    base: self.trace.settings.publicBaseURL, now: trace.clock.now())
            }
            return Response(
                status: .ok, headers: [.contentType: "application/ld+json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        api.get("verify") { request, context -> API.VerifyReport in
            try context.require(.viewer)
            let code = request.uri.queryParameters["code"].map(String.init)
            return API.VerifyReport(try self.mapped { try self.trace.verify(code: code) })
        }
        api.get("codes/{code}") { _, context -> API.PublicTrace in
            try context.require(.viewer)
            let code = try context.parameters.require("code")
            guard let view = try self.mapped({ try self.trace.view(code: code) }) else {
                throw APIError(.notFound, "code \(code) is not issued")
            }
            return API.PublicTrace(view)
        }
    }

    /// `POST path`, an operator's write that appends a record to a chain: `write` gets the
    /// decoded body, the path's batch `{id}` (empty where the path has none) and who; the
    /// answer is 201 with the record.
    private func appending<Body: Decodable & Sendable>(
        _ api: RouterGroup<StaffContext>, _ path: RouterPath, _ body: Body.Type,
        _ write: @escaping @Sendable (Body, String, String) throws -> TraceRecordRow
    ) {
        api.post(path) { request, context -> EditedResponse<API.TraceRecord> in
            try context.require(.operator)
            let id = context.parameters.get("id") ?? ""
            let value = try await request.decode(as: Body.self, context: context)
            let row = try self.mapped { try write(value, id, Self.who(context)) }
            return EditedResponse(status: .created, response: API.TraceRecord(row))
        }
    }

    static let basisAliases: [String: Certificate.Basis] = [
        "quality-control": .qualityControl, "self-tested": .selfTested, "commissioned-test": .commissionedTest,
    ]

    static func who(_ context: StaffContext) -> String { context.token?.name ?? "staff" }

    /// Runs `body`, answering TraceError and StoreError with their HTTP status.
    func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TraceError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .invalidArgument: .badRequest
                case .notFound: .notFound
                case .conflict, .recalled: .conflict
                case .withdrawalPeriod: .unprocessableContent
                case .broken, .io: .internalServerError
                }
            throw APIError(status, error.message)
        } catch let error as StoreError where error.code == .conflict {
            throw APIError(.conflict, error.message)
        }
    }
}
