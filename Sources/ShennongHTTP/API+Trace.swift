import ShennongAPI
import ShennongCore
import ShennongTrace

// The contract's traceability bodies: from the trace module's values (answers), and to them
// (request bodies, checked: a stage or input kind the module does not know, a time outside
// years 1–9999 or a withdrawal period over 100 years is a 400).

/// Throws a 400 naming `field` unless `ms` is absent or within ``TimeExpression/range``.
func checkTime(_ ms: Int64?, _ field: String) throws {
    if let ms, !TimeExpression.range.contains(ms) {
        throw APIError(.badRequest, "body \(field): \(ms) is not a time between years 1 and 9999 (epoch ms)")
    }
}

extension API.Producer {
    init(_ p: Producer) {
        self.init(
            id: p.id, name: p.name, creditCode: p.creditCode, contact: p.contact, phone: p.phone, address: p.address,
            areaCode: p.areaCode)
    }

    var value: Producer {
        Producer(
            id: id, name: name, creditCode: creditCode, contact: contact, phone: phone, address: address, areaCode: areaCode)
    }
}

extension API.Plot {
    init(_ p: Plot) {
        self.init(
            id: p.id, producer: p.producer, name: p.name, location: p.location, latitude: p.latitude,
            longitude: p.longitude, area: p.area, areaUnit: p.areaUnit, areaCode: p.areaCode, devices: p.devices)
    }

    var value: Plot {
        Plot(
            id: id, producer: producer, name: name, location: location, latitude: latitude, longitude: longitude,
            area: area, areaUnit: areaUnit, areaCode: areaCode, devices: devices)
    }
}

extension API.Batch {
    init(_ b: Batch) {
        self.init(
            id: b.id, plot: b.plot, product: b.product, variety: b.variety, quantity: b.quantity, unit: b.unit,
            plantingDate: b.plantingDate, harvestDate: b.harvestDate, gtin: b.gtin)
    }

    func value() throws -> Batch {
        try checkTime(plantingDate, "planting_date")
        try checkTime(harvestDate, "harvest_date")
        return Batch(
            id: id, plot: plot, product: product, variety: variety, quantity: quantity, unit: unit,
            plantingDate: plantingDate, harvestDate: harvestDate, gtin: gtin)
    }
}

extension API.Certificate {
    init(_ c: Certificate) {
        self.init(
            product: c.product, quantity: c.quantity, unit: c.unit, producerName: c.producerName, origin: c.origin,
            contact: c.contact, issueDate: c.issueDate, commitment: c.commitment, basis: c.basis.map(\.rawValue))
    }
}

extension API.Inspection {
    init(_ i: Inspection) {
        self.init(sample: i.sample, item: i.item, result: i.result, passed: i.passed, lab: i.lab, date: i.date)
    }

    func value() throws -> Inspection {
        try checkTime(date, "date")
        return Inspection(sample: sample, item: item, result: result, passed: passed, lab: lab, date: date)
    }
}

extension API.ProductionInput {
    init(_ i: ProductionInput) {
        self.init(
            kind: i.kind.rawValue, name: i.name, amount: i.amount, appliedAt: i.appliedAt, withdrawalDays: i.withdrawalDays)
    }

    /// The input, or a 400 naming the field (`at`: its path in the body).
    func value(at path: String) throws -> ProductionInput {
        guard let kind = ProductionInput.Kind(rawValue: kind) else {
            let known = ProductionInput.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.badRequest, "body \(path).kind: unknown kind \(self.kind); use \(known)")
        }
        try checkTime(appliedAt, "\(path).applied_at")
        if let days = withdrawalDays, !(0...36_500).contains(days) {
            throw APIError(.badRequest, "body \(path).withdrawal_days: \(days) is not between 0 and 36500")
        }
        return ProductionInput(kind: kind, name: name, amount: amount, appliedAt: appliedAt, withdrawalDays: withdrawalDays)
    }
}

extension API.TraceEvent {
    init(_ e: TraceEvent) {
        self.init(
            stage: e.stage.rawValue, action: e.action, party: e.party, time: e.time, place: e.place, note: e.note,
            inputs: e.inputs.map(API.ProductionInput.init), item: e.item, packedLot: e.packedLot)
    }

