/// A producer (生产经营者): a farm, cooperative or company: the id staff chose and its
/// ``ProducerDetails``, whose fields read as the producer's own (`producer.name`). Its JSON is
/// one object, the details' keys beside `id`.
@dynamicMemberLookup
public struct Producer: Sendable, Hashable, Codable {
    /// Short id staff choose (`[A-Za-z0-9_.-]{1,64}`).
    public var id: String
    /// Everything but the id: what the public page and its JSON show (the phone masked).
    public var details: ProducerDetails

    public init(
        id: String, name: String, creditCode: String, contact: String? = nil, phone: String? = nil,
        address: String? = nil, areaCode: String
    ) {
        self.id = id
        details = ProducerDetails(
            name: name, creditCode: creditCode, contact: contact, phone: phone, address: address, areaCode: areaCode)
    }

    /// A field of the details (`producer.name`, `producer.creditCode`, …).
    public subscript<T>(dynamicMember path: WritableKeyPath<ProducerDetails, T>) -> T {
        get { details[keyPath: path] }
        set { details[keyPath: path] = newValue }
    }

    enum CodingKeys: String, CodingKey {
        case id
    }

    public init(from decoder: any Decoder) throws {
        id = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .id)
        details = try ProducerDetails(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try details.encode(to: encoder)
    }
}

/// A producer's name, credit code, contact, phone, address and area: all of it but the id.
public struct ProducerDetails: Sendable, Hashable, Codable {
    public var name: String
    /// 统一社会信用代码, checked by its check character (GB 32100-2015).
    public var creditCode: String
    /// Contact person.
    public var contact: String?
    /// Telephone; the public page shows it masked (138****1234).
    public var phone: String?
    public var address: String?
    /// GB/T 2260 six-digit area code.
    public var areaCode: String

    /// snake_case on the wire and in the chain's canonical JSON.
    enum CodingKeys: String, CodingKey {
        case name, contact, phone, address
        case creditCode = "credit_code"
        case areaCode = "area_code"
    }

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
}

/// A plot (地块), pond or orchard of a producer, with the field devices that watch it.
public struct Plot: Sendable, Hashable, Codable {
    public var id: String
    public var producer: String
    public var name: String
    /// Where it is, in words (镇、村、组).
    public var location: String
    public var latitude: Double?
    public var longitude: Double?
    /// Area in `areaUnit` (亩 by default).
    public var area: Double?
    public var areaUnit: String
    /// GB/T 2260 six-digit area code.
    public var areaCode: String
    /// Device ids whose readings make the production environment.
    public var devices: [String]

    enum CodingKeys: String, CodingKey {
        case id, producer, name, location, latitude, longitude, area, devices
        case areaUnit = "area_unit"
        case areaCode = "area_code"
    }

    public init(
        id: String, producer: String, name: String, location: String, latitude: Double? = nil,
        longitude: Double? = nil, area: Double? = nil, areaUnit: String = "亩", areaCode: String,
        devices: [String] = []
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
}

/// A batch (批次) of produce from one plot; its id is the lot number (GS1 AI 10).
public struct Batch: Sendable, Hashable, Codable {
    /// Lot number: `[A-Za-z0-9._-]{1,20}`.
    public var id: String
    public var plot: String
    public var product: String
    public var variety: String?
    public var quantity: Double
    public var unit: String
    /// Planting (or stocking) date, ms since the epoch.
    public var plantingDate: Int64
    /// Planned harvest date, ms; the harvest event records the real one.
    public var harvestDate: Int64?
    /// GTIN-14 when the batch has one (for the GS1 Digital Link).
    public var gtin: String?

    enum CodingKeys: String, CodingKey {
        case id, plot, product, variety, quantity, unit, gtin
        case plantingDate = "planting_date"
        case harvestDate = "harvest_date"
    }

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
}

/// 承诺达标合格证: the commitment certificate of a batch (农业农村部令2025年第4号).
public struct Certificate: Sendable, Hashable, Codable {
    /// The producer's commitment, fixed by the regulation.
    public static let standardCommitment = "未使用禁用农药、兽药及其他化合物；使用的常规农药、兽药残留不超标"

    /// What the commitment rests on.
    public enum Basis: String, Sendable, Hashable, KnownValues {
        public static var valueName: String { "basis" }

        case qualityControl = "质量安全控制符合要求"
        case selfTested = "自行检测合格"
        case commissionedTest = "委托检测合格"
    }

    public var product: String
    public var quantity: Double
    public var unit: String
    public var producerName: String
    public var origin: String
    public var contact: String
    /// Issue date, ms.
    public var issueDate: Int64
    public var commitment: String
    public var basis: [Basis]

    enum CodingKeys: String, CodingKey {
        case product, quantity, unit, origin, contact, commitment, basis
        case producerName = "producer_name"
        case issueDate = "issue_date"
    }

