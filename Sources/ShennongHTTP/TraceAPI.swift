import ShennongCore
import Foundation
import Hummingbird
import NIOCore
import ShennongStore
import ShennongTrace

/// Staff traceability routes under `/api/v1/trace` (Bearer token): reads need `viewer`,
/// writes `operator`. Bodies are JSON with snake_case keys and times in ms since the epoch
/// (the CLI converts dates). A harvest inside a withdrawal period answers 422 with the
/// reason; a recalled batch 409.
public struct TraceAPI: RouteGroup {
    let trace: Traceability
    let store: any TraceLedger & TokenStore

    public init(trace: Traceability, store: any TraceLedger & TokenStore) {
        self.trace = trace
        self.store = store
    }

    public func register(on router: Router<StaffContext>) {
        let api = router.group("api/v1/trace").add(middleware: BearerAuthMiddleware(store: store))
        api.get("batches") { _, context in
            try context.require(.viewer)
            return try Self.json(["batches": try self.mapped { try self.trace.batchIDs() }])
        }
        api.post("producers") { request, context in
            try context.require(.operator)
            let producer = try await Self.decode(Producer.self, request, context)
            let row = try self.mapped { try self.trace.addProducer(producer, by: Self.who(context)) }
            return try Self.json(RecordDTO(row), status: .created)
        }
        api.post("plots") { request, context in
            try context.require(.operator)
            let plot = try await Self.decode(Plot.self, request, context)
            let row = try self.mapped { try self.trace.addPlot(plot, by: Self.who(context)) }
            return try Self.json(RecordDTO(row), status: .created)
        }
        api.post("batches") { request, context in
            try context.require(.operator)
            let batch = try await Self.decode(Batch.self, request, context)
            let row = try self.mapped { try self.trace.createBatch(batch, by: Self.who(context)) }
            return try Self.json(RecordDTO(row), status: .created)
        }
        api.get("batches/{id}") { _, context in
            try context.require(.viewer)
            let id = try context.parameters.require("id")
            return try Self.json(try self.mapped { try self.trace.dossier(batch: id) })
        }
        api.post("batches/{id}/certificate") { request, context in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await Self.decode(CertificateRequest.self, request, context)
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
            return try Self.json(certificate, status: .created)
        }
        api.post("batches/{id}/inspections") { request, context in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let inspection = try await Self.decode(Inspection.self, request, context)
            let row = try self.mapped { try self.trace.addInspection(batch: id, inspection, by: Self.who(context)) }
            return try Self.json(RecordDTO(row), status: .created)
        }
        api.post("batches/{id}/events") { request, context in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let event = try await Self.decode(TraceEvent.self, request, context)
            let row = try self.mapped { try self.trace.addEvent(batch: id, event, by: Self.who(context)) }
            return try Self.json(RecordDTO(row), status: .created)
        }
        api.post("batches/{id}/codes") { request, context in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await Self.decode(CodesRequest.self, request, context)
            let (codes, batch) = try self.mapped {
                (try self.trace.issueCodes(batch: id, count: body.count, by: Self.who(context)), try self.trace.dossier(batch: id).batch)
            }
            let rows = codes.map { code in
                let links = self.trace.links(code, batch: batch)
                return IssuedCodeDTO(code: code.grouped, url: links.url, digitalLink: links.digitalLink)
            }
            return try Self.json(IssuedCodesDTO(batch: id, product: batch.product, count: rows.count, codes: rows), status: .created)
        }
        api.post("batches/{id}/recall") { request, context in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await Self.decode(RecallRequest.self, request, context)
            return try Self.json(try self.mapped { try self.trace.recall(batch: id, reason: body.reason, by: Self.who(context)) }, status: .created)
        }
        api.post("batches/{id}/seal") { _, context in
            try context.require(.operator)
            let id = try context.parameters.require("id")
            return try Self.json(try self.mapped { try self.trace.seal(batch: id, by: Self.who(context)) }, status: .created)
        }
        api.get("batches/{id}/epcis") { _, context in
            try context.require(.viewer)
            let id = try context.parameters.require("id")
            let data = try self.mapped {
                try EPCISExport.document(
                    try self.trace.dossier(batch: id), codes: try self.store.traceCodes(batch: id),
                    base: self.trace.settings.publicBaseURL, now: Int64(Date().timeIntervalSince1970 * 1000))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/ld+json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        api.get("verify") { request, context in
            try context.require(.viewer)
            let code = request.uri.queryParameters["code"].map(String.init)
            return try Self.json(VerifyDTO(try self.mapped { try self.trace.verify(code: code) }))
        }
        api.get("codes/{code}") { _, context in
            try context.require(.viewer)
            let code = try context.parameters.require("code")
            guard let view = try self.mapped({ try self.trace.view(code: code) }) else {
                throw APIError(.notFound, "code \(code) is not issued")
            }
            return try TracePages.publicJSON(PublicTraceDTO(view), status: .ok)
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

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: StaffContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        do {
            return try decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "body: \(key.stringValue.snakeCased) is required")
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c), let DecodingError.dataCorrupted(c) {
            let path = c.codingPath.map(\.stringValue.snakeCased).joined(separator: ".")
            throw APIError(.badRequest, "body\(path.isEmpty ? "" : " " + path): \(c.debugDescription)")
        } catch {
            throw APIError(.badRequest, "body must be JSON: \(error)")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        try TracePages.publicJSON(value, status: status)
    }

    struct CertificateRequest: Decodable {
        var basis: [String]
        var issueDate: Int64?
        var quantity: Double?
        var unit: String?
        var commitment: String?
    }

    struct CodesRequest: Decodable {
        var count: Int
    }

    struct RecallRequest: Decodable {
        var reason: String
    }

    struct IssuedCodeDTO: Encodable {
        var code: String
        var url: String
        var digitalLink: String?
    }

    struct IssuedCodesDTO: Encodable {
        var batch: String
        var product: String
        var count: Int
        var codes: [IssuedCodeDTO]
    }

    struct RecordDTO: Encodable {
        var chain: String
        var seq: Int64
        var kind: String
        var subject: String
        var contentHash: String
        var prevHash: String
        var hash: String
        var recordedAt: Int64

        init(_ row: TraceRecordRow) {
            chain = row.chain
            seq = row.seq
            kind = row.kind
            subject = row.subject
            contentHash = row.contentHash
            prevHash = row.prevHash
            hash = row.hash
            recordedAt = row.recordedAt
        }
    }

    struct VerifyDTO: Encodable {
        var ok: Bool
        var chains: Int
        var records: Int
        var codes: Int
        var seals: Int
        var breaks: [ChainBreak]

        init(_ r: VerifyReport) {
            ok = r.ok
            chains = r.chains
            records = r.records
            codes = r.codes
            seals = r.seals
            breaks = r.breaks
        }
    }
}

extension String {
    /// `issueDate` → `issue_date`.
    var snakeCased: String {
        var out = ""
        for c in self {
            if c.isUppercase {
                out += "_" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }
}