    /// The event, or a 400 naming the field that the trace module cannot take.
    func value() throws -> TraceEvent {
        guard let stage = TraceStage(rawValue: stage) else {
            let known = TraceStage.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.badRequest, "body stage: unknown stage \(self.stage); use \(known)")
        }
        try checkTime(time, "time")
        return TraceEvent(
            stage: stage, action: action, party: party, time: time, place: place, note: note,
            inputs: try inputs.enumerated().map { i, input in try input.value(at: "inputs.\(i)") }, item: item,
            packedLot: packedLot)
    }
}

extension API.StageEntry {
    init(_ e: StageEntry) {
        self.init(seq: e.seq, hash: e.hash, recordedAt: e.recordedAt, recordedBy: e.recordedBy, event: API.TraceEvent(e.event))
    }
}

extension API.EnvironmentSummary {
    init(_ e: EnvironmentSummary) {
        self.init(
            from: e.from, to: e.to, devices: e.devices, readings: e.readings, soilMoistureMean: e.soilMoistureMean,
            soilTempMean: e.soilTempMean, airTempMean: e.airTempMean, rainfallTotal: e.rainfallTotal,
            dissolvedOxygen: e.dissolvedOxygen.map { API.Range(min: $0.min, max: $0.max) },
            ph: e.ph.map { API.Range(min: $0.min, max: $0.max) }, classThreeShare: e.classThreeShare,
            warnings: e.warnings.map {
                API.Warning(
                    level: $0.level, rule: $0.rule, device: $0.device, raisedAt: $0.raisedAt, closedAt: $0.closedAt,
                    closedBy: $0.closedBy, note: $0.note)
            })
    }
}

extension API.Recall {
    init(_ r: Recall) { self.init(reason: r.reason, at: r.at, by: r.by) }
}

extension API.Seal {
    init(_ s: Seal) {
        self.init(head: s.head, headSeq: s.headSeq, signature: s.signature, publicKey: s.publicKey, sealedAt: s.sealedAt)
    }
}

extension API.BatchDossier {
    init(_ d: BatchDossier) {
        self.init(
            batch: API.Batch(d.batch), plot: API.Plot(d.plot), producer: API.Producer(d.producer),
            certificate: d.certificate.map(API.Certificate.init), inspections: d.inspections.map(API.Inspection.init),
            events: d.events.map(API.StageEntry.init), environment: d.environment.map(API.EnvironmentSummary.init),
            recall: d.recall.map(API.Recall.init), seal: d.seal.map(API.Seal.init), codesIssued: d.codesIssued,
            head: d.head, records: d.records)
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
        var certificate = d.certificate.map(API.Certificate.init)
        if let contact = certificate?.contact, maskPhone(contact) != "****" { certificate?.contact = maskPhone(contact) }
        var plot = API.Plot(d.plot)
        plot.devices = []
        self.init(
            code: v.code.grouped, status: recalled ? "recalled" : v.suspect ? "suspect" : "ok", recalled: recalled,
            recall: d.recall.map { API.Recall(reason: $0.reason, at: $0.at, by: "") }, suspect: v.suspect,
            scans: API.Scans(count: v.scans.count, firstAt: v.scans.firstAt, networks: v.scans.networks),
            batch: API.Batch(d.batch),
            producer: API.PublicProducer(
                name: d.producer.name, creditCode: d.producer.creditCode, contact: d.producer.contact,
                phone: d.producer.phone.map(maskPhone), address: d.producer.address, areaCode: d.producer.areaCode),
            plot: plot, environment: d.environment.map(API.EnvironmentSummary.init), events: d.events.map { API.TraceEvent($0.event) },
            certificate: certificate, inspections: d.inspections.map(API.Inspection.init),
            chain: API.Chain(
                records: d.records, head: d.head, seal: d.seal.map(API.Seal.init), publicKey: "/.well-known/shennong-trace-key"),
            url: v.pageURL, digitalLink: v.digitalLink)
    }
}
