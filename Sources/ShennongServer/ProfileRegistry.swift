import Foundation
import ShennongCore

/// Loads the device profiles of a directory (`*.yaml`, one profile each).
public enum ProfileRegistry {
    /// Profiles by name. The built-in `generic` profile is always present (a file may replace it).
    /// Throws on the first file that does not parse, naming the file and line.
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
                throw ConfigError("\(path): profile name \(other.name) is used twice")
            }
            profiles[profile.name] = profile
        }
        return profiles
    }
}
