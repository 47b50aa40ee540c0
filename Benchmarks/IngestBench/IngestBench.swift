import Foundation
import MosquittoClient
import ShennongTestSupport

/// `make bench`: how fast Shennong drains a broker's backlog, beside a bare libmosquitto
/// subscriber on the same backlog (the ceiling), and the highest publish rate it holds.
///
/// Shennong drains the backlog twice in the same run: with every rule preset in force
/// (`--rules DIR`, default ./Config/rules) and with the rules stage off; then the same two
/// drains into the PostgreSQL engine (a server the benchmark starts: initdb in a temporary
/// directory, loopback, durable commits as SQLite's), reported as ratios to SQLite's rates
/// (`--no-postgres` skips them).
///
/// Usage: IngestBench --shennong PATH [--messages 200000] [--devices 1000] [--rules DIR]
///        [--rates 2000,5000,10000,20000] [--rate-seconds 60] [--skip-rate] [--no-postgres]
///        [--cases rules,norules,pg-rules,pg-norules] (one or some drains alone, no ratios)
///        [--county | --county-only] [--county-devices 5000] [--county-messages 20]
///        [--county-cases rules,late,norules,python] [--county-repeat N] [--python-peer FILE] [--python-path DIR]
/// Exits non-zero if Shennong stored fewer or more readings than were published.
@main
struct IngestBench {
    struct Options {
        var shennong = ""
        var messages = 200_000
        var devices = 1_000
        var rates = [2_000, 5_000, 10_000, 20_000]
        var rateSeconds = 60
        var skipRate = false
        /// Also drain into the PostgreSQL engine (after SQLite), in the same run.
        var postgres = true
        /// The rule presets in force for the first Shennong run (the second runs without rules).
        /// Only these drains: rules, norules (both by default); pg-rules, pg-norules (PostgreSQL).
        var cases: Set<String> = ["rules", "norules"]
        /// A command the timed Shennong runs under, e.g. `valgrind --tool=callgrind` (profiling only).
        var wrapper: [String] = []
        var rulesDirectory: String? = FileManager.default.currentDirectoryPath + "/Config/rules"
        /// The county case (``countyCase(_:county:broker:)``): run after the drains, or alone.
        var county = false
        var countyOnly = false
        var countyOptions = CountyOptions()

        init(_ arguments: [String]) throws {
            var i = 0
            func value() throws -> String {
                i += 1
                guard i < arguments.count else { throw BenchError("\(arguments[i - 1]) needs a value") }
                return arguments[i]
            }
            while i < arguments.count {
                switch arguments[i] {
                case "--shennong": shennong = try value()
                case "--messages": messages = Int(try value()) ?? messages
                case "--devices": devices = Int(try value()) ?? devices
                case "--rates": rates = try value().split(separator: ",").compactMap { Int($0) }
                case "--rate-seconds": rateSeconds = Int(try value()) ?? rateSeconds
                case "--skip-rate": skipRate = true
                case "--no-postgres": postgres = false
                case "--cases": cases = Set(try value().split(separator: ",").map(String.init))
                case "--wrap": wrapper = try value().split(separator: " ").map(String.init)
                case "--rules": rulesDirectory = URL(fileURLWithPath: try value()).path
                case "--county": county = true
                case "--county-only": county = true; countyOnly = true
                case "--county-devices": countyOptions.devices = Int(try value()) ?? countyOptions.devices
                case "--county-messages": countyOptions.perDevice = Int(try value()) ?? countyOptions.perDevice
                case "--county-cases": countyOptions.cases = Set(try value().split(separator: ",").map(String.init))
                case "--county-repeat": countyOptions.repeats = max(1, Int(try value()) ?? 1)
                case "--python-peer": countyOptions.pythonScript = URL(fileURLWithPath: try value()).path
                case "--python-path": countyOptions.pythonPath = URL(fileURLWithPath: try value()).path
                default: throw BenchError("unknown argument \(arguments[i])")
                }
                i += 1
            }
            guard !shennong.isEmpty else { throw BenchError("--shennong PATH is required") }
        }
    }

    static let valuesPerMessage = 4

