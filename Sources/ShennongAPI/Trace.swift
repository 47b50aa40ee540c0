// Traceability (一物一码). Times are epoch milliseconds.

extension API {
    /// A producer (生产经营者): a farm, cooperative or company.
    public struct Producer: APIObject, Hashable {
        /// `[A-Za-z0-9_.-]{1,64}`.
        public var id: String
        public var name: String
        /// 统一社会信用代码 (18 characters, checked).
        public var creditCode: String
        public var contact: String?
        public var phone: String?
        public var address: String?
        /// GB/T 2260 six-digit area code.
        public var areaCode: String

        public init(
            id: String, name: String, creditCode: String, contact: String? = nil, phone: String? = nil,
            address: String? = nil, areaCode: String
        ) {
            self.id = id
            self.name = name
            self.creditCode = creditCode
            self.contact = contact
            self.phone = phone
            self.address = address
            self.areaCode = areaCode
        }

        enum CodingKeys: String, CodingKey {
            case id, name, contact, phone, address
            case creditCode = "credit_code"
            case areaCode = "area_code"
        }
    }

    /// A plot (地块), pond or orchard of a producer, with the devices that watch it.
    public struct Plot: APIObject, Hashable {
        public var id: String
        public var producer: String
        public var name: String
        /// Where it is, in words (镇、村、组).
        public var location: String
        public var latitude: Double?
        public var longitude: Double?
        public var area: Double?
        public var areaUnit: String
        public var areaCode: String
        /// Devices whose readings make the production environment.
        public var devices: [String]

        public init(
            id: String, producer: String, name: String, location: String, latitude: Double? = nil,
            longitude: Double? = nil, area: Double? = nil, areaUnit: String, areaCode: String, devices: [String]
        ) {
            self.id = id
            self.producer = producer
            self.name = name
            self.location = location
            self.latitude = latitude
            self.longitude = longitude
            self.area = area
            self.areaUnit = areaUnit
            self.areaCode = areaCode
            self.devices = devices
        }

        enum CodingKeys: String, CodingKey {
            case id, producer, name, location, latitude, longitude, area, devices
            case areaUnit = "area_unit"
            case areaCode = "area_code"
        }
    }

    /// A batch (批次) of produce from one plot; its id is the lot number.
    public struct Batch: APIObject, Hashable {
        /// `[A-Za-z0-9._-]{1,20}`.
        public var id: String
        public var plot: String
        public var product: String
        public var variety: String?
        public var quantity: Double
        public var unit: String
        public var plantingDate: Int64
        public var harvestDate: Int64?
        public var gtin: String?

        public init(
            id: String, plot: String, product: String, variety: String? = nil, quantity: Double, unit: String,
            plantingDate: Int64, harvestDate: Int64? = nil, gtin: String? = nil
        ) {
            self.id = id
            self.plot = plot
            self.product = product
            self.variety = variety
            self.quantity = quantity
            self.unit = unit
            self.plantingDate = plantingDate
            self.harvestDate = harvestDate
            self.gtin = gtin
        }

        enum CodingKeys: String, CodingKey {
            case id, plot, product, variety, quantity, unit, gtin
            case plantingDate = "planting_date"
            case harvestDate = "harvest_date"
        }
    }

    /// `GET /api/v1/trace/batches`: the batch ids.
    public struct BatchList: APIObject, Hashable {
        public var batches: [String]
        public init(batches: [String]) { self.batches = batches }
    }

    /// 承诺达标合格证: the commitment certificate of a batch.
    public struct Certificate: APIObject, Hashable {
        public var product: String
        public var quantity: Double
        public var unit: String
        public var producerName: String
        public var origin: String
        public var contact: String
        public var issueDate: Int64
        public var commitment: String
        /// 质量安全控制符合要求, 自行检测合格, 委托检测合格.
        public var basis: [String]

        public init(
            product: String, quantity: Double, unit: String, producerName: String, origin: String, contact: String,
            issueDate: Int64, commitment: String, basis: [String]
        ) {
            self.product = product
            self.quantity = quantity
            self.unit = unit
            self.producerName = producerName
            self.origin = origin
            self.contact = contact
            self.issueDate = issueDate
            self.commitment = commitment
            self.basis = basis
        }

