import Foundation
import ShennongCore

/// Loads the device profiles of a directory (`*.yaml`, one profile each).
public enum ProfileRegistry {
    /// Profiles by name. The built-in `generic` profile is always present (a file may replace it).
    /// Throws on the first file that does not parse (``DeviceProfileError``, naming the file and
    /// line), cannot be read, or names a profile another file already named (``ProfileRegistryError``).
    public static func load(directory: String) throws -> [String: DeviceProfile] {
        var profiles = [DeviceProfile.generic.name: DeviceProfile.generic]
        let url = URL(fileURLWithPath: directory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            return profiles
        }
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = url.appendingPathComponent(name).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let profile = try DeviceProfile.parse(yaml: text, sourceName: path)
            if let other = profiles[profile.name], profile.name != DeviceProfile.generic.name {
                throw ProfileRegistryError(
                    code: .duplicateName, path: path, message: "profile name \(other.name) is used twice")
            }
            profiles[profile.name] = profile
        }
        return profiles
    }
}

/// Why the profiles of a directory could not be loaded, beyond a single file's parse error.
public struct ProfileRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable for scripts and tests.
    public enum Code: String, Sendable, Hashable {
        /// Two files define a profile of the same name.
        case duplicateName = "duplicate_name"
    }

    /// What went wrong.
    public var code: Code
    /// The file at fault.
    public var path: String
    /// A sentence saying what is wrong, without the file.
    public var message: String

    /// An error about the file at `path`.
    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}