    /// Payload form 1 with four values; (device, ts) is unique per message.
    static func backlog(count: Int, devices: Int, startTS: Int64) -> [(String, [UInt8])] {
        (0..<count).map { i in
            let device = String(format: "bench-%04d", i % devices)
            let ts = startTS + Int64(i / devices) * 1000
            let v = Double(i % 1000) / 100
            let payload = "{\"ts\":\(ts),\"values\":{\"water_temp\":\(20 + v),\"ph\":\(6.5 + v / 10),\"dissolved_oxygen\":\(4 + v / 2),\"turbidity\":\(10 + v)}}"
            return ("agri/\(device)/telemetry", Array(payload.utf8))
        }
    }

    static func publish(_ messages: ArraySlice<(String, [UInt8])>, port: Int) throws {
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: port, clientID: "bench-pub-\(getpid())", cleanSession: true, maxInflight: 1000),
            maxUnacknowledged: 5000)
        try publisher.connect()
        defer { publisher.disconnect() }
        for (topic, payload) in messages { try publisher.publish(topic: topic, payload: payload, qos: 1) }
        guard publisher.waitUntilAcknowledged(timeout: .seconds(300)) else { throw BenchError("publisher: PUBACKs missing") }
    }

    static func main() async {
        do {
            try await run(try Options(Array(CommandLine.arguments.dropFirst())))
        } catch {
            FileHandle.standardError.write(Data("IngestBench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: Options) async throws {
        // The in-flight window Config/mosquitto.conf recommends (two bursts of ingest.max_batch);
        // the bare subscriber and the Python peer drain through the same broker.
        let broker = try TestBroker(persistence: false, extraConfiguration: ["max_inflight_messages 40000"])
        if options.countyOnly {
            try await countyCase(options, county: options.countyOptions, broker: broker)
            return
        }
        let messages = backlog(count: options.messages, devices: options.devices, startTS: 1_763_700_000_000)
        print("ingest benchmark (ack after commit): \(options.messages) QoS 1 messages x \(valuesPerMessage) values, \(options.devices) devices, payload form 1, backlog queued for a persistent session on mosquitto (loopback)")

        // The ceiling.
        let bare = BareSubscriber(port: broker.port, clientID: "bench-bare")
        try bare.createSession(topic: "agri/+/telemetry")
        try publish(messages[...], port: broker.port)
        let bareSeconds = try bare.drain(topic: "agri/+/telemetry", count: options.messages, timeout: 600)
        let bareRate = Double(options.messages) / bareSeconds

        // Shennong twice on the same backlog: every rule preset in force, then no rules.
        let expected = options.messages * valuesPerMessage
        guard options.cases == ["rules", "norules"] else {
            // Profiling one case (no ratios printed); pg-rules and pg-norules drain into PostgreSQL.
            var postgresServer: TestPostgres?
            defer { postgresServer?.stop() }
            for label in options.cases.sorted() {
                var postgres: (url: String, countReadings: () throws -> Int)?
                if label.hasPrefix("pg-") {
                    let server = try postgresServer ?? TestPostgres(durable: true)
                    postgresServer = server
                    postgres = try postgresDatabase(server)
                }
                let run = try await drain(
                    messages, options: options, broker: broker, label: label,
                    rulesDirectory: label.hasSuffix("-rules") || label == "rules" ? options.rulesDirectory : nil,
                    postgres: postgres)
                print("  \(label): \(run.seconds) s, \(run.rate) msg/s, CPU \(run.cpuSeconds) s, mean batch \(run.meanBatch), stored \(run.stored) of \(expected)")
            }
            return
        }
        let withRules = try await drain(messages, options: options, broker: broker, label: "rules", rulesDirectory: options.rulesDirectory)
        let noRules = try await drain(messages, options: options, broker: broker, label: "norules", rulesDirectory: nil)

        func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }
        print("  bare libmosquitto subscriber (ceiling): \(f(bareSeconds, 2)) s, \(f(bareRate)) msg/s")
        for (name, run) in [("every rule preset", withRules), ("no rules", noRules)] {
            print("  shennong, \(name):".padding(toLength: 41, withPad: " ", startingAt: 0)
                + "\(f(run.seconds, 2)) s, \(f(run.rate)) msg/s, ratio to bare \(f(run.rate / bareRate, 2))")
            print("    CPU \(f(run.cpuSeconds, 2)) s (\(f(run.cpuSeconds * 1e6 / Double(options.messages), 1)) µs per message); peak RSS \(f(Double(run.rss) / 1_048_576, 1)) MiB; commits \(f(run.commits)) (\(f(run.commits / run.seconds)) /s), mean batch \(f(run.meanBatch, 1)) messages; rules loaded \(run.rulesLoaded), readings evaluated by rules \(f(run.ruleEvaluations)); stored \(run.stored) of \(expected)")
        }
        print("  ratio shennong / bare subscriber:       \(f(withRules.rate / bareRate, 2)) (every rule preset)")
        print("  ratio every preset / no rules:          \(f(withRules.rate / noRules.rate, 2))")
        print("  shennong peak RSS:                      \(f(Double(max(withRules.rss, noRules.rss)) / 1_048_576, 1)) MiB")
        print("  stored readings:                        \(withRules.stored) of \(expected) published")
        for run in [withRules, noRules] where run.stored != expected {
            throw BenchError("\(run.label): stored \(run.stored) readings, published \(expected): the benchmark lost or duplicated work")
        }
        guard options.rulesDirectory == nil || withRules.rulesLoaded > 0 else {
            throw BenchError("no rules loaded from \(options.rulesDirectory ?? "")")
        }

        if options.postgres {
            try await postgresCase(messages, options: options, broker: broker, sqlite: (withRules, noRules))
        }
        if options.county {
            try await countyCase(options, county: options.countyOptions, broker: broker)
        }
        if !options.skipRate {
            try await rateCase(options, broker: broker)
        }
        print("ok: \(options.messages) messages published, \(expected) readings stored")
    }

    /// One timed drain: a Shennong session created, the backlog queued for it while it is
    /// down, then Shennong started and timed until every reading is committed.
    struct DrainResult {
        var label: String
        var seconds: Double
        var rate: Double
        var rss: Int
        /// The server's CPU time (user + system) from its start to the last commit.
        var cpuSeconds: Double
        var commits: Double
        var meanBatch: Double
        var rulesLoaded: Int
        var ruleEvaluations: Double
        var stored: Int
    }

    static func drain(
        _ messages: [(String, [UInt8])], options: Options, broker: TestBroker, label: String, rulesDirectory: String?,
        postgres: (url: String, countReadings: () throws -> Int)? = nil
    ) async throws -> DrainResult {
        let server = try ShennongUnderTest(
            binary: options.shennong, brokerPort: broker.port, clientID: "shennong-bench-\(label)", rulesDirectory: rulesDirectory,
            postgres: postgres)
        try await server.start()
        try await server.waitConnected()
        let rulesLoaded = try await server.rulesLoaded()
        guard server.stop() == 0 else { throw BenchError("shennong did not stop cleanly: \(server.log())") }
        try publish(messages[...], port: broker.port)
        let expected = Double(messages.count * valuesPerMessage)
        let start = DispatchTime.now().uptimeNanoseconds
        try await server.start(wrapper: options.wrapper)
        var metrics: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(900)
        while Date() < deadline {
            metrics = (try? await server.metrics()) ?? metrics
            if (metrics["shennong_readings_stored_total"] ?? 0) + (metrics["shennong_readings_duplicate_total"] ?? 0) >= expected { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rss = server.peakRSS()
        let cpu = server.cpuSeconds()
        guard server.stop() == 0 else { throw BenchError("shennong did not stop cleanly: \(server.log())") }
        let batchSum = metrics["shennong_batch_messages_sum"] ?? 0
        let batchCount = metrics["shennong_batch_messages_count"] ?? 0
        return DrainResult(
            label: label, seconds: seconds, rate: Double(messages.count) / seconds, rss: rss, cpuSeconds: cpu,
            commits: metrics["shennong_commits_total"] ?? 0, meanBatch: batchCount > 0 ? batchSum / batchCount : 0,
            rulesLoaded: rulesLoaded, ruleEvaluations: metrics["shennong_rules_readings_evaluated_total"] ?? 0,
            stored: try server.storedReadings())
    }

    /// The same backlog drained into the PostgreSQL engine, with every preset and without
    /// rules, beside SQLite's rates of this run. The server is durable like the SQLite engine
    /// (fsync and synchronous commit on): a reading acknowledged is on disk in both.
    static func postgresCase(
        _ messages: [(String, [UInt8])], options: Options, broker: TestBroker, sqlite: (rules: DrainResult, noRules: DrainResult)
    ) async throws {
        let server = try TestPostgres(durable: true)
        defer { server.stop() }
        func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }
        var results: [DrainResult] = []
        for (label, rules) in [("pg-rules", options.rulesDirectory), ("pg-norules", nil)] {
            results.append(
                try await drain(
                    messages, options: options, broker: broker, label: label, rulesDirectory: rules,
                    postgres: try postgresDatabase(server)))
        }
        let expected = messages.count * valuesPerMessage
        print("  PostgreSQL engine (postgres \(server.version), loopback, durable commits), same backlog:")
        for (name, run, base) in [("every rule preset", results[0], sqlite.rules), ("no rules", results[1], sqlite.noRules)] {
            print("  postgres, \(name):".padding(toLength: 41, withPad: " ", startingAt: 0)
                + "\(f(run.seconds, 2)) s, \(f(run.rate)) msg/s, ratio to SQLite \(f(run.rate / base.rate, 2)) (target >= 0.5)")
            print("    CPU \(f(run.cpuSeconds, 2)) s; peak RSS \(f(Double(run.rss) / 1_048_576, 1)) MiB; commits \(f(run.commits)), mean batch \(f(run.meanBatch, 1)) messages; stored \(run.stored) of \(expected)")
        }
        for run in results where run.stored != expected {
            throw BenchError("\(run.label): stored \(run.stored) readings, published \(expected): the benchmark lost or duplicated work")
        }
    }

    /// A fresh database on `server` and how to count the readings stored in it.
    static func postgresDatabase(_ server: TestPostgres) throws -> (url: String, countReadings: () throws -> Int) {
        let url = try server.createDatabase()
        let name = String(url.split(separator: "/").last!)
        return (url, {
            let text = try server.run(
                "psql",
                ["-d", name, "-X", "-q", "-A", "-t", "-c", "SELECT (SELECT count(*) FROM raw) + (SELECT coalesce(sum(count), 0) FROM blk)"])
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        })
    }

    /// Publisher and Shennong together at fixed rates; the highest rate held for the whole
    /// window with the backlog (published minus committed) under one second of messages.
    static func rateCase(_ options: Options, broker: TestBroker) async throws {
        let server = try ShennongUnderTest(
            binary: options.shennong, brokerPort: broker.port, clientID: "shennong-bench-rate", rulesDirectory: options.rulesDirectory)
        try await server.start()
        try await server.waitConnected()
        defer { _ = server.stop() }
        let publisher = try MQTTPublisher(
            configuration: MQTTConfiguration(port: broker.port, clientID: "bench-rate-pub", cleanSession: true, maxInflight: 1000),
            maxUnacknowledged: 5000)
        try publisher.connect()
        defer { publisher.disconnect() }
        print("rate case (every rule preset): \(options.rateSeconds) s per rate")
        var best = 0
        var sequence = 0
        for rate in options.rates {
            let window = Duration.seconds(options.rateSeconds)
            let clock = ContinuousClock()
            let start = clock.now
            let startCount = sequence
            while clock.now - start < window {
                let elapsed = clock.now - start
                let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let due = Int(Double(rate) * elapsedSeconds)
                while sequence - startCount < due {
                    let device = String(format: "rate-%04d", sequence % options.devices)
                    let ts = 1_764_000_000_000 + Int64(sequence / options.devices) * 1000
                    let payload = "{\"ts\":\(ts),\"values\":{\"water_temp\":21.5,\"ph\":7.1,\"dissolved_oxygen\":5.5,\"turbidity\":12}}"
                    try publisher.publish(topic: "agri/\(device)/telemetry", payload: Array(payload.utf8), qos: 1)
                    sequence += 1
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            let published = Double(sequence)
            let received = (try await server.metrics())["shennong_messages_received_total"] ?? 0
            let backlog = published - received
            let achieved = Double(sequence - startCount) / Double(options.rateSeconds)
            let held = backlog <= Double(rate) && achieved >= 0.95 * Double(rate)
            print("  \(rate) msg/s: published \(sequence - startCount), backlog at the end \(Int(max(0, backlog))) messages -> \(held ? "held" : "not held")")
            // Let Shennong catch up before the next rate.
            for _ in 0..<600 {
                let now = (try await server.metrics())["shennong_messages_received_total"] ?? 0
                if now >= published { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            guard held else { break }
            best = rate
        }
        print("  highest rate held for \(options.rateSeconds) s without the broker's queue growing: \(best) msg/s")
    }
}