        enum CodingKeys: String, CodingKey {
            case product, quantity, unit, origin, contact, commitment, basis
            case producerName = "producer_name"
            case issueDate = "issue_date"
        }
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

    /// A test result (检测结果) on a sample of a batch.
    public struct Inspection: APIObject, Hashable {
        public var sample: String
        public var item: String
        public var result: String
        public var passed: Bool
        public var lab: String
        public var date: Int64

        public init(sample: String, item: String, result: String, passed: Bool, lab: String, date: Int64) {
            self.sample = sample
            self.item = item
            self.result = result
            self.passed = passed
            self.lab = lab
            self.date = date
        }
    }

    /// An input used in production (投入品).
    public struct ProductionInput: APIObject, Hashable {
        /// fertiliser, pesticide, feed, veterinary, other.
        public var kind: String
        public var name: String
        /// As written (30 mL/亩).
        public var amount: String?
        /// The event's time when absent.
        public var appliedAt: Int64?
        /// Withdrawal period (安全间隔期 / 休药期) in days.
        public var withdrawalDays: Int?

        public init(kind: String, name: String, amount: String? = nil, appliedAt: Int64? = nil, withdrawalDays: Int? = nil) {
            self.kind = kind
            self.name = name
            self.amount = amount
            self.appliedAt = appliedAt
            self.withdrawalDays = withdrawalDays
        }

        enum CodingKeys: String, CodingKey {
            case kind, name, amount
            case appliedAt = "applied_at"
            case withdrawalDays = "withdrawal_days"
        }
    }

    /// A stage event of a batch (or of one item, when `item` names its code).
    public struct TraceEvent: APIObject, Hashable {
        /// origin, environment, production, processing, distribution, sales.
        public var stage: String
        /// planting, input, harvest, packing, shipping, receiving, retail_selling, or free text.
        public var action: String
        public var party: String
        public var time: Int64
        public var place: String
        public var note: String?
        public var inputs: [ProductionInput]
        public var item: String?
        public var packedLot: String?

        public init(
            stage: String, action: String, party: String, time: Int64, place: String, note: String? = nil,
            inputs: [ProductionInput] = [], item: String? = nil, packedLot: String? = nil
        ) {
            self.stage = stage
            self.action = action
            self.party = party
            self.time = time
            self.place = place
            self.note = note
            self.inputs = inputs
            self.item = item
            self.packedLot = packedLot
        }

        enum CodingKeys: String, CodingKey {
            case stage, action, party, time, place, note, inputs, item
            case packedLot = "packed_lot"
        }
    }

    /// A stage event with its place in the batch's chain.
    public struct StageEntry: APIObject, Hashable {
        public var seq: Int64
        public var hash: String
        public var recordedAt: Int64
        public var recordedBy: String
        public var event: TraceEvent

        public init(seq: Int64, hash: String, recordedAt: Int64, recordedBy: String, event: TraceEvent) {
            self.seq = seq
            self.hash = hash
            self.recordedAt = recordedAt
            self.recordedBy = recordedBy
            self.event = event
        }

        enum CodingKeys: String, CodingKey {
            case seq, hash, event
            case recordedAt = "recorded_at"
            case recordedBy = "recorded_by"
        }
    }

    /// A low and high value.
    public struct Range: APIObject, Hashable {
        public var min: Double
        public var max: Double
        public init(min: Double, max: Double) {
            self.min = min
            self.max = max
        }
    }

    /// A warning raised on a plot's device during the growing period, and how it was closed.
    public struct Warning: APIObject, Hashable {
        public var level: String
        public var rule: String
        public var device: String
        public var raisedAt: Int64
        public var closedAt: Int64?
        public var closedBy: String?
        public var note: String?