    public init(
        product: String, quantity: Double, unit: String, producerName: String, origin: String, contact: String,
        issueDate: Int64, commitment: String = Certificate.standardCommitment, basis: [Basis]
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
}

/// A test result (检测结果) on a sample of the batch.
public struct Inspection: Sendable, Hashable, Codable {
    public var sample: String
    /// What was tested (e.g. 农药残留 速测, 毒死蜱).
    public var item: String
    /// The result as the lab wrote it (e.g. 合格, 未检出, 0.01 mg/kg).
    public var result: String
    public var passed: Bool
    public var lab: String
    /// Test date, ms.
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

/// The six stages of the Qingyuan plan (地理位置、生产环境、生产过程、加工过程、流通过程、营销过程).
public enum TraceStage: String, Sendable, Hashable, KnownValues {
    public static var valueName: String { "stage" }

    case origin, environment, production, processing, distribution, sales

    /// The stage's name on the public page.
    public var chineseName: String {
        switch self {
        case .origin: "产地"
        case .environment: "生产环境"
        case .production: "生产过程"
        case .processing: "加工过程"
        case .distribution: "流通过程"
        case .sales: "销售"
        }
    }
}

/// What happened at a stage. Free text is allowed in ``TraceEvent/action``; these are the
/// actions the module acts on (harvest checks withdrawal periods and freezes the
/// environment; the others map to EPCIS business steps).
public enum TraceAction {
    public static let planting = "planting"
    public static let input = "input"
    public static let harvest = "harvest"
    public static let packing = "packing"
    public static let shipping = "shipping"
    public static let receiving = "receiving"
    public static let retailSelling = "retail_selling"

    /// Chinese names for the page.
    public static func chineseName(_ action: String) -> String {
        switch action {
        case planting: "种植/投苗"
        case input: "投入品使用"
        case harvest: "采收"
        case packing: "分拣包装"
        case shipping: "发货"
        case receiving: "收货"
        case retailSelling: "上架销售"
        default: action
        }
    }
}

/// An input used in production (投入品): fertiliser, pesticide, feed, veterinary drug.
public struct ProductionInput: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, KnownValues {
        public static var valueName: String { "kind" }

        case fertiliser, pesticide, feed, veterinary, other

        public var chineseName: String {
            switch self {
            case .fertiliser: "肥料"
            case .pesticide: "农药"
            case .feed: "饲料"
            case .veterinary: "兽药"
            case .other: "其他"
            }
        }
    }

    public var kind: Kind
    public var name: String
    /// Amount as written (e.g. 30 mL/亩).
    public var amount: String?
    /// When it was applied, ms; the event's time when absent.
    public var appliedAt: Int64?
    /// Withdrawal period (安全间隔期 / 休药期) in days: no harvest before appliedAt + days.
    public var withdrawalDays: Int?

    enum CodingKeys: String, CodingKey {
        case kind, name, amount
        case appliedAt = "applied_at"
        case withdrawalDays = "withdrawal_days"
    }

    public init(kind: Kind, name: String, amount: String? = nil, appliedAt: Int64? = nil, withdrawalDays: Int? = nil) {
        self.kind = kind
        self.name = name
        self.amount = amount
        self.appliedAt = appliedAt
        self.withdrawalDays = withdrawalDays
    }
}

/// A stage event of a batch (or of one item, when `item` names its code).
public struct TraceEvent: Sendable, Hashable, Codable {
    public var stage: TraceStage
    /// See ``TraceAction``.
    public var action: String
    /// The responsible party (责任主体).
    public var party: String
    /// When, ms.
    public var time: Int64
    /// Where, in words.
    public var place: String
    public var note: String?
    public var inputs: [ProductionInput]
    /// The item code (canonical) when the event concerns one item only.
    public var item: String?
    /// For packing: the packed lot the field lot becomes (EPCIS transformation).
    public var packedLot: String?

    enum CodingKeys: String, CodingKey {
        case stage, action, party, time, place, note, inputs, item
        case packedLot = "packed_lot"
    }

    public init(
        stage: TraceStage, action: String, party: String, time: Int64, place: String, note: String? = nil,
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
}

/// A recall (召回) of a batch.
public struct Recall: Sendable, Hashable, Codable {
    public var reason: String
    public var at: Int64
    public var by: String

    public init(reason: String, at: Int64, by: String) {
        self.reason = reason
        self.at = at
        self.by = by
    }
}

/// An issue of codes: how many, and the SHA-256 over the sorted canonical codes, so a code
/// slipped into (or removed from) the code table is found by `trace verify`.
public struct CodeIssue: Sendable, Hashable, Codable {
    public var count: Int
    public var digest: String
    public var at: Int64
}

/// An Ed25519 seal over the head of a batch's chain.
public struct Seal: Sendable, Hashable, Codable {
    /// The hash of the record sealed (the chain's head before the seal).
    public var head: String
    public var headSeq: Int64
    /// Base64 Ed25519 signature over ``signedMessage``.
    public var signature: String
    /// Base64 of the raw 32-byte public key.
    public var publicKey: String
    public var sealedAt: Int64

    enum CodingKeys: String, CodingKey {
        case head, signature
        case headSeq = "head_seq"
        case publicKey = "public_key"
        case sealedAt = "sealed_at"
    }

    /// The signed bytes: `shennong-trace-seal-v1\n{batch}\n{headSeq}\n{head}\n{sealedAt}`.
    public static func message(batch: String, headSeq: Int64, head: String, sealedAt: Int64) -> [UInt8] {
        Array("shennong-trace-seal-v1\n\(batch)\n\(headSeq)\n\(head)\n\(sealedAt)".utf8)
    }
}
