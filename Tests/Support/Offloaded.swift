import Foundation

/// Runs blocking `body` (a child process waited for, a synchronous publish) on a thread of its
/// own, so that it does not hold one of the few threads Swift concurrency shares among tests
/// running in parallel (on two cores, two tests waiting on CLI runs starve every other test).
public func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
