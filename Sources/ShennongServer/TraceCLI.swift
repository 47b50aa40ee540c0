import ShennongCore
import Foundation
import ShennongTrace

/// The logic of `shennong trace ...` (the executable only parses arguments): request bodies
/// from command-line values, calls to the staff API, and the files `trace issue` writes.
public enum TraceCLI {
    /// Milliseconds of a CLI date or time: `2025-03-01` (Beijing), RFC 3339, epoch s/ms, or
    /// `now`.
    public static func time(_ text: String, name: String) throws -> Int64 {
        if text == "now" { return Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
        guard let ms = ChinaTime.parse(text) else {
            throw ClientError("\(name): cannot read \(text) as a date (2025-03-01, RFC 3339 or epoch)")
        }
        return ms
    }

    /// An `--input` value: `kind:name[:withdrawal_days[:amount]]`, e.g.
    /// `pesticide:阿维菌素:14:30 mL/亩` or `fertiliser:复合肥`.
    public static func input(_ text: String, appliedAt: Int64?) throws -> [String: Any] {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        let kinds = ProductionInput.Kind.allCases.map(\.rawValue)
        guard parts.count >= 2, kinds.contains(parts[0]), !parts[1].isEmpty else {
            throw ClientError("--input \(text): write kind:name[:withdrawal_days[:amount]] with kind one of \(kinds.joined(separator: ", "))")
        }
        var input: [String: Any] = ["kind": parts[0], "name": parts[1]]
        if parts.count > 2, !parts[2].isEmpty {
            guard let days = Int(parts[2]), days >= 0 else { throw ClientError("--input \(text): withdrawal days must be a whole number") }
            input["withdrawal_days"] = days
        }
        if parts.count > 3, !parts[3].isEmpty { input["amount"] = parts[3] }
        if let appliedAt { input["applied_at"] = appliedAt }
        return input
    }

    /// Drops `nil` values.
    public static func body(_ values: [String: Any?]) -> [String: Any] {
        values.compactMapValues { $0 }
    }

    /// What `trace issue` wrote.
    public struct IssueOutput: Sendable {
        public var count: Int
        public var csv: String
        public var qrFiles: Int
        public var labelPages: [String]
    }

    /// Issues `count` codes for `batch` and writes the CSV (`code,url,digital_link`), one QR
    /// SVG per code (`{dir}/{code}.svg`, encoding the Digital Link if any, else the page
    /// URL), and A4 label sheets (`FILE.svg`, or `FILE-001.svg`, `FILE-002.svg`, … when more
    /// than 32 labels).
    public static func issue(
        client: StaffClient, batch: String, count: Int, out: String, qrDir: String?, labels: String?
    ) async throws -> IssueOutput {
        let response = try await client.send(
            "POST", "api/v1/trace/batches/\(batch)/codes", query: [:],
            body: try JSONSerialization.data(withJSONObject: ["count": count]))
        guard let rows = response["codes"] as? [[String: Any]] else {
            throw ClientError("the server answered without codes")
        }
        let product = response["product"] as? String ?? ""
        var csv = "code,url,digital_link\n"
        csv.reserveCapacity(rows.count * 120)
        var items: [(code: String, url: String, link: String?)] = []
        items.reserveCapacity(rows.count)
        for row in rows {
            let code = row["code"] as? String ?? ""
            let url = row["url"] as? String ?? ""
            let link = row["digital_link"] as? String
            items.append((code, url, link))
            csv += "\(code),\(OutputFormat.csvField(url)),\(OutputFormat.csvField(link ?? ""))\n"
        }
        try write(csv, to: out)
        var qrFiles = 0
        if let qrDir {
            try FileManager.default.createDirectory(atPath: qrDir, withIntermediateDirectories: true)
            for item in items {
                let svg = try QRCodeSVG.svg(item.link ?? item.url)
                try write(svg, to: (qrDir as NSString).appendingPathComponent("\(item.code).svg"))
                qrFiles += 1
            }
        }
        var pages: [String] = []
        if let labels {
            let sheets = try QRCodeSVG.labelSheets(
                items.map { QRCodeSVG.Label(url: $0.link ?? $0.url, code: $0.code, caption: product) })
            let stem = labels.hasSuffix(".svg") ? String(labels.dropLast(4)) : labels
            for (i, sheet) in sheets.enumerated() {
                let path = sheets.count == 1 ? labels : stem + "-" + String(format: "%03d", i + 1) + ".svg"
                try write(sheet, to: path)
                pages.append(path)
            }
        }
        return IssueOutput(count: items.count, csv: out, qrFiles: qrFiles, labelPages: pages)
    }

    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ClientError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Rows of `trace show`: one per section line, for table/csv/json output.
    public static func showRows(_ page: [String: Any]) -> [[String: Any]] {
        var rows: [[String: Any]] = []
        func add(_ field: String, _ value: Any?) { if let value, !(value is NSNull) { rows.append(["field": field, "value": value]) } }
        let batch = page["batch"] as? [String: Any] ?? [:]
        let producer = page["producer"] as? [String: Any] ?? [:]
        let plot = page["plot"] as? [String: Any] ?? [:]
        let scans = page["scans"] as? [String: Any] ?? [:]
        add("code", page["code"])
        add("status", page["status"])
        add("product", batch["product"])
        add("batch", batch["id"])
        add("producer", producer["name"])
        add("origin", plot["location"])
        add("scans", scans["count"])
        if let recall = page["recall"] as? [String: Any] { add("recall", recall["reason"]) }
        if let env = page["environment"] as? [String: Any] {
            for key in ["soil_moisture_mean", "soil_temp_mean", "air_temp_mean", "rainfall_total", "class_three_share"] {
                add("environment.\(key)", env[key])
            }
            if let r = env["dissolved_oxygen"] as? [String: Any] { add("environment.dissolved_oxygen", "\(OutputFormat.text(r["min"]))–\(OutputFormat.text(r["max"]))") }
            if let r = env["ph"] as? [String: Any] { add("environment.ph", "\(OutputFormat.text(r["min"]))–\(OutputFormat.text(r["max"]))") }
        }
        for event in page["events"] as? [[String: Any]] ?? [] {
            let time = (event["time"] as? NSNumber).map { ChinaTime.format($0.int64Value) } ?? ""
            add("event", "\(time) \(OutputFormat.text(event["stage"]))/\(OutputFormat.text(event["action"])) \(OutputFormat.text(event["party"])) @ \(OutputFormat.text(event["place"]))")
        }
        if let chain = page["chain"] as? [String: Any] { add("chain.head", chain["head"]) }
        add("url", page["url"])
        add("digital_link", page["digital_link"])
        return rows
    }
}
