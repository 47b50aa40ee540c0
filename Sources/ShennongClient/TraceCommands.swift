import Foundation
import ShennongAPI
import ShennongCore
import ShennongTrace

/// `shennong trace ...`: request bodies from command-line values, calls to the staff API, the
/// files `trace issue` writes, and what each verb prints.
public enum TraceCommands {
    public static let recordColumns = ["kind", "subject", "chain", "seq", "hash"]

    /// Milliseconds of a CLI date or time: `2025-03-01` (Beijing), RFC 3339, epoch s/ms, or
    /// `now`.
    public static func time(_ text: String, name: String) throws -> Int64 {
        if text == "now" { return WallClock.system.now() }
        guard let ms = ChinaTime.parse(text) else {
            throw ClientError(CLIStrings.current.badTime(name, text))
        }
        return ms
    }

    /// An `--input` value: `kind:name[:withdrawal_days[:amount]]`, e.g.
    /// `pesticide:阿维菌素:14:30 mL/亩` or `fertiliser:复合肥`.
    public static func input(_ text: String, appliedAt: Int64?) throws -> API.ProductionInput {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        let kinds = ProductionInput.Kind.allCases.map(\.rawValue)
        guard parts.count >= 2, let kind = ProductionInput.Kind(rawValue: parts[0]), !parts[1].isEmpty else {
            throw ClientError(CLIStrings.current.badInput(text, kinds.joined(separator: ", ")))
        }
        var input = API.ProductionInput(kind: kind, name: parts[1], appliedAt: appliedAt)
        if parts.count > 2, !parts[2].isEmpty {
            guard let days = Int(parts[2]), days >= 0 else { throw ClientError(CLIStrings.current.badWithdrawalDays(text)) }
            input.withdrawalDays = days
        }
        if parts.count > 3, !parts[3].isEmpty { input.amount = parts[3] }
        return input
    }

    /// A write that answers with the record appended to a chain (producer, plot, batch,
    /// inspection, event).
    public static func record(_ client: StaffClient, _ path: String, _ body: some Encodable, format: OutputFormat) async throws -> String {
        let record = try await client.post(API.TraceRecord.self, path, body: body)
        return try format.render([record], columns: recordColumns)
    }

    /// `trace batch list`.
    public static func batches(_ client: StaffClient, format: OutputFormat) async throws -> String {
        let list = try await client.get(API.BatchList.self, "api/v1/trace/batches")
        return format.render(list.batches.map { OutputFormat.row(["batch": .string($0)]) }, columns: ["batch"])
    }

    /// `trace batch show`: everything recorded about a batch, as JSON.
    public static func dossier(_ client: StaffClient, batch: String) async throws -> String {
        OutputFormat.json(try await client.get(API.BatchDossier.self, "api/v1/trace/batches/\(batch)")) + "\n"
    }

    /// `trace certificate`.
    public static func certificate(
        _ client: StaffClient, batch: String, _ request: API.CertificateRequest, format: OutputFormat
    ) async throws -> String {
        let certificate = try await client.post(API.Certificate.self, "api/v1/trace/batches/\(batch)/certificate", body: request)
        return try format.render(
            [certificate], columns: ["product", "quantity", "unit", "producer_name", "origin", "contact", "issue_date", "basis"])
    }

    /// What `trace issue` wrote.
    public struct IssueOutput: Sendable {
        public var count: Int
        public var csv: String
        public var qrFiles: Int
        public var labelPages: [String]

        /// The summary rows `trace issue` prints.
        public func rows(qrDir: String?) -> [JSONValue] {
            var rows = [
                OutputFormat.row(["item": .string("codes"), "value": .number(Double(count))]),
                OutputFormat.row(["item": .string("csv"), "value": .string(csv)]),
            ]
            if let qrDir { rows.append(OutputFormat.row(["item": .string("qr_svgs"), "value": .string(CLIStrings.current.qrFiles(qrFiles, qrDir))])) }
            if let first = labelPages.first, let last = labelPages.last {
                let pages = labelPages.count
                rows.append(
                    OutputFormat.row([
                        "item": .string("label_sheets"),
                        "value": .string(pages == 1 ? first : CLIStrings.current.labelPages(pages, first, last)),
                    ]))
            }
            return rows
        }
    }

