import Foundation

/// A value behind an `NSLock`, for the few fields other threads read.
final class LockedBox<Value>: @unchecked Sendable {
    // Invariant: `value` is only touched inside `withLock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
