import Foundation
import ShennongCore
import ShennongStore
import Testing
@testable import ShennongTrace

@Suite struct TraceabilityTests {
    static let day = TraceFixture.day
    static let t0 = TraceFixture.t0

    static func sprayEvent(at time: Int64, days: Int) -> TraceEvent {
        TraceEvent(
            stage: .production, action: TraceAction.input, party: "陈伟", time: time, place: "卿罡村3号地",
            inputs: [
                ProductionInput(kind: .fertiliser, name: "复合肥 15-15-15", amount: "30 kg/亩"),
                ProductionInput(kind: .pesticide, name: "阿维菌素", amount: "30 mL/亩", withdrawalDays: days),
            ])
    }

    static func harvest(at time: Int64) -> TraceEvent {
        TraceEvent(stage: .production, action: TraceAction.harvest, party: "陈伟", time: time, place: "卿罡村3号地")
    }

    @Test("a harvest inside a pesticide's withdrawal period is refused; after it, accepted with the environment frozen")
    func withdrawalPeriod() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        try f.trace.addEvent(batch: "B1", Self.sprayEvent(at: Self.t0 + 40 * Self.day, days: 14), by: "test")

        let refused = #expect(throws: TraceError.self) {
            try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 50 * Self.day), by: "test")
        }
        #expect(refused?.code == .withdrawalPeriod)
        #expect(refused?.message.contains("阿维菌素") == true)
        #expect(refused?.message.contains("安全间隔期14天") == true)
        // The last moment inside the period is still refused; nothing was written.
        #expect(throws: TraceError.self) {
            try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 54 * Self.day - 1), by: "test")
        }
        #expect(try f.trace.dossier(batch: "B1").events.count == 1)
        #expect(try f.trace.dossier(batch: "B1").environment == nil)

        // An input applied at its own time (appliedAt) counts from then, not from the event.
        let late = TraceEvent(
            stage: .production, action: TraceAction.input, party: "陈伟", time: Self.t0 + 41 * Self.day, place: "地头",
            inputs: [ProductionInput(kind: .pesticide, name: "吡虫啉", appliedAt: Self.t0 + 45 * Self.day, withdrawalDays: 10)])
        try f.trace.addEvent(batch: "B1", late, by: "test")
        let second = #expect(throws: TraceError.self) {
            try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 54 * Self.day), by: "test")
        }
        #expect(second?.message.contains("吡虫啉") == true)

        try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 55 * Self.day), by: "test")
        let d = try f.trace.dossier(batch: "B1")
        #expect(d.events.map(\.event.action) == [TraceAction.input, TraceAction.input, TraceAction.harvest])
        #expect(d.environment?.from == Self.t0)
        #expect(d.environment?.to == Self.t0 + 55 * Self.day)
    }

    @Test("the environment summary is computed from stored readings of the plot's devices between planting and harvest")
    func environmentFromReadings() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        var batch = IngestBatch()
        for (id, domain) in [("soil-1", Domain.soil), ("wx-1", .weather), ("pond-1", .water), ("other", .soil)] {
            batch.newDevices.append(Device(id: id, profile: "generic", domain: domain, createdAt: 0))
        }
        let start = Self.t0 + Self.day
        let step: Int64 = 600_000  // 10 min
        for i in 0..<12 {
            let t = start + Int64(i) * step
            batch.readings += [
                Reading(device: "soil-1", metric: "soil_moisture", timestamp: t, value: [20.0, 22, 24, 26][i % 4]),
                Reading(device: "soil-1", metric: "soil_temp", timestamp: t, value: [18.0, 19, 20, 21][i % 4]),
                Reading(device: "wx-1", metric: "rainfall", timestamp: t, value: 0.5),
                Reading(device: "wx-1", metric: "air_temp", timestamp: t, value: 25),
                // DO below 5 for 3 of 12 intervals: 75 % at class III or better.
                Reading(device: "pond-1", metric: "dissolved_oxygen", timestamp: t, value: i < 3 ? 4.2 : 6.0 + Double(i) / 10),
                Reading(device: "pond-1", metric: "ph", timestamp: t, value: 7.0 + Double(i % 3) / 10),
                // A device not on the plot, and a reading before planting: both ignored.
                Reading(device: "other", metric: "soil_moisture", timestamp: t, value: 99),
            ]
        }
        batch.readings.append(Reading(device: "soil-1", metric: "soil_moisture", timestamp: Self.t0 - 1, value: 99))
        _ = try f.store.commit(batch)
        try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 30 * Self.day), by: "test")
        let env = try #require(try f.trace.dossier(batch: "B1").environment)
        #expect(env.devices == ["pond-1", "soil-1", "wx-1"])
        #expect(env.soilMoistureMean == 23)
        #expect(env.soilTempMean == 19.5)
        #expect(env.airTempMean == 25)
        #expect(env.rainfallTotal == 6)
        #expect(env.dissolvedOxygen == .init(min: 4.2, max: 7.1))
        #expect(env.ph == .init(min: 7.0, max: 7.2))
        #expect(env.classThreeShare == 0.75)
        #expect(env.readings == 72)
    }

    @Test("class III share: pH outside 6–9 or ammonia above 1.0 also fails a DO reading that is fine")
    func classThreeShare() {
        var readings: [Reading] = []
        for i in 0..<10 {
            let t = Int64(i) * 60_000
            readings.append(Reading(device: "p", metric: "dissolved_oxygen", timestamp: t, value: 6))
            readings.append(Reading(device: "p", metric: "ph", timestamp: t, value: i == 2 ? 9.5 : 7))
        }
        readings.append(Reading(device: "p", metric: "ammonia_nitrogen", timestamp: 0, value: 0.5))
        readings.append(Reading(device: "p", metric: "ammonia_nitrogen", timestamp: 8 * 60_000, value: 1.2))
        let s = EnvironmentSummary.compute(devices: ["p"], from: 0, to: 600_000, readings: readings, warnings: [])
        #expect(s.classThreeShare == 0.7)
    }

    @Test("trace verify: an intact chain passes; a payload edited with sqlite3 is named as the first broken link")
    func verifyFindsEditedRow() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        try f.trace.issueCertificate(batch: "B1", basis: [.selfTested], by: "test")
        try f.trace.addEvent(batch: "B1", Self.sprayEvent(at: Self.t0 + 10 * Self.day, days: 7), by: "test")
        try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 30 * Self.day), by: "test")
        _ = try f.trace.issueCodes(batch: "B1", count: 100, by: "test")
        try f.trace.seal(batch: "B1", by: "test")
        let intact = try f.trace.verify()
        #expect(intact.ok, "\(intact.breaks)")
        #expect(intact.chains == 2)
        #expect(intact.codes == 100)
        #expect(intact.seals == 1)

        // Someone changes the pesticide's name in the database.
        let seq = try #require(Int(f.sqlite("SELECT seq FROM trace_records WHERE chain='batch:B1' AND payload LIKE '%阿维菌素%'")
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        _ = try f.sqlite("UPDATE trace_records SET payload = replace(payload, '阿维菌素', '生物农药') WHERE chain='batch:B1' AND seq=\(seq)")
        let broken = try f.trace.verify()
        #expect(!broken.ok)
        #expect(broken.breaks.count == 1)
        let link = try #require(broken.breaks.first)
        #expect(link.chain == "batch:B1")
        #expect(link.seq == Int64(seq))
        #expect(link.kind == "event")
        #expect(link.reason.contains("content changed"))

        // Also updating its content hash moves the break to the link hash; and a code slipped
        // into the code table is found too.
        let newHash = TraceHashing.sha256Hex(Array(try f.sqlite("SELECT payload FROM trace_records WHERE chain='batch:B1' AND seq=\(seq)").dropLast().utf8))
        _ = try f.sqlite("UPDATE trace_records SET content_hash = '\(newHash)' WHERE chain='batch:B1' AND seq=\(seq)")
        #expect(try f.trace.verify().breaks.first?.reason.contains("link hash") == true)
        #expect(try f.trace.verify().breaks.first?.seq == Int64(seq))
    }

    @Test("trace verify: codes added to or removed from the table, and a deleted record, are found")
    func verifyFindsCodeAndRowChanges() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        let codes = try f.trace.issueCodes(batch: "B1", count: 10, by: "test")
        try f.trace.recall(batch: "B1", reason: "检出农残超标", by: "test")
        #expect(try f.trace.verify().ok)

        _ = try f.sqlite("DELETE FROM trace_codes WHERE code = '\(codes[3].compact)'")
        let removed = try f.trace.verify()
        #expect(removed.breaks.first?.kind == "codes")
        #expect(removed.breaks.first?.reason.contains("codes of this issue changed") == true)

        _ = try f.sqlite("INSERT INTO trace_codes VALUES ('\(codes[3].compact)', 'B1', 1, 0)")
        #expect(try f.trace.verify().ok)
        _ = try f.sqlite("INSERT INTO trace_codes VALUES ('ZZZZZZZZZZZZZZZZZZZZ', 'B1', 1, 0)")
        #expect(try f.trace.verify().breaks.first?.seq == 1)
        _ = try f.sqlite("DELETE FROM trace_codes WHERE code = 'ZZZZZZZZZZZZZZZZZZZZ'")

        _ = try f.sqlite("DELETE FROM trace_records WHERE chain = 'batch:B1' AND seq = 1")
        let gap = try f.trace.verify()
        #expect(gap.breaks.first?.seq == 2)
        #expect(gap.breaks.first?.reason.contains("missing") == true)
    }

    @Test("a seal is an Ed25519 signature over the chain head that a recomputed chain must still match")
    func sealing() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        let seal = try f.trace.seal(batch: "B1", by: "test")
        #expect(seal.headSeq == 0)
        #expect(try f.trace.verify().seals == 1)
        // Rewriting the batch record and every hash after it consistently still breaks the seal.
        let rows = try f.store.traceRecords(chain: "batch:B1")
        let payload = rows[0].payload.replacingOccurrences(of: "菜心", with: "白菜")
        let content = TraceHashing.sha256Hex(Array(payload.utf8))
        let hash0 = TraceHashing.linkHash(prev: Store.traceGenesisHash, content: content)
        let hash1 = TraceHashing.linkHash(prev: hash0, content: rows[1].contentHash)
        _ = try f.sqlite("UPDATE trace_records SET payload = '\(payload)', content_hash = '\(content)', hash = '\(hash0)' WHERE chain = 'batch:B1' AND seq = 0")
        _ = try f.sqlite("UPDATE trace_records SET prev_hash = '\(hash0)', hash = '\(hash1)' WHERE chain = 'batch:B1' AND seq = 1")
        let report = try f.trace.verify()
        #expect(report.breaks.first?.kind == "seal")
        #expect(report.breaks.first?.reason.contains("not the chain's") == true)
    }

    @Test("bad registry input is refused with a reason: credit code, area code, GTIN, lot, unknown plot")
    func refusals() throws {
        let f = try TraceFixture()
        let bad = #expect(throws: TraceError.self) {
            try f.trace.addProducer(
                Producer(id: "P9", name: "X", creditCode: "91350100M000100Y44", areaCode: "441882"), by: "t")
        }
        #expect(bad?.message.contains("check character should be 3") == true)
        #expect(throws: TraceError.self) {
            try f.trace.addProducer(Producer(id: "P9", name: "X", creditCode: "91350100M000100Y43", areaCode: "4418"), by: "t")
        }
        try f.registerBatch()
        #expect(throws: TraceError.self) { try f.registerBatch() }  // B1 again: conflict
        #expect(throws: TraceError.self) { try f.registerBatch(id: "B2", gtin: "09521234543214") }
        #expect(throws: TraceError.self) { try f.registerBatch(id: "lot with spaces") }
        #expect(throws: TraceError.self) {
            try f.trace.createBatch(Batch(id: "B3", plot: "NOPE", product: "菜心", quantity: 1, unit: "kg", plantingDate: 0), by: "t")
        }
    }

    @Test("lookups: forged codes refused and rate-limited per client; issued codes counted with first scan and networks")
    func lookups() throws {
        var settings = TraceSettings()
        settings.missBurst = 5
        settings.missPerMinute = 1
        settings.cloneNetworkLimit = 2
        let f = try TraceFixture(settings: settings)
        try f.registerBatch()
        let codes = try f.trace.issueCodes(batch: "B1", count: 3, by: "test")

        guard case .found(let first) = try f.trace.lookup(codes[0].grouped, client: "10.0.0.1") else {
            Issue.record("issued code not found")
            return
        }
        #expect(first.scans.count == 1)
        #expect(first.scans.firstAt == f.clock.now)
        #expect(!first.suspect)
        f.clock.now += 1000
        guard case .found(let second) = try f.trace.lookup(codes[0].compact.lowercased(), client: "10.0.0.2") else {
            Issue.record("second lookup")
            return
        }
        #expect(second.scans.count == 2)
        #expect(second.scans.networks == 1)  // same /24
        #expect(second.scans.firstAt == first.scans.firstAt)
        for net in ["10.0.1.1", "10.0.2.1"] { _ = try f.trace.lookup(codes[0].compact, client: net) }
        guard case .found(let third) = try f.trace.lookup(codes[0].compact, client: "10.0.2.9") else { return }
        #expect(third.scans.networks == 3)
        #expect(third.suspect)

        // Counters survive a flush and a new tracker (server restart).
        try f.trace.scans.flush()
        let fresh = ScanTracker(store: f.store)
        #expect(try fresh.peek(code: codes[0].compact)?.count == 5)
        #expect(try fresh.record(code: codes[0].compact, network: "x", now: f.clock.now).count == 6)

        // Five misses empty the bucket: then even a good code gets "rate limited" from that client.
        for i in 0..<5 {
            guard case .unknown = try f.trace.lookup("AAAAA-AAAAA-AAAAA-AAAA\(i)", client: "192.0.2.7") else {
                Issue.record("forged code accepted")
                return
            }
        }
        guard case .rateLimited = try f.trace.lookup(codes[1].grouped, client: "192.0.2.7") else {
            Issue.record("not rate limited")
            return
        }
        guard case .found = try f.trace.lookup(codes[1].grouped, client: "192.0.2.8") else {
            Issue.record("another client is limited too")
            return
        }
        f.clock.now += 60_000
        guard case .found = try f.trace.lookup(codes[1].grouped, client: "192.0.2.7") else {
            Issue.record("bucket did not refill")
            return
        }
        // Digital Link: the serial must belong to the GTIN and lot of its batch.
        guard case .found = try f.trace.lookup(gtin: "09521234543213", lot: "B1", serial: codes[2].compact, client: "h") else {
            Issue.record("digital link")
            return
        }
        guard case .unknown = try f.trace.lookup(gtin: "00614141123452", lot: "B1", serial: codes[2].compact, client: "h") else {
            Issue.record("wrong GTIN accepted")
            return
        }
    }

    @Test("recall: the batch says so and takes no more codes or events")
    func recall() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        try f.trace.recall(batch: "B1", reason: "检出农残超标", by: "test")
        #expect(try f.trace.dossier(batch: "B1").recall?.reason == "检出农残超标")
        #expect(throws: TraceError.self) { _ = try f.trace.issueCodes(batch: "B1", count: 1, by: "t") }
        #expect(throws: TraceError.self) { try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + Self.day), by: "t") }
    }

    @Test("100,000 codes are issued in one call, all distinct and all authentic")
    func manyCodes() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        let codes = try f.trace.issueCodes(batch: "B1", count: 100_000, by: "test")
        #expect(Set(codes).count == 100_000)
        #expect(try f.store.traceCodes(batch: "B1").count == 100_000)
        #expect(codes.prefix(1000).allSatisfy { f.trace.parseCode($0.compact) != nil })
        #expect(try f.trace.verify().codes == 100_000)
    }

    @Test("QR codes from libqrencode: finder patterns in the corners; SVG and A4 label sheets")
    func qrCodes() throws {
        let m = try QRCodeSVG.modules("https://trace.example.cn/t/ABCDE-FGHJK-MNPQR-STVWX")
        #expect(m.count >= 21 && (m.count - 17) % 4 == 0)
        // A finder pattern: dark 7×7 ring, light ring inside, dark 3×3 core.
        for (ox, oy) in [(0, 0), (m.count - 7, 0), (0, m.count - 7)] {
            for y in 0..<7 {
                for x in 0..<7 {
                    let ring = max(abs(x - 3), abs(y - 3))
                    #expect(m[oy + y][ox + x] == (ring != 2), "finder at \(ox),\(oy)")
                }
            }
        }
        let svg = try QRCodeSVG.svg("hello")
        #expect(svg.contains("<svg") && svg.contains("<path"))
        let labels = (0..<40).map { QRCodeSVG.Label(url: "https://x/t/\($0)", code: "CODE-\($0)", caption: "菜心<&>") }
        let pages = try QRCodeSVG.labelSheets(labels)
        #expect(pages.count == 2)
        #expect(pages[0].contains("width=\"210mm\" height=\"297mm\""))
        #expect(pages[0].contains("菜心&lt;&amp;&gt;"))
        #expect(!pages[0].contains("菜心<&>"))
    }

    @Test("canonical JSON: sorted keys, no whitespace, snake_case; the payload hash is its SHA-256")
    func canonical() throws {
        let json = try TraceHashing.canonicalJSON(Recall(reason: "原因 a", at: 5, by: "b"))
        #expect(json == #"{"at":5,"by":"b","reason":"原因 a"}"#)
        #expect(TraceHashing.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a producer's canonical JSON is one flat object: its id beside its details' keys, absent fields left out")
    func producerCanonical() throws {
        let producer = Producer(
            id: "P1", name: "合作社", creditCode: "91350100M000100Y43", contact: "陈伟", phone: "13812341234", areaCode: "441882")
        let json = try TraceHashing.canonicalJSON(producer)
        #expect(
            json
                == #"{"area_code":"441882","contact":"陈伟","credit_code":"91350100M000100Y43","id":"P1","name":"合作社","phone":"13812341234"}"#)
        #expect(try TraceHashing.decode(Producer.self, from: json) == producer)
        #expect(try TraceHashing.canonicalJSON(producer.details) == json.replacingOccurrences(of: #""id":"P1","#, with: ""))
    }

    struct OneWarning: WarningHistory {
        func warnings(devices: [String], from: Int64, to: Int64) throws -> [WarningRecord] {
            [WarningRecord(level: "yellow", rule: "do-16-of-24", device: devices[0], raisedAt: from + 1000, closedAt: from + 2000,
                           closedBy: "陈伟", note: "开增氧机")]
        }
    }

    @Test("warnings raised on the plot's devices, and how each was closed, are frozen into the environment")
    func warningsInEnvironment() throws {
        let f = try TraceFixture(warnings: OneWarning())
        try f.registerBatch()
        try f.trace.addEvent(batch: "B1", Self.harvest(at: Self.t0 + 30 * Self.day), by: "test")
        let env = try #require(try f.trace.dossier(batch: "B1").environment)
        #expect(env.warnings.count == 1)
        #expect(env.warnings.first?.closedBy == "陈伟")
        #expect(env.warnings.first?.device == "soil-1")
    }

    @Test("an event of one item shows on that item's page only; a code of another batch is refused")
    func perItemEvents() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        try f.registerBatch(id: "B2")
        let codes = try f.trace.issueCodes(batch: "B1", count: 2, by: "test")
        let other = try f.trace.issueCodes(batch: "B2", count: 1, by: "test")
        let detour = TraceEvent(
            stage: .distribution, action: TraceAction.receiving, party: "清远冷链仓", time: Self.t0 + 60 * Self.day,
            place: "清远", item: codes[0].grouped)
        try f.trace.addEvent(batch: "B1", detour, by: "test")
        #expect(try f.trace.view(code: codes[0].grouped)?.dossier.events.map(\.event.party) == ["清远冷链仓"])
        #expect(try f.trace.view(code: codes[1].grouped)?.dossier.events.isEmpty == true)
        var wrong = detour
        wrong.item = other[0].compact
        #expect(throws: TraceError.self) { try f.trace.addEvent(batch: "B1", wrong, by: "test") }
    }

    @Test("the page path's cache never serves a batch older than the last write")
    func cacheFollowsWrites() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        let code = try f.trace.issueCodes(batch: "B1", count: 1, by: "test")[0]
        guard case .found(let before) = try f.trace.lookup(code.grouped, client: "c") else { return }
        #expect(before.dossier.recall == nil)
        try f.trace.recall(batch: "B1", reason: "召回测试", by: "test")
        guard case .found(let after) = try f.trace.lookup(code.grouped, client: "c") else { return }
        #expect(after.dossier.recall?.reason == "召回测试")
    }

    @Test("the registry chain is verified too: an edited producer is found")
    func registryTamper() throws {
        let f = try TraceFixture()
        try f.registerBatch()
        _ = try f.sqlite("UPDATE trace_records SET payload = replace(payload, '13812341234', '13900000000') WHERE chain = 'registry' AND seq = 0")
        let report = try f.trace.verify()
        #expect(report.breaks.map(\.chain) == ["registry"])
        #expect(report.breaks.first?.kind == "producer")
    }
}
