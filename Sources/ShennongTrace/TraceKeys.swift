import ShennongCore
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's trace secrets on disk: the HMAC secret of the codes and the Ed25519 key that
/// seals batches. Each is 32 random bytes, base64 on one line, in a file created with mode
/// 0600 on first start. Neither ever leaves the server; back them up with the database.
public enum TraceKeys {
    /// The 32 bytes in `path`, creating the file (mode 0600, parent directories as needed)
    /// with fresh bytes from the system CSPRNG if it does not exist.
    public static func loadOrCreate(path: String) throws -> [UInt8] {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw TraceError(.invalidArgument, "\(path) does not hold 32 base64 bytes")
            }
            return Array(data)
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let line = Data(bytes).base64EncodedString() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            // Another process created it first: read theirs.
            if errno == EEXIST { return try loadOrCreate(path: path) }
            throw TraceError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = line.withCString { write(fd, $0, strlen($0)) }
        guard written == line.utf8.count, fsync(fd) == 0 else {
            throw TraceError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return bytes
    }

    /// The public key as PEM (SubjectPublicKeyInfo, RFC 8410), as served at
    /// `/.well-known/shennong-trace-key`.
    public static func pem(_ key: Curve25519.Signing.PublicKey) -> String {
        // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING { key } }
        let der: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00] + key.rawRepresentation
        return "-----BEGIN PUBLIC KEY-----\n" + Data(der).base64EncodedString() + "\n-----END PUBLIC KEY-----\n"
    }
}