        public init(
            level: String, rule: String, device: String, raisedAt: Int64, closedAt: Int64? = nil, closedBy: String? = nil,
            note: String? = nil
        ) {
            self.level = level
            self.rule = rule
            self.device = device
            self.raisedAt = raisedAt
            self.closedAt = closedAt
            self.closedBy = closedBy
            self.note = note
        }

        enum CodingKeys: String, CodingKey {
            case level, rule, device, note
            case raisedAt = "raised_at"
            case closedAt = "closed_at"
            case closedBy = "closed_by"
        }
    }

    /// The production environment of a plot over a growing period, frozen at harvest.
    public struct EnvironmentSummary: APIObject, Hashable {
        public var from: Int64
        public var to: Int64
        public var devices: [String]
        public var readings: Int
        public var soilMoistureMean: Double?
        public var soilTempMean: Double?
        public var airTempMean: Double?
        public var rainfallTotal: Double?
        public var dissolvedOxygen: Range?
        public var ph: Range?
        /// Share of the time the water met class III.
        public var classThreeShare: Double?
        public var warnings: [Warning]

        public init(
            from: Int64, to: Int64, devices: [String], readings: Int, soilMoistureMean: Double? = nil,
            soilTempMean: Double? = nil, airTempMean: Double? = nil, rainfallTotal: Double? = nil,
            dissolvedOxygen: Range? = nil, ph: Range? = nil, classThreeShare: Double? = nil, warnings: [Warning] = []
        ) {
            self.from = from
            self.to = to
            self.devices = devices
            self.readings = readings
            self.soilMoistureMean = soilMoistureMean
            self.soilTempMean = soilTempMean
            self.airTempMean = airTempMean
            self.rainfallTotal = rainfallTotal
            self.dissolvedOxygen = dissolvedOxygen
            self.ph = ph
            self.classThreeShare = classThreeShare
            self.warnings = warnings
        }

        enum CodingKeys: String, CodingKey {
            case from, to, devices, readings, ph, warnings
            case soilMoistureMean = "soil_moisture_mean"
            case soilTempMean = "soil_temp_mean"
            case airTempMean = "air_temp_mean"
            case rainfallTotal = "rainfall_total"
            case dissolvedOxygen = "dissolved_oxygen"
            case classThreeShare = "class_three_share"
        }
    }

    /// A recall (召回) of a batch.
    public struct Recall: APIObject, Hashable {
        public var reason: String
        public var at: Int64
        /// Who recalled it (empty on the public JSON).
        public var by: String

        public init(reason: String, at: Int64, by: String) {
            self.reason = reason
            self.at = at
            self.by = by
        }
    }

    /// The body of `POST /api/v1/trace/batches/{id}/recall`.
    public struct RecallRequest: APIObject, Hashable {
        /// Shown to consumers.
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// An Ed25519 seal over the head of a batch's chain.
    public struct Seal: APIObject, Hashable {
        public var head: String
        public var headSeq: Int64
        /// Base64 Ed25519 signature.
        public var signature: String
        /// Base64 of the raw 32-byte key.
        public var publicKey: String
        public var sealedAt: Int64

        public init(head: String, headSeq: Int64, signature: String, publicKey: String, sealedAt: Int64) {
            self.head = head
            self.headSeq = headSeq
            self.signature = signature
            self.publicKey = publicKey
            self.sealedAt = sealedAt
        }

        enum CodingKeys: String, CodingKey {
            case head, signature
            case headSeq = "head_seq"
            case publicKey = "public_key"
            case sealedAt = "sealed_at"
        }
    }

    /// `GET /api/v1/trace/batches/{id}`: everything recorded about a batch.
    public struct BatchDossier: APIObject, Hashable {
        public var batch: Batch
        public var plot: Plot
        public var producer: Producer
        public var certificate: Certificate?
        public var inspections: [Inspection]
        /// Stage events in time order.
        public var events: [StageEntry]
        public var environment: EnvironmentSummary?
        public var recall: Recall?
        /// The latest seal.
        public var seal: Seal?
        public var codesIssued: Int
        /// Hash of the chain's newest record.
        public var head: String
        public var records: Int

