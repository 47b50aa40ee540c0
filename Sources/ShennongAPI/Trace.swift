import ShennongCore
import ShennongTrace

// Traceability (一物一码). Times are epoch milliseconds.
//
// The trace module's values are the contract's bodies where their JSON is the schema's (their
// keys are the canonical JSON's, snake_case): producers, plots, batches, certificates,
// inspections, inputs, stage events, environment summaries, recalls, seals and dossiers.
// Requests and answers that are the API's own (code issues, verify reports, the public view)
// are declared here.

extension API {
    public typealias Producer = ShennongTrace.Producer
    public typealias Plot = ShennongTrace.Plot
    public typealias Batch = ShennongTrace.Batch
    public typealias Certificate = ShennongTrace.Certificate
    public typealias Inspection = ShennongTrace.Inspection
    public typealias ProductionInput = ShennongTrace.ProductionInput
    public typealias TraceEvent = ShennongTrace.TraceEvent
    public typealias StageEntry = ShennongTrace.StageEntry
    public typealias Range = ShennongTrace.EnvironmentSummary.Range
    public typealias Warning = ShennongTrace.WarningRecord
    public typealias EnvironmentSummary = ShennongTrace.EnvironmentSummary
    public typealias Recall = ShennongTrace.Recall
    public typealias Seal = ShennongTrace.Seal
    public typealias BatchDossier = ShennongTrace.BatchDossier
    public typealias ChainBreak = ShennongTrace.ChainBreak
}

extension Producer: APIObject {}
extension ProducerDetails: APIObject {
    public static var schemaName: String { "PublicProducer" }
}
extension Plot: APIObject {}
extension Batch: APIObject {}
extension Certificate: APIObject {}
extension Inspection: APIObject {}
extension ProductionInput: APIObject {}
extension TraceEvent: APIObject {}
extension StageEntry: APIObject {}
extension EnvironmentSummary.Range: APIObject {}
extension WarningRecord: APIObject {
    public static var schemaName: String { "Warning" }
}
extension EnvironmentSummary: APIObject {}
extension Recall: APIObject {}
extension Seal: APIObject {}
extension BatchDossier: APIObject {}
extension ChainBreak: APIObject {}

extension API {
    /// `GET /api/v1/trace/batches`: the batch ids.
    public struct BatchList: APIObject, Hashable {
        public var batches: [String]
        public init(batches: [String]) { self.batches = batches }
    }

    /// The body of `POST /api/v1/trace/batches/{id}/certificate`; what is absent comes from the batch.
    public struct CertificateRequest: APIObject, Hashable {
        /// A basis in Chinese, or `quality-control` / `self-tested` / `commissioned-test`.
        public var basis: [String]
        /// Default today.
        public var issueDate: Int64?
        public var quantity: Double?
        public var unit: String?
        /// Default: the regulation's text.
        public var commitment: String?

        public init(
            basis: [String], issueDate: Int64? = nil, quantity: Double? = nil, unit: String? = nil, commitment: String? = nil
        ) {
            self.basis = basis
            self.issueDate = issueDate
            self.quantity = quantity
            self.unit = unit
            self.commitment = commitment
        }

        enum CodingKeys: String, CodingKey {
            case basis, quantity, unit, commitment
            case issueDate = "issue_date"
        }
    }

    /// The body of `POST /api/v1/trace/batches/{id}/recall`.
    public struct RecallRequest: APIObject, Hashable {
        /// Shown to consumers.
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// A record appended to a hash chain (`registry` or `batch:{id}`).
    public struct TraceRecord: APIObject, Hashable {
        public var chain: String
        public var seq: Int64
        public var kind: String
        public var subject: String
        public var contentHash: String
        public var prevHash: String
        public var hash: String
        public var recordedAt: Int64

        enum CodingKeys: String, CodingKey {
            case chain, seq, kind, subject, hash
            case contentHash = "content_hash"
            case prevHash = "prev_hash"
            case recordedAt = "recorded_at"
        }
    }

    /// The body of `POST /api/v1/trace/batches/{id}/codes`.
    public struct CodesRequest: APIObject, Hashable {
        public var count: Int
        public init(count: Int) { self.count = count }
    }

    /// An issued item code with its page URL and GS1 Digital Link.
    public struct IssuedCode: APIObject, Hashable {
        public var code: String
        public var url: String
        public var digitalLink: String?

        public init(code: String, url: String, digitalLink: String? = nil) {
            self.code = code
            self.url = url
            self.digitalLink = digitalLink
        }

        enum CodingKeys: String, CodingKey {
            case code, url
            case digitalLink = "digital_link"
        }
    }