    /// Issues `count` codes for `batch` and writes the CSV (`code,url,digital_link`), one QR
    /// SVG per code (`{dir}/{code}.svg`, encoding the Digital Link if any, else the page
    /// URL), and A4 label sheets (`FILE.svg`, or `FILE-001.svg`, `FILE-002.svg`, … when more
    /// than 32 labels).
    public static func issue(
        _ client: StaffClient, batch: String, count: Int, out: String, qrDir: String?, labels: String?
    ) async throws -> IssueOutput {
        let issued = try await client.post(API.IssuedCodes.self, "api/v1/trace/batches/\(batch)/codes", body: API.CodesRequest(count: count))
        var csv = "code,url,digital_link\n"
        csv.reserveCapacity(issued.codes.count * 120)
        for item in issued.codes {
            csv += "\(item.code),\(OutputFormat.csvField(item.url)),\(OutputFormat.csvField(item.digitalLink ?? ""))\n"
        }
        try write(csv, to: out)
        var qrFiles = 0
        if let qrDir {
            try FileManager.default.createDirectory(atPath: qrDir, withIntermediateDirectories: true)
            for item in issued.codes {
                let svg = try QRCodeSVG.svg(item.digitalLink ?? item.url)
                try write(svg, to: (qrDir as NSString).appendingPathComponent("\(item.code).svg"))
                qrFiles += 1
            }
        }
        var pages: [String] = []
        if let labels {
            let sheets = try QRCodeSVG.labelSheets(
                issued.codes.map { QRCodeSVG.Label(url: $0.digitalLink ?? $0.url, code: $0.code, caption: issued.product) })
            let stem = labels.hasSuffix(".svg") ? String(labels.dropLast(4)) : labels
            for (i, sheet) in sheets.enumerated() {
                let path = sheets.count == 1 ? labels : stem + "-" + String(format: "%03d", i + 1) + ".svg"
                try write(sheet, to: path)
                pages.append(path)
            }
        }
        return IssueOutput(count: issued.codes.count, csv: out, qrFiles: qrFiles, labelPages: pages)
    }

    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ClientError(CLIStrings.current.cannotWrite(path, error.localizedDescription))
        }
    }

    /// `trace show CODE`: what the code's page shows (no scan is counted).
    public static func show(_ client: StaffClient, code: String, format: OutputFormat) async throws -> String {
        let page = try await client.get(API.PublicTrace.self, "api/v1/trace/codes/\(code)")
        if format == .json { return OutputFormat.json(page) + "\n" }
        return format.render(showRows(page), columns: ["field", "value"])
    }

    /// Rows of `trace show`: one per section line.
    public static func showRows(_ page: API.PublicTrace) -> [JSONValue] {
        var rows: [JSONValue] = []
        func add(_ field: String, _ value: JSONValue?) {
            if let value { rows.append(OutputFormat.row(["field": .string(field), "value": value])) }
        }
        func number(_ value: Double?) -> JSONValue? { value.map(JSONValue.number) }
        func range(_ r: API.Range?) -> JSONValue? {
            r.map { .string("\(OutputFormat.text(.number($0.min)))–\(OutputFormat.text(.number($0.max)))") }
        }
        add("code", .string(page.code))
        add("status", .string(page.status))
        add("product", .string(page.batch.product))
        add("batch", .string(page.batch.id))
        add("producer", .string(page.producer.name))
        add("origin", .string(page.plot.location))
        add("scans", .number(Double(page.scans.count)))
        add("recall", page.recall.map { .string($0.reason) })
        if let env = page.environment {
            add("environment.soil_moisture_mean", number(env.soilMoistureMean))
            add("environment.soil_temp_mean", number(env.soilTempMean))
            add("environment.air_temp_mean", number(env.airTempMean))
            add("environment.rainfall_total", number(env.rainfallTotal))
            add("environment.class_three_share", number(env.classThreeShare))
            add("environment.dissolved_oxygen", range(env.dissolvedOxygen))
            add("environment.ph", range(env.ph))
        }
        for event in page.events {
            add("event", .string("\(ChinaTime.format(event.time)) \(event.stage)/\(event.action) \(event.party) @ \(event.place)"))
        }
        add("chain.head", .string(page.chain.head))
        add("url", .string(page.url))
        add("digital_link", page.digitalLink.map(JSONValue.string))
        return rows
    }

    /// `trace verify [CODE]`: the report, and whether every chain held.
    public static func verify(_ client: StaffClient, code: String?, format: OutputFormat) async throws -> (text: String, ok: Bool) {
        let report = try await client.get(API.VerifyReport.self, "api/v1/trace/verify", query: ["code": code])
        if format == .json { return (OutputFormat.json(report) + "\n", report.breaks.isEmpty) }
        if report.breaks.isEmpty {
            return (CLIStrings.current.verified(report.chains, report.records, report.codes, report.seals) + "\n", true)
        }
        return (CLIStrings.current.verifyBroken + "\n" + (try format.render(report.breaks, columns: ["chain", "seq", "kind", "subject", "reason"])), false)
    }

    /// `trace recall`.
    public static func recall(_ client: StaffClient, batch: String, reason: String, format: OutputFormat) async throws -> String {
        let recall = try await client.post(API.Recall.self, "api/v1/trace/batches/\(batch)/recall", body: API.RecallRequest(reason: reason))
        return try format.render([recall], columns: ["reason", "at", "by"])
    }

    /// `trace seal`.
    public static func seal(_ client: StaffClient, batch: String, format: OutputFormat) async throws -> String {
        let seal = try await client.post(API.Seal.self, "api/v1/trace/batches/\(batch)/seal")
        return try format.render([seal], columns: ["head_seq", "head", "signature", "sealed_at"])
    }

    /// `trace export --epcis`: the EPCIS 2.0 JSON-LD document, indented, to `out` or returned.
    public static func exportEPCIS(_ client: StaffClient, batch: String, out: String?) async throws -> String? {
        let document = try await client.get(JSONValue.self, "api/v1/trace/batches/\(batch)/epcis")
        let text = OutputFormat.json(document)
        guard let out else { return text + "\n" }
        try write(text, to: out)
        return nil
    }
}
