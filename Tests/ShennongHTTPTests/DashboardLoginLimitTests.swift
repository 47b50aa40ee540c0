import CoreMetrics
import Foundation
import HTTPTypes
import ShennongCore
import Synchronization
import Testing

@testable import ShennongHTTP

/// Failed dashboard logins are limited per client address: past the burst, 429 with
/// `Retry-After` and a Chinese message, counted in a metric.
struct DashboardLoginLimitTests {
    /// A counter the test reads.
    final class CountingHandler: CounterHandler, Sendable {
        let count = Mutex<Int64>(0)
        func increment(by amount: Int64) { count.withLock { $0 += amount } }
        func reset() { count.withLock { $0 = 0 } }
        var value: Int64 { count.withLock { $0 } }
    }

    @Test("three failed logins from one address, then 429 with Retry-After and 登录失败次数过多 even for a good token, counted")
    func tooManyFailures() async throws {
        let fixture = try RouteFixture()
        let counted = CountingHandler()
        // One failure back every 4 minutes: the steps below stay inside it even when the whole
        // parallel suite slows this test to minutes on 2 cores (at 1 a minute it refilled mid-test).
        let throttle = LoginThrottle(
            limit: LoginRateLimit(burst: 3, perMinute: 0.25), refused: Counter(label: "test_login_throttled", dimensions: [], handler: counted))
        let form = "application/x-www-form-urlencoded"
        try await fixture.test(loginThrottle: throttle) { api in
            // A good login costs nothing.
            #expect(try await api.call(.post, "/dashboard/login", raw: "token=\(fixture.viewer)", contentType: form).status == .seeOther)
            for _ in 0..<3 {
                #expect(try await api.call(.post, "/dashboard/login", raw: "token=snk_guess", contentType: form).status == .unauthorized)
            }
            let refused = try await api.call(.post, "/dashboard/login", raw: "token=snk_guess", contentType: form)
            #expect(refused.status == .tooManyRequests)
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...240).contains(retryAfter), "\(retryAfter)")
            #expect(refused.text.contains("登录失败次数过多，请 \(retryAfter) 秒后再试"), "\(refused.text)")
            #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
            // Refused before the token is looked at: a good token is refused too, no session.
            let good = try await api.call(.post, "/dashboard/login", raw: "token=\(fixture.viewer)", contentType: form)
            #expect(good.status == .tooManyRequests && good.headers[.setCookie] == nil)
        }
        #expect(counted.value == 2)
    }

    @Test("the limit is per address, failures come back with time, and burst 0 turns it off")
    func perAddress() {
        let throttle = LoginThrottle(limit: LoginRateLimit(burst: 2, perMinute: 2))
        let t: Int64 = 1_000_000
        #expect(throttle.refusal("10.0.0.1", now: t) == nil)
        throttle.failed("10.0.0.1", now: t)
        throttle.failed("10.0.0.1", now: t)
        #expect(throttle.refusal("10.0.0.1", now: t) == 30, "one failure back in 30 s at 2 a minute")
        #expect(throttle.refusal("10.0.0.2", now: t) == nil, "another address is not affected")
        #expect(throttle.refusal("10.0.0.1", now: t + 20_000) == 10)
        #expect(throttle.refusal("10.0.0.1", now: t + 31_000) == nil)
        let off = LoginThrottle(limit: LoginRateLimit(burst: 0, perMinute: 0))
        for _ in 0..<100 { off.failed("10.0.0.1", now: t) }
        #expect(off.refusal("10.0.0.1", now: t) == nil)
    }
}
