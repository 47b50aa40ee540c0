import Foundation

/// Parses Prometheus text exposition with the official Python client's parser
/// (`prometheus_client.parser`, installed by `make pytools`), so that a test checks /metrics
/// against a real consumer of the format, not against our own reading of it.
public enum PrometheusText {
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// Every sample of `text`; throws with the parser's message if the text is not valid.
    public static func parse(_ text: String) throws -> [Sample] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    out.append({"name": s.name, "labels": s.labels, "value": s.value})
            print(json.dumps(out))
            """,
            path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = SchemaValidator.pytools
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else {
            throw SchemaValidator.Failure(description: "prometheus_client could not parse /metrics: " + String(decoding: message, as: UTF8.self))
        }
        return rows.map { row in
            Sample(
                name: row["name"] as? String ?? "", labels: row["labels"] as? [String: String] ?? [:],
                value: (row["value"] as? NSNumber)?.doubleValue ?? .nan)
        }
    }
}

extension Array where Element == PrometheusText.Sample {
    /// The value of the sample `name` whose labels include `labels`, or nil.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        first { sample in sample.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }?.value
    }
}
