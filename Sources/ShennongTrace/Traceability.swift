import Crypto
import Foundation
import Logging
import ShennongCore
import Synchronization

/// Settings of traceability (`trace:` in shennong.yaml).
public struct TraceSettings: Sendable {
    /// Origin of the public pages and the GS1 Digital Link resolver, no trailing slash.
    public var publicBaseURL = "http://127.0.0.1:8080"
    /// A code scanned more often than this is shown as possibly cloned.
    public var cloneScanLimit: Int64 = 50
    /// A code scanned from more distinct networks than this is shown as possibly cloned.
    public var cloneNetworkLimit = 5
    /// Misses (forged or unknown codes) a client may make at once …
    public var missBurst = 20
    /// … and per minute after that.
    public var missPerMinute = 10.0
    /// Most codes one issue may make.
    public var maxCodesPerIssue = 1_000_000

    public init() {}
}

/// Traceability (一物一码): producers, plots, batches, their certificates, inspections and
/// stage events, item codes, scans, recall, sealing and verification.
///
/// Every record is appended to a hash chain (``TraceHashing``): producers and plots to the
/// `registry` chain, everything about a batch to `batch:{id}`. Nothing is updated in place;
/// a later record of the same kind supersedes an earlier one (certificates).
public final class Traceability: Sendable {
    public let store: any TraceStore
    public let settings: TraceSettings
    /// Scan counters (flushed by the server's scan flush service).
    public let scans: ScanTracker
    public let misses: MissLimiter
    let codec: TraceCodec
    let signingKey: Curve25519.Signing.PrivateKey
    let warnings: any WarningHistory
    let logger: Logger
    /// The time of records, scans and checks.
    public let clock: WallClock
    /// Decoded dossiers by batch id, for the page path. Every append through this object
    /// bumps `generation` and drops the cache; a dossier read before a bump is not cached.
    private let cache = Mutex<(generation: UInt64, dossiers: [String: BatchDossier])>((0, [:]))
    static let maxCachedDossiers = 4096

