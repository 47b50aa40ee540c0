import CMosquitto

/// Process-wide libmosquitto setup.
///
/// `mosquitto_lib_init` must run once per process before any client is created. Every client in
/// this module calls ``initialize()`` itself, so callers only need it when they use libmosquitto
/// some other way. Note that `mosquitto_new` sets `SIGPIPE` to `SIG_IGN` for the whole process
/// (libmosquitto writes to sockets with `write(2)`), which is what a server wants anyway.
public enum MosquittoLibrary {
    /// `static let` initialisation runs exactly once, guarded by the runtime (swift_once).
    private static let initResult: Int32 = mosquitto_lib_init()

    /// Initialises libmosquitto exactly once per process; thread-safe and idempotent.
    public static func initialize() {
        _ = initResult
    }

    /// The libmosquitto version linked at run time, for example `"2.0.11"`.
    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var revision: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