    /// The answer to `POST /api/v1/trace/batches/{id}/codes`.
    public struct IssuedCodes: APIObject, Hashable {
        public var batch: String
        public var product: String
        public var count: Int
        public var codes: [IssuedCode]

        public init(batch: String, product: String, count: Int, codes: [IssuedCode]) {
            self.batch = batch
            self.product = product
            self.count = count
            self.codes = codes
        }
    }

    /// `GET /api/v1/trace/verify`.
    public struct VerifyReport: APIObject, Hashable {
        /// No chain is broken.
        public var ok: Bool
        public var chains: Int
        public var records: Int
        public var codes: Int
        public var seals: Int
        public var breaks: [ChainBreak]

    }

    /// The producer as consumers see it: its details, the phone masked (138****1234), no id.
    public typealias PublicProducer = ProducerDetails

    /// How often, since when and from how many networks a code was scanned.
    public struct Scans: APIObject, Hashable {
        public var count: Int64
        public var firstAt: Int64
        public var networks: Int

        enum CodingKeys: String, CodingKey {
            case count, networks
            case firstAt = "first_at"
        }
    }

    /// The batch's chain as the public JSON shows it.
    public struct Chain: APIObject, Hashable {
        public var records: Int
        public var head: String
        public var seal: Seal?
        /// The path of the seal public key.
        public var publicKey: String

        enum CodingKeys: String, CodingKey {
            case records, head, seal
            case publicKey = "public_key"
        }
    }

    /// What the consumer page of a code shows, as JSON (`/api/v1/trace/{code}`,
    /// `/api/v1/trace/codes/{code}`).
    public struct PublicTrace: APIObject, Hashable {
        /// The code, grouped.
        public var code: String
        /// ok, suspect or recalled.
        public var status: String
        public var recalled: Bool
        public var recall: Recall?
        public var suspect: Bool
        public var scans: Scans
        public var batch: Batch
        public var producer: PublicProducer
        public var plot: Plot
        public var environment: EnvironmentSummary?
        public var events: [TraceEvent]
        public var certificate: Certificate?
        public var inspections: [Inspection]
        public var chain: Chain
        public var url: String
        public var digitalLink: String?

        enum CodingKeys: String, CodingKey {
            case code, status, recalled, recall, suspect, scans, batch, producer, plot, environment, events, certificate
            case inspections, chain, url
            case digitalLink = "digital_link"
        }
    }
}

extension API.TraceRecord {
    /// A chain record as the API answers it: its header and hashes, without the payload.
    public init(_ row: TraceRecordRow) {
        self.init(
            chain: row.chain, seq: row.seq, kind: row.kind, subject: row.subject, contentHash: row.contentHash,
            prevHash: row.prevHash, hash: row.hash, recordedAt: row.recordedAt)
    }
}

extension API.VerifyReport {
    /// What `trace verify` found.
    public init(_ r: ShennongTrace.VerifyReport) {
        self.init(ok: r.ok, chains: r.chains, records: r.records, codes: r.codes, seals: r.seals, breaks: r.breaks)
    }
}

extension API.PublicProducer {
    /// The producer as consumers see it, on the page and in its JSON: no id, the phone masked.
    public init(_ p: Producer) {
        self = p.details
        phone = phone.map(maskPhone)
    }
}

extension API.PublicTrace {
    /// What a code's public page shows: the producer's phone and the certificate's contact
    /// masked, the plot without its devices, the recall without who made it.
    public init(_ v: TraceView) {
        let d = v.dossier
        let recalled = d.recall != nil
        var certificate = d.certificate
        if let contact = certificate?.contact, maskPhone(contact) != "****" { certificate?.contact = maskPhone(contact) }
        var plot = d.plot
        plot.devices = []
        self.init(
            code: v.code.grouped, status: recalled ? "recalled" : v.suspect ? "suspect" : "ok", recalled: recalled,
            recall: d.recall.map { API.Recall(reason: $0.reason, at: $0.at, by: "") }, suspect: v.suspect,
            scans: API.Scans(count: v.scans.count, firstAt: v.scans.firstAt, networks: v.scans.networks),
            batch: d.batch,
            producer: API.PublicProducer(d.producer),
            plot: plot, environment: d.environment, events: d.events.map(\.event),
            certificate: certificate, inspections: d.inspections,
            chain: API.Chain(records: d.records, head: d.head, seal: d.seal, publicKey: "/.well-known/shennong-trace-key"),
            url: v.pageURL, digitalLink: v.digitalLink)
    }
}