    /// - Parameters:
    ///   - secret: the HMAC secret of the codes (``TraceKeys/loadOrCreate(path:)``).
    ///   - signingKey: 32 bytes of the Ed25519 sealing key.
    ///   - warnings: warnings of the plot's devices for the environment summary.
    public init(
        store: any TraceStore, secret: [UInt8], signingKey: [UInt8], settings: TraceSettings = TraceSettings(),
        warnings: any WarningHistory = NoWarningHistory(), logger: Logger,
        clock: WallClock = .system
    ) throws {
        self.store = store
        self.settings = settings
        self.codec = try TraceCodec(secret: secret)
        do {
            self.signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: signingKey)
        } catch {
            throw TraceError(.invalidArgument, "the signing key must be 32 bytes")
        }
        self.warnings = warnings
        self.logger = logger
        self.clock = clock
        self.scans = ScanTracker(store: store)
        self.misses = MissLimiter(burst: settings.missBurst, perMinute: settings.missPerMinute)
    }

    /// The public key of batch seals.
    public var publicKey: Curve25519.Signing.PublicKey { signingKey.publicKey }

    /// The code in `text` if its check symbols match (no database lookup).
    public func parseCode(_ text: some StringProtocol) -> TraceCode? { codec.parse(text) }

    static func isValidID(_ id: String) -> Bool { Device.isValidID(id) }

    static func batchChain(_ id: String) -> String { "batch:\(id)" }

    // MARK: Registry

    /// Registers a producer. Refuses a bad 统一社会信用代码 or area code, or a taken id.
    @discardableResult
    public func addProducer(_ producer: Producer, by: String) throws -> TraceRecordRow {
        var p = producer
        p.creditCode = p.creditCode.uppercased()
        guard Self.isValidID(p.id) else { throw TraceError(.invalidArgument, "producer id must match [A-Za-z0-9_.-]{1,64}") }
        guard !p.name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw TraceError(.invalidArgument, "producer name (名称) is required")
        }
        guard CreditCode.isValid(p.creditCode) else {
            let hint = p.creditCode.count == 18
                ? CreditCode.checkCharacter(p.creditCode.prefix(17)).map { " (check character should be \($0))" } ?? " (characters outside 0-9 A-Y without I O Z S V)"
                : " (must be 18 characters)"
            throw TraceError(.invalidArgument, "统一社会信用代码 \(p.creditCode) is not valid (GB 32100-2015)\(hint)")
        }
        guard AreaCode.isValid(p.areaCode) else {
            throw TraceError(.invalidArgument, "area code (行政区划代码) \(p.areaCode) must be six GB/T 2260 digits")
        }
        return try append(chain: "registry", kind: .producer, subject: p.id, unique: true, by: by, data: p)
    }

    /// Registers a plot of an existing producer, with its linked devices.
    @discardableResult
    public func addPlot(_ plot: Plot, by: String) throws -> TraceRecordRow {
        guard Self.isValidID(plot.id) else { throw TraceError(.invalidArgument, "plot id must match [A-Za-z0-9_.-]{1,64}") }
        guard try producer(plot.producer) != nil else { throw TraceError(.notFound, "no producer \(plot.producer)") }
        guard AreaCode.isValid(plot.areaCode) else {
            throw TraceError(.invalidArgument, "area code (行政区划代码) \(plot.areaCode) must be six GB/T 2260 digits")
        }
        if let bad = plot.devices.first(where: { !Device.isValidID($0) }) {
            throw TraceError(.invalidArgument, "device id \(bad) must match [A-Za-z0-9_.-]{1,64}")
        }
        if let area = plot.area, !(area > 0) { throw TraceError(.invalidArgument, "area must be positive") }
        return try append(chain: "registry", kind: .plot, subject: plot.id, unique: true, by: by, data: plot)
    }

    /// Creates a batch on an existing plot. The id is the lot number (GS1 AI 10).
    @discardableResult
    public func createBatch(_ batch: Batch, by: String) throws -> TraceRecordRow {
        var b = batch
        guard DigitalLink.isSafe(b.id) else {
            throw TraceError(.invalidArgument, "batch id (lot) must be 1–20 characters of A-Z a-z 0-9 - . _")
        }
        guard try plot(b.plot) != nil else { throw TraceError(.notFound, "no plot \(b.plot)") }
        guard !b.product.isEmpty else { throw TraceError(.invalidArgument, "product (品名) is required") }
        guard b.quantity > 0, b.quantity.isFinite else { throw TraceError(.invalidArgument, "quantity must be positive") }
        if let gtin = b.gtin {
            guard let g14 = GTIN.gtin14(gtin) else {
                throw TraceError(.invalidArgument, "GTIN \(gtin) is not valid (8/12/13/14 digits with a GS1 check digit)")
            }
            b.gtin = g14
        }
        if let harvest = b.harvestDate, harvest < b.plantingDate {
            throw TraceError(.invalidArgument, "harvest date is before the planting date")
        }
        return try append(
            chain: Self.batchChain(b.id), kind: .batch, subject: b.id, batch: b.id, unique: true, by: by, data: b)
    }

    /// The commitment certificate of a batch. Fields left `nil` come from the batch, its plot
    /// and its producer. A later certificate supersedes an earlier one.
    @discardableResult
    public func issueCertificate(
        batch id: String, basis: [Certificate.Basis], issueDate: Int64? = nil, quantity: Double? = nil,
        unit: String? = nil, commitment: String? = nil, by: String
    ) throws -> Certificate {
        let d = try dossier(batch: id)
        try refuseIfRecalled(d)
        guard !basis.isEmpty else {
            throw TraceError(
                .invalidArgument,
                "certificate basis (依据) is required: " + Certificate.Basis.allCases.map(\.rawValue).joined(separator: " / "))
        }
        let certificate = Certificate(
            product: d.batch.product + (d.batch.variety.map { "（\($0)）" } ?? ""),
            quantity: quantity ?? d.batch.quantity, unit: unit ?? d.batch.unit, producerName: d.producer.name,
            origin: d.plot.location, contact: d.producer.phone ?? d.producer.contact ?? "",
            issueDate: issueDate ?? clock.now(), commitment: commitment ?? Certificate.standardCommitment, basis: basis)
        try append(chain: Self.batchChain(id), kind: .certificate, subject: id, batch: id, by: by, data: certificate)
        return certificate
    }

    /// Records an inspection result of a batch.
    @discardableResult
    public func addInspection(batch id: String, _ inspection: Inspection, by: String) throws -> TraceRecordRow {
        let d = try dossier(batch: id)
        try refuseIfRecalled(d)
        guard !inspection.item.isEmpty, !inspection.lab.isEmpty else {
            throw TraceError(.invalidArgument, "inspection item (检测项目) and lab (检测机构) are required")
        }
        return try append(chain: Self.batchChain(id), kind: .inspection, subject: id, batch: id, by: by, data: inspection)
    }

    /// Records a stage event. A harvest is refused inside the withdrawal period of any
    /// pesticide (or veterinary drug) used before it, and otherwise freezes the production
    /// environment (an `environment` record) before the event itself.
    @discardableResult
    public func addEvent(batch id: String, _ event: TraceEvent, by: String) throws -> TraceRecordRow {
        let d = try dossier(batch: id)
        try refuseIfRecalled(d)
        var e = event
        guard !e.party.isEmpty else { throw TraceError(.invalidArgument, "responsible party (责任主体) is required") }
        guard !e.action.isEmpty else { throw TraceError(.invalidArgument, "action is required") }
        if let item = e.item {
            guard let code = codec.parse(item) else { throw TraceError(.invalidArgument, "item \(item) is not a valid code") }
            guard try store.traceCode(code.compact)?.batch == id else {
                throw TraceError(.notFound, "code \(code) is not an item of batch \(id)")
            }
            e.item = code.compact
        }
        for input in e.inputs {
            if let days = input.withdrawalDays, days < 0 {
                throw TraceError(.invalidArgument, "withdrawal period of \(input.name) must not be negative")
            }
        }
        if e.action == TraceAction.packing, let lot = e.packedLot, !DigitalLink.isSafe(lot) {
            throw TraceError(.invalidArgument, "packed lot must be 1–20 characters of A-Z a-z 0-9 - . _")
        }
        if e.action == TraceAction.harvest {
            guard e.time >= d.batch.plantingDate else {
                throw TraceError(.invalidArgument, "harvest time is before the planting date")
            }
            if let conflict = Self.withdrawalConflict(events: d.events.map(\.event), harvest: e) {
                throw TraceError(
                    .withdrawalPeriod,
                    "采收被拒绝：\(conflict.input.kind.chineseName)「\(conflict.input.name)」于\(ChinaTime.format(conflict.appliedAt))施用，"
                        + "安全间隔期\(conflict.input.withdrawalDays ?? 0)天，\(ChinaTime.format(conflict.until))前不得采收。"
                        + " (harvest refused: inside the withdrawal period of \(conflict.input.name) until \(Timestamp.format(conflict.until)))")
            }
            let summary = try environment(plot: d.plot, from: d.batch.plantingDate, to: e.time)
            try append(chain: Self.batchChain(id), kind: .environment, subject: id, batch: id, item: e.item, by: by, data: summary)
        }
        return try append(chain: Self.batchChain(id), kind: .event, subject: id, batch: id, item: e.item, by: by, data: e)
    }

    /// The first pesticide or veterinary input (in `events`, batch-wide or of the harvest's
    /// item) whose withdrawal period covers the harvest time.
    public static func withdrawalConflict(events: [TraceEvent], harvest: TraceEvent)
        -> (input: ProductionInput, appliedAt: Int64, until: Int64)?
    {
        for event in events.sorted(by: { $0.time < $1.time }) where event.item == nil || event.item == harvest.item {
            for input in event.inputs {
                guard let days = input.withdrawalDays, days > 0 else { continue }
                let applied = input.appliedAt ?? event.time
                let until = applied + Int64(days) * 86_400_000
                if harvest.time >= applied && harvest.time < until { return (input, applied, until) }
            }
        }
        return nil
    }

    /// The production environment of `plot` over `from..<to`: readings of its devices, and
    /// the warnings raised on them.
    public func environment(plot: Plot, from: Int64, to: Int64) throws -> EnvironmentSummary {
        var readings: [Reading] = []
        for device in plot.devices {
            readings += try store.readings(device: device, from: from, to: to, limit: 5_000_000)
        }
        let raised = try warnings.warnings(devices: plot.devices, from: from, to: to)
        return EnvironmentSummary.compute(devices: plot.devices, from: from, to: to, readings: readings, warnings: raised)
    }

    /// Issues `count` codes for a batch in one transaction; returns them in issue order.
    public func issueCodes(batch id: String, count: Int, by: String) throws -> [TraceCode] {
        guard count >= 1, count <= settings.maxCodesPerIssue else {
            throw TraceError(.invalidArgument, "count must be between 1 and \(settings.maxCodesPerIssue)")
        }
        let d = try dossier(batch: id)
        try refuseIfRecalled(d)
        let codes = codec.generate(count: count)
        let compact = codes.map(\.compact)
        let issue = CodeIssue(count: count, digest: TraceHashing.codesDigest(compact), at: clock.now())
        do {
            try append(chain: Self.batchChain(id), kind: .codes, subject: id, batch: id, by: by, data: issue, codes: compact)
        } catch let error as TraceError where error.code == .conflict {
            // 2⁻⁶⁵ per pair: a collision with an issued code is not expected; ask again.
            throw TraceError(.conflict, "a generated code collided with an issued one; issue again")
        }
        logger.info("trace codes issued", metadata: ["batch": "\(id)", "count": "\(count)"])
        return codes
    }

    /// Recalls a batch: its pages turn red and say why.
    @discardableResult
    public func recall(batch id: String, reason: String, by: String) throws -> Recall {
        let d = try dossier(batch: id)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw TraceError(.invalidArgument, "a recall needs a reason (召回原因)")
        }
        if d.recall != nil { throw TraceError(.conflict, "batch \(id) is already recalled") }
        let recall = Recall(reason: reason, at: clock.now(), by: by)
        try append(chain: Self.batchChain(id), kind: .recall, subject: id, batch: id, by: by, data: recall)
        logger.notice("trace batch recalled", metadata: ["batch": "\(id)"])
        return recall
    }

    /// Seals a batch: an Ed25519 signature over the hash of its chain's head.
    @discardableResult
    public func seal(batch id: String, by: String) throws -> Seal {
        let rows = try store.traceRecords(chain: Self.batchChain(id))
        guard let head = rows.last else { throw TraceError(.notFound, "no batch \(id)") }
        let at = clock.now()
        let message = Seal.message(batch: id, headSeq: head.seq, head: head.hash, sealedAt: at)
        let signature = try signingKey.signature(for: message)
        let seal = Seal(
            head: head.hash, headSeq: head.seq, signature: Data(signature).base64EncodedString(),
            publicKey: publicKey.rawRepresentation.base64EncodedString(), sealedAt: at)
        try append(chain: Self.batchChain(id), kind: .seal, subject: id, batch: id, by: by, data: seal)
        return seal
    }

    private func refuseIfRecalled(_ d: BatchDossier) throws {
        if d.recall != nil { throw TraceError(.recalled, "batch \(d.batch.id) is recalled (已召回): no further records but a seal") }
    }

    @discardableResult
    func append<D: Codable & Sendable>(
        chain: String, kind: TraceRecordKind, subject: String, batch: String? = nil, item: String? = nil,
        unique: Bool = false, by: String, data: D, codes: [String] = []
    ) throws -> TraceRecordRow {
        let at = clock.now()
        defer { cache.withLock { $0 = ($0.generation &+ 1, [:]) } }
        do {
            return try store.appendTraceRecord(
                chain: chain, uniqueSubject: unique ? (kind.rawValue, subject) : nil, codes: codes
            ) { seq, prev in
                try TraceHashing.row(
                    chain: chain, seq: seq, prev: prev, kind: kind, subject: subject, batch: batch, item: item, at: at,
                    by: by, data: data)
            }
        } catch let error as StoreError where error.code == .conflict {
            throw TraceError(.conflict, unique ? "\(kind.rawValue) \(subject) already exists" : error.message)
        }
    }

    // MARK: Reading

    /// The producer `id`, or `nil`.
    public func producer(_ id: String) throws -> Producer? {
        try store.traceRecords(kind: TraceRecordKind.producer.rawValue, subject: id).last
            .map { try TraceHashing.decode(TraceEnvelope<Producer>.self, from: $0.payload).data }
    }

    /// The plot `id`, or `nil`.
    public func plot(_ id: String) throws -> Plot? {
        try store.traceRecords(kind: TraceRecordKind.plot.rawValue, subject: id).last
            .map { try TraceHashing.decode(TraceEnvelope<Plot>.self, from: $0.payload).data }
    }

    /// The dossier of `id` from the cache, else decoded from the store (and cached).
    func cachedDossier(batch id: String) throws -> BatchDossier {
        let generation: UInt64
        do {
            let state = cache.withLock { ($0.generation, $0.dossiers[id]) }
            if let hit = state.1 { return hit }
            generation = state.0
        }
        let d = try dossier(batch: id)
        cache.withLock {
            guard $0.generation == generation else { return }
            if $0.dossiers.count >= Self.maxCachedDossiers { $0.dossiers.removeAll() }
            $0.dossiers[id] = d
        }
        return d
    }

    /// Everything recorded about a batch, decoded from its chain (always from the store).
    public func dossier(batch id: String) throws -> BatchDossier {
        let rows = try store.traceRecords(chain: Self.batchChain(id))
        guard let first = rows.first, first.kind == TraceRecordKind.batch.rawValue else {
            throw TraceError(.notFound, "no batch \(id)")
        }
        let batch = try TraceHashing.decode(TraceEnvelope<Batch>.self, from: first.payload).data
        guard let plot = try plot(batch.plot), let producer = try producer(plot.producer) else {
            throw TraceError(.notFound, "batch \(id): its plot or producer is missing")
        }
        var d = BatchDossier(batch: batch, plot: plot, producer: producer, head: rows.last!.hash, records: rows.count)
        for row in rows.dropFirst() {
            guard let kind = TraceRecordKind(rawValue: row.kind) else { continue }
            switch kind {
            case .certificate:
                d.certificate = try TraceHashing.decode(TraceEnvelope<Certificate>.self, from: row.payload).data
            case .inspection:
                d.inspections.append(try TraceHashing.decode(TraceEnvelope<Inspection>.self, from: row.payload).data)
            case .event:
                let e = try TraceHashing.decode(TraceEnvelope<TraceEvent>.self, from: row.payload)
                d.events.append(StageEntry(seq: row.seq, hash: row.hash, recordedAt: row.recordedAt, recordedBy: e.recordedBy, event: e.data))
            case .environment:
                d.environment = try TraceHashing.decode(TraceEnvelope<EnvironmentSummary>.self, from: row.payload).data
            case .codes:
                d.codesIssued += try TraceHashing.decode(TraceEnvelope<CodeIssue>.self, from: row.payload).data.count
            case .recall:
                d.recall = try TraceHashing.decode(TraceEnvelope<Recall>.self, from: row.payload).data
            case .seal:
                d.seal = try TraceHashing.decode(TraceEnvelope<Seal>.self, from: row.payload).data
            case .producer, .plot, .batch:
                break
            }
        }
        d.events.sort { ($0.event.time, $0.seq) < ($1.event.time, $1.seq) }
        return d
    }

    /// Every batch id, sorted.
    public func batchIDs() throws -> [String] {
        try store.traceRecords(kind: TraceRecordKind.batch.rawValue).map(\.subject).sorted()
    }

    /// The page of one code for staff (no scan counted), or `nil` when it is not issued.
    public func view(code text: String) throws -> TraceView? {
        guard let code = codec.parse(text) else { throw TraceError(.invalidArgument, "\(text) is not a valid code (check symbols do not match)") }
        guard let issued = try store.traceCode(code.compact) else { return nil }
        return try view(code, issued: issued, scans: try scans.peek(code: code.compact))
    }

    /// What a consumer's lookup found.
    public enum Lookup: Sendable {
        case found(TraceView)
        /// Not a code of this server: forged, mistyped, or not (yet) issued.
        case unknown
        /// Too many misses from this client: try later.
        case rateLimited
    }

    /// A consumer's scan of `text` from `client` (an IP address): refused by the HMAC check
    /// before any lookup if forged, rate-limited per client after too many misses, counted
    /// when found.
    public func lookup(_ text: some StringProtocol, client: String) throws -> Lookup {
        let now = clock.now()
        guard misses.allows(client, now: now) else { return .rateLimited }
        guard let code = codec.parse(text) else {
            misses.miss(client, now: now)
            return .unknown
        }
        guard let issued = try store.traceCode(code.compact) else {
            misses.miss(client, now: now)
            return .unknown
        }
        let state = try scans.record(code: code.compact, network: clientNetwork(client), now: now)
        return .found(try view(code, issued: issued, scans: state))
    }

    /// Resolves a GS1 Digital Link (GTIN, lot, serial) to a lookup; the GTIN and lot must be
    /// those of the code's batch.
    public func lookup(gtin: String, lot: String, serial: String, client: String) throws -> Lookup {
        let result = try lookup(serial, client: client)
        guard case .found(let view) = result else { return result }
        guard let g = GTIN.gtin14(gtin), view.dossier.batch.gtin == g, view.dossier.batch.id == lot else {
            misses.miss(client, now: clock.now())
            return .unknown
        }
        return result
    }

    func view(_ code: TraceCode, issued: TraceCodeRow, scans: ScanState?) throws -> TraceView {
        var d = try cachedDossier(batch: issued.batch)
        d.events.removeAll { $0.event.item != nil && $0.event.item != code.compact }
        let scans = scans ?? ScanState(count: 0, firstAt: 0, lastAt: 0, networks: 0)
        return TraceView(
            code: code, issuedAt: issued.issuedAt, dossier: d, scans: scans,
            suspect: scans.count > settings.cloneScanLimit || scans.networks > settings.cloneNetworkLimit,
            pageURL: "\(settings.publicBaseURL)/t/\(code.grouped)",
            digitalLink: d.batch.gtin.flatMap {
                DigitalLink.uri(base: settings.publicBaseURL, gtin: $0, lot: d.batch.id, serial: code.compact)
            })
    }

    /// The public URL and, with a GTIN, the Digital Link of a code of `batch`.
    public func links(_ code: TraceCode, batch: Batch) -> (url: String, digitalLink: String?) {
        (
            "\(settings.publicBaseURL)/t/\(code.grouped)",
            batch.gtin.flatMap { DigitalLink.uri(base: settings.publicBaseURL, gtin: $0, lot: batch.id, serial: code.compact) }
        )
    }

    // MARK: Verification

    /// Recomputes every chain (or, with `code`, the registry and that code's batch) and
    /// names the first broken link of each.
    public func verify(code text: String? = nil) throws -> VerifyReport {
        var chains: [String]
        var orphans = try store.traceOrphanCodes()
        if let text {
            guard let code = codec.parse(text) else { throw TraceError(.invalidArgument, "\(text) is not a valid code") }
            guard let issued = try store.traceCode(code.compact) else { throw TraceError(.notFound, "code \(code) is not issued") }
            chains = ["registry", Self.batchChain(issued.batch)]
            orphans = orphans.filter { $0.batch == issued.batch }
        } else {
            chains = try store.traceChains()
        }
        var report = VerifyReport(chains: 0, records: 0, codes: 0, seals: 0, breaks: [])
        for chain in chains {
            let rows = try store.traceRecords(chain: chain)
            let result = try ChainVerifier.verify(chain: chain, rows: rows, store: store, publicKey: publicKey)
            report.chains += 1
            report.records += rows.count
            report.codes += result.codes
            report.seals += result.seals
            if let broken = result.broken { report.breaks.append(broken) }
        }
        for orphan in orphans where !chains.contains(Self.batchChain(orphan.batch)) || text != nil {
            if report.breaks.contains(where: { $0.chain == Self.batchChain(orphan.batch) }) { continue }
            report.breaks.append(
                ChainBreak(
                    chain: Self.batchChain(orphan.batch), seq: orphan.issueSeq, kind: "codes", subject: orphan.batch,
                    reason: "\(orphan.count) codes in the table have no issue record in the chain"))
        }
        return report
    }
}

/// One stage event with its place in the chain.
public struct StageEntry: Sendable, Hashable, Codable {
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

/// Everything recorded about a batch.
public struct BatchDossier: Sendable, Hashable, Codable {
    public var batch: Batch
    public var plot: Plot
    public var producer: Producer
    public var certificate: Certificate?
    public var inspections: [Inspection] = []
    /// Stage events in time order.
    public var events: [StageEntry] = []
    /// The environment frozen at the latest harvest.
    public var environment: EnvironmentSummary?
    public var recall: Recall?
    /// The latest seal.
    public var seal: Seal?
    public var codesIssued = 0
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

/// What the public page and JSON of one code show.
public struct TraceView: Sendable {
    public var code: TraceCode
    public var issuedAt: Int64
    /// The batch, with only the batch-wide events and this item's own.
    public var dossier: BatchDossier
    public var scans: ScanState
    /// Scanned more than N times or from more than K networks.
    public var suspect: Bool
    public var pageURL: String
    public var digitalLink: String?
}

/// What traceability reads and writes: its ledger, and stored readings for a plot's
/// production-environment summary.
public typealias TraceStore = TraceLedger & ReadingQueries
