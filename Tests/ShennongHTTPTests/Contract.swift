import Foundation
import ShennongAPI
import ShennongCore
import ShennongTestSupport
import Synchronization

/// `openapi.yaml` read by Python (PyYAML and jsonschema from `.build/pytools`, `make pytools`):
/// sample bodies of its schemas, and answers checked against its operations.
enum Contract {
    static var specPath: String { ShennongBinary.repositoryRoot.appendingPathComponent("openapi.yaml").path }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Per schema of `components.schemas` that is an object: `full`, every property present
    /// (arrays and maps with one entry, the last enum value), and `minimal`, only the required
    /// ones (the first enum value). Both are valid instances of the schema.
    static func samples() throws -> [String: (full: Data, minimal: Data)] {
        let output = try python(
            """
            import json, sys, yaml
            spec = yaml.safe_load(open(sys.argv[1]))

            def deref(node):
                while isinstance(node, dict) and "$ref" in node:
                    current = spec
                    for part in node["$ref"][2:].split("/"):
                        current = current[part.replace("~1", "/").replace("~0", "~")]
                    node = current
                return node

            def sample(schema, full):
                schema = deref(schema)
                if "allOf" in schema:
                    parts = [sample(part, full) for part in schema["allOf"]]
                    if not all(isinstance(part, dict) for part in parts):
                        return parts[0]
                    merged = {}
                    for part in parts:
                        merged.update(part)
                    return merged
                if "oneOf" in schema:
                    return sample(schema["oneOf"][0], full)
                if "enum" in schema:
                    return schema["enum"][-1 if full else 0]
                kind = schema.get("type")
                if kind == "object":
                    properties = schema.get("properties", {})
                    keys = list(properties) if full else schema.get("required", [])
                    out = {key: sample(properties[key], full) for key in keys}
                    extra = schema.get("additionalProperties")
                    if isinstance(extra, dict) and (full or not properties):
                        out["extra_key"] = sample(extra, full)
                    return out
                if kind == "array":
                    return [sample(schema["items"], full)] if full else []
                if kind == "string":
                    return "2025-11-21T14:40:00+08:00" if schema.get("format") == "date-time" else ("text" if full else "")
                if kind == "integer":
                    value = 1763700000000 if full else 0
                    return max(schema.get("minimum", value), min(schema.get("maximum", value), value))
                if kind == "number":
                    return 4.25 if full else 0
                if kind == "boolean":
                    return full
                raise ValueError("no sample for %r" % schema)

            out = {}
            for name, schema in spec["components"]["schemas"].items():
                resolved = deref(schema)
                if resolved.get("type") == "object" or "allOf" in resolved:
                    out[name] = {"full": sample(schema, True), "minimal": sample(schema, False)}
            print(json.dumps(out, ensure_ascii=False, sort_keys=True))
            """, arguments: [specPath])
        guard case .object(let schemas) = try JSONParser.parse(Array(output)) else {
            throw Failure(description: "samples: not an object")
        }
        var result: [String: (full: Data, minimal: Data)] = [:]
        for member in schemas {
            guard let full = member.value["full"], let minimal = member.value["minimal"] else { continue }
            result[member.key] = (Data(full.description.utf8), Data(minimal.description.utf8))
        }
        return result
    }

    /// The operations of the spec as `METHOD /path/{template}`.
    static func operations() throws -> Set<String> {
        let output = try python(
            """
            import sys, yaml
            spec = yaml.safe_load(open(sys.argv[1]))
            for path, item in spec["paths"].items():
                for method in item:
                    if method in ("get", "post", "put", "patch", "delete"):
                        print(method.upper() + " " + path)
            """, arguments: [specPath])
        return Set(String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    /// Checks each exchange against the operation `method template` of the spec: its status is
    /// documented, its content type is one the status documents, and a JSON body validates
    /// against the documented schema (JSON Schema 2020-12, formats checked). Returns one line
    /// per violation.
    static func violations(_ exchanges: [Exchange]) throws -> [String] {
        let input = try JSONEncoder().encode(exchanges)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("exchanges-\(UUID().uuidString).json").path
        try input.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try python(
            """
            import json, sys, yaml
            from jsonschema import Draft202012Validator
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
            spec = yaml.safe_load(open(sys.argv[1]))
            registry = Registry().with_resource("urn:spec", Resource(contents=spec, specification=DRAFT202012))

            def escape(part):
                return part.replace("~", "~0").replace("/", "~1")

            def resolve(node, pointer):
                while "$ref" in node:
                    pointer = node["$ref"][1:]
                    node = spec
                    for part in pointer[1:].split("/"):
                        node = node[part.replace("~1", "/").replace("~0", "~")]
                return node, pointer

            problems = []
            for x in json.load(open(sys.argv[2])):
                where = "%s %s → %d" % (x["method"], x["template"], x["status"])
                operation = spec["paths"].get(x["template"], {}).get(x["method"].lower())
                if operation is None:
                    problems.append(where + ": no such operation in the spec")
                    continue
                responses = operation["responses"]
                if str(x["status"]) not in responses:
                    problems.append(where + ": status not documented (%s)" % ", ".join(responses))
                    continue
                base = "/paths/%s/%s/responses/%d" % (escape(x["template"]), x["method"].lower(), x["status"])
                response, pointer = resolve(responses[str(x["status"])], base)
                content = response.get("content", {})
                media = (x.get("contentType") or "").split(";")[0].strip()
                if not content:
                    if x["body"]:
                        problems.append(where + ": a body where the spec has none")
                    continue
                if media not in content:
                    problems.append(where + ": content type %r not documented (%s)" % (media, ", ".join(content)))
                    continue
                if not media.endswith("json"):
                    continue
                try:
                    body = json.loads(x["body"])
                except ValueError as error:
                    problems.append(where + ": not JSON: %s" % error)
                    continue
                schema = {"$ref": "urn:spec#" + pointer + "/content/" + escape(media) + "/schema"}
                validator = Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
                for error in validator.iter_errors(body):
                    problems.append(where + ": " + error.message[:300] + " at /" + "/".join(str(p) for p in error.absolute_path))
            print(json.dumps(problems, ensure_ascii=False))
            """, arguments: [specPath, path])
        guard case .array(let lines) = try JSONParser.parse(Array(output)) else {
            throw Failure(description: "violations: not an array")
        }
        return lines.map { value in
            if case .string(let s) = value { return s }
            return value.description
        }
    }

    static func python(_ script: String, arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = SchemaValidator.pytools
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "python failed (run `make pytools`; SHENNONG_PYTOOLS=\(SchemaValidator.pytools)):\n"
                    + String(decoding: errors, as: UTF8.self))
        }
        return data
    }
}

/// One request and its answer, as the contract check reads it.
struct Exchange: Encodable, Sendable {
    var method: String
    /// The spec's path template (`/api/v1/devices/{id}`).
    var template: String
    var status: Int
    var contentType: String?
    var body: String
}

/// The exchanges of one test, checked against the spec at its end.
final class ExchangeLog: Sendable {
    private let exchanges = Mutex<[Exchange]>([])

    func append(_ exchange: Exchange) { exchanges.withLock { $0.append(exchange) } }

    var all: [Exchange] { exchanges.withLock { $0 } }

    /// `METHOD template` of every exchange.
    var operations: Set<String> { Set(all.map { "\($0.method) \($0.template)" }) }
}
