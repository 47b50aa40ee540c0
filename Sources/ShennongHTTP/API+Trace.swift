import ShennongAPI
import ShennongCore
import ShennongTrace

// The contract's traceability bodies are mostly the trace module's own values; request bodies
// are checked here (a time outside years 1–9999 or a withdrawal period over 100 years is a
// 400; a stage or input kind the module does not know is refused by decoding), and the
// API's own answers are built from the module's values.

/// Throws a 400 naming `field` unless `ms` is absent or within ``TimeExpression/range``.
func checkTime(_ ms: Int64?, _ field: String) throws {
    if let ms, !TimeExpression.range.contains(ms) {
        throw APIError(.badRequest, "body \(field): \(ms) is not a time between years 1 and 9999 (epoch ms)")
    }
}

extension Batch {
    /// The batch, or a 400 naming a date outside years 1–9999.
    func checked() throws -> Batch {
        try checkTime(plantingDate, "planting_date")
        try checkTime(harvestDate, "harvest_date")
        return self
    }
}

extension Inspection {
    /// The inspection, or a 400 naming a date outside years 1–9999.
    func checked() throws -> Inspection {
        try checkTime(date, "date")
        return self
    }
}

extension ProductionInput {
    /// The input, or a 400 naming the field (`at`: its path in the body).
    func checked(at path: String) throws -> ProductionInput {
        try checkTime(appliedAt, "\(path).applied_at")
        if let days = withdrawalDays, !(0...36_500).contains(days) {
            throw APIError(.badRequest, "body \(path).withdrawal_days: \(days) is not between 0 and 36500")
        }
        return self
    }
}

extension TraceEvent {
    /// The event, or a 400 naming the field that the trace module cannot take (unknown
    /// stages and input kinds are refused by decoding already).
    func checked() throws -> TraceEvent {
        try checkTime(time, "time")
        var event = self
        event.inputs = try inputs.enumerated().map { i, input in try input.checked(at: "inputs.\(i)") }
        return event
    }
}

extension API.TraceRecord {
    init(_ row: TraceRecordRow) {
        self.init(
            chain: row.chain, seq: row.seq, kind: row.kind, subject: row.subject, contentHash: row.contentHash,
            prevHash: row.prevHash, hash: row.hash, recordedAt: row.recordedAt)
    }
}

extension API.VerifyReport {
    init(_ r: VerifyReport) {
        self.init(
            ok: r.ok, chains: r.chains, records: r.records, codes: r.codes, seals: r.seals,
            breaks: r.breaks.map {
                API.ChainBreak(chain: $0.chain, seq: $0.seq, kind: $0.kind, subject: $0.subject, reason: $0.reason)
            })
    }
}

extension API.PublicTrace {
    /// What a code's public page shows: the producer's phone and the certificate's contact
    /// masked, the plot without its devices, the recall without who made it.
    init(_ v: TraceView) {
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
            producer: API.PublicProducer(
                name: d.producer.name, creditCode: d.producer.creditCode, contact: d.producer.contact,
                phone: d.producer.phone.map(maskPhone), address: d.producer.address, areaCode: d.producer.areaCode),
            plot: plot, environment: d.environment, events: d.events.map(\.event),
            certificate: certificate, inspections: d.inspections,
            chain: API.Chain(
                records: d.records, head: d.head, seal: d.seal, publicKey: "/.well-known/shennong-trace-key"),
            url: v.pageURL, digitalLink: v.digitalLink)
    }
}
