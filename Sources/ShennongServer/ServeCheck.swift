import Foundation
import ShennongCore
import ShennongIngest
import ShennongPostgres
import ShennongRules
import Yams

/// `shennong serve --check`: validates what `serve` would load — the configuration, every
/// device profile and every rule file, the files the configuration names — without opening
/// the database or connecting to the broker. Each problem is one line `file:line: message`
/// (the line when known).
public enum ServeCheck {
    /// The outcome: every problem found, and a summary of what was checked.
    public struct Report: Sendable {
        public var errors: [String] = []
        public var checked: [String] = []
        public var isValid: Bool { errors.isEmpty }
    }

    /// Checks the configuration at `configPath` (`requireFile`: a missing file is an error).
    public static func run(configPath: String, requireFile: Bool) -> Report {
        var report = Report()
        var config = ServerConfig()
        if FileManager.default.fileExists(atPath: configPath) {
            do {
                let text = try String(contentsOfFile: configPath, encoding: .utf8)
                if let parsed = parseConfig(text, source: configPath, into: &report) { config = parsed }
            } catch {
                report.errors.append("\(configPath): cannot read: \(error)")
            }
            report.checked.append("config \(configPath)")
        } else if requireFile {
            report.errors.append("\(configPath): the configuration file does not exist")
        } else {
            report.checked.append("config: defaults (no \(configPath))")
        }
        checkProfiles(config, into: &report)
        checkRules(config, into: &report)
        checkFiles(config, into: &report)
        checkMaps(config, into: &report)
        return report
    }

    /// Decodes the configuration, turning a YAML or decoding error into `file:line: message`.
    static func parseConfig(_ text: String, source: String, into report: inout Report) -> ServerConfig? {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return ServerConfig() }
        func yaml(_ error: YamlError) {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                report.errors.append("\(source):\(mark.line): YAML: \(problem)")
            default:
                report.errors.append("\(source): YAML: \(error)")
            }
        }
        do {
            return try YAMLDecoder().decode(ServerConfig.self, from: text)
        } catch let error as YamlError {
            yaml(error)
        } catch DecodingError.dataCorrupted(let context) where context.underlyingError is YamlError {
            yaml(context.underlyingError as! YamlError)
        } catch let error as DecodingError {
            let keys: [any CodingKey]
            switch error {
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): keys = c.codingPath
            case .keyNotFound(_, let c): keys = c.codingPath
            @unknown default: keys = []
            }
            let line = line(of: keys.map(\.stringValue), in: text)
            report.errors.append("\(source)\(line.map { ":\($0)" } ?? ""): \(ConfigError.describe(error))")
        } catch {
            report.errors.append("\(source): \(error)")
        }
        return nil
    }

    /// The 1-based line of the key path `path` (mapping keys, outermost first) in block YAML.
    static func line(of path: [String], in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var from = 0
        var indent = -1
        var found: Int?
        for key in path where Int(key) == nil {
            var hit: Int?
            for i in from..<lines.count {
                let line = lines[i]
                let trimmed = line.drop(while: { $0 == " " })
                let depth = line.count - trimmed.count
                if !trimmed.isEmpty, !trimmed.hasPrefix("#"), depth <= indent { break }
                if depth > indent, trimmed.hasPrefix(key + ":") || trimmed.hasPrefix("\"\(key)\":") {
                    hit = i
                    indent = depth
                    break
                }
            }
            guard let hit else { break }
            found = hit + 1
            from = hit + 1
        }
        return found
    }

    static func checkProfiles(_ config: ServerConfig, into report: inout Report) {
        let directory = config.profilesDir
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            report.errors.append("\(directory): profiles_dir does not exist or cannot be read")
            return
        }
        var found: [String: String] = [DeviceProfile.generic.name: "built-in"]
        var count = 0
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                let profile = try DeviceProfile.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), sourceName: path)
                if let other = found[profile.name], profile.name != DeviceProfile.generic.name {
                    report.errors.append("\(path): profile name \(profile.name) is already used by \(other)")
                }
                found[profile.name] = path
                count += 1
            } catch let error as DeviceProfileError {
                report.errors.append(error.description)
            } catch {
                report.errors.append("\(path): \(error)")
            }
        }
        if found[config.ingest.defaultProfile] == nil {
            report.errors.append("ingest.default_profile \(config.ingest.defaultProfile) is not a profile in \(directory)")
        }
        report.checked.append("\(count) device profiles in \(directory)")
    }

    static func checkRules(_ config: ServerConfig, into report: inout Report) {
        guard config.rules.enabled else {
            report.checked.append("rules disabled")
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: config.rules.directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            report.errors.append("\(config.rules.directory): rules.directory does not exist")
            return
        }
        let (rules, errors) = RuleLoader.load(directory: config.rules.directory)
        report.errors += errors.map(\.description)
        // Rule actions against the profiles' commands (自动控制).
        if let profiles = try? ProfileRegistry.load(directory: config.profilesDir) {
            for rule in rules { report.errors += rule.checkActions(profiles: profiles).map { "\(rule.file):\(rule.line): \($0)" } }
        }
        report.checked.append("\(rules.count) rules in \(config.rules.directory)")
    }

    /// Files the configuration names: TLS material, the database (if it exists, it must be SQLite).
    static func checkFiles(_ config: ServerConfig, into report: inout Report) {
        if let tls = config.mqtt.tls, !config.mqtt.isEmbedded {
            for (key, file) in [("mqtt.tls.ca_file", tls.caFile), ("mqtt.tls.cert_file", tls.certFile), ("mqtt.tls.key_file", tls.keyFile)] {
                guard let file else { continue }
                if !FileManager.default.isReadableFile(atPath: file) {
                    report.errors.append("\(key): \(file) does not exist or cannot be read")
                }
            }
            report.checked.append("TLS files")
        }
        if let url = config.database.url, !url.isEmpty {
            // The PostgreSQL engine: the URL must parse and a password file must be readable.
            do {
                report.checked.append("database \(try PostgresSettings(url: url).location)")
            } catch {
                report.errors.append("database.url: \(error)")
            }
            if let file = config.database.passwordFile, !FileManager.default.isReadableFile(atPath: file) {
                report.errors.append("database.password_file: \(file) does not exist or cannot be read")
            }
            return
        }
        let path = config.database.path
        if FileManager.default.fileExists(atPath: path) {
            let header = FileHandle(forReadingAtPath: path).map { handle in
                defer { try? handle.close() }
                return (try? handle.read(upToCount: 16)) ?? Data()
            } ?? Data()
            if header.count > 0 && header != Data("SQLite format 3\0".utf8) {
                report.errors.append("database.path: \(path) is not a SQLite database")
            } else {
                report.checked.append("database \(path)")
            }
        } else {
            report.checked.append("database \(path) (created on first start)")
        }
    }
}
