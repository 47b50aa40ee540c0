import Foundation

/// The one clock of Shennong: wall time in epoch milliseconds.
///
/// Whatever reads the time takes a `WallClock` (``system`` by default) instead of calling
/// `Date()`, so a test can pass a fixed or stepping clock and see exactly what a given time
/// does. Readings carry their own timestamps; this clock is for receive times, ages, timers
/// and expiries.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock that answers `read()`.
    public init(_ read: @escaping @Sendable () -> Int64) {
        self.read = read
    }

    /// Now, in milliseconds since the epoch.
    public func now() -> Int64 { read() }

    /// Now, in seconds since the epoch (with the milliseconds).
    public func nowSeconds() -> Double { Double(read()) / 1000 }

    /// The system's wall clock.
    public static let system = WallClock { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// A clock that always answers `millis`.
    public static func fixed(_ millis: Int64) -> WallClock { WallClock { millis } }
}