        public init(
            batch: Batch, plot: Plot, producer: Producer, certificate: Certificate? = nil, inspections: [Inspection] = [],
            events: [StageEntry] = [], environment: EnvironmentSummary? = nil, recall: Recall? = nil, seal: Seal? = nil,
            codesIssued: Int = 0, head: String, records: Int
        ) {
            self.batch = batch
            self.plot = plot
            self.producer = producer
            self.certificate = certificate
            self.inspections = inspections
            self.events = events
            self.environment = environment
            self.recall = recall
            self.seal = seal
            self.codesIssued = codesIssued
            self.head = head
            self.records = records
        }

        enum CodingKeys: String, CodingKey {
            case batch, plot, producer, certificate, inspections, events, environment, recall, seal, head, records
            case codesIssued = "codes_issued"
        }
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

        public init(
            chain: String, seq: Int64, kind: String, subject: String, contentHash: String, prevHash: String, hash: String,
            recordedAt: Int64
        ) {
            self.chain = chain
            self.seq = seq
            self.kind = kind
            self.subject = subject
            self.contentHash = contentHash
            self.prevHash = prevHash
            self.hash = hash
            self.recordedAt = recordedAt
        }

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

    /// The first broken link of a chain.
    public struct ChainBreak: APIObject, Hashable {
        public var chain: String
        public var seq: Int64
        public var kind: String
        public var subject: String
        public var reason: String

        public init(chain: String, seq: Int64, kind: String, subject: String, reason: String) {
            self.chain = chain
            self.seq = seq
            self.kind = kind
            self.subject = subject
            self.reason = reason
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

        public init(ok: Bool, chains: Int, records: Int, codes: Int, seals: Int, breaks: [ChainBreak]) {
            self.ok = ok
            self.chains = chains
            self.records = records
            self.codes = codes
            self.seals = seals
            self.breaks = breaks
        }
    }

    /// The producer as consumers see it (phone masked, no id).
    public struct PublicProducer: APIObject, Hashable {
        public var name: String
        public var creditCode: String
        public var contact: String?
        /// Masked: 138****1234.
        public var phone: String?
        public var address: String?
        public var areaCode: String

        public init(
            name: String, creditCode: String, contact: String? = nil, phone: String? = nil, address: String? = nil,
            areaCode: String
        ) {
            self.name = name
            self.creditCode = creditCode
            self.contact = contact
            self.phone = phone
            self.address = address
            self.areaCode = areaCode
        }

        enum CodingKeys: String, CodingKey {
            case name, contact, phone, address
            case creditCode = "credit_code"
            case areaCode = "area_code"
        }
    }

    /// How often, since when and from how many networks a code was scanned.
    public struct Scans: APIObject, Hashable {
        public var count: Int64
        public var firstAt: Int64
        public var networks: Int

        public init(count: Int64, firstAt: Int64, networks: Int) {
            self.count = count
            self.firstAt = firstAt
            self.networks = networks
        }

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

        public init(records: Int, head: String, seal: Seal? = nil, publicKey: String) {
            self.records = records
            self.head = head
            self.seal = seal
            self.publicKey = publicKey
        }

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

        public init(
            code: String, status: String, recalled: Bool, recall: Recall? = nil, suspect: Bool, scans: Scans, batch: Batch,
            producer: PublicProducer, plot: Plot, environment: EnvironmentSummary? = nil, events: [TraceEvent],
            certificate: Certificate? = nil, inspections: [Inspection], chain: Chain, url: String, digitalLink: String? = nil
        ) {
            self.code = code
            self.status = status
            self.recalled = recalled
            self.recall = recall
            self.suspect = suspect
            self.scans = scans
            self.batch = batch
            self.producer = producer
            self.plot = plot
            self.environment = environment
            self.events = events
            self.certificate = certificate
            self.inspections = inspections
            self.chain = chain
            self.url = url
            self.digitalLink = digitalLink
        }

        enum CodingKeys: String, CodingKey {
            case code, status, recalled, recall, suspect, scans, batch, producer, plot, environment, events, certificate
            case inspections, chain, url
            case digitalLink = "digital_link"
        }
    }
}
