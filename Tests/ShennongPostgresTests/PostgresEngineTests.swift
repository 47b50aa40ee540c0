import Foundation
import ShennongCore
import ShennongPostgres
import ShennongTestSupport
import Testing

/// What is particular to the PostgreSQL engine (the shared behaviour is in StoreContractTests):
/// buckets are real partitions of one parent, retention detaches and drops exactly the
/// partitions its dry run lists, a foreign database is refused, nodes share one database.
@Suite("PostgreSQL engine")
struct PostgresEngineTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_763_683_200_000  // 2025-11-21T00:00:00Z

    /// A fresh database on the suite's server: its URL and its name.
    static func database() throws -> (url: String, name: String, server: TestPostgres) {
        let server = try TestPostgres.shared()
        let url = try server.createDatabase()
        return (url, String(url.split(separator: "/").last!), server)
    }

    /// Runs `sql` with psql in database `name`; rows as lines, columns separated by `|`.
    static func psql(_ server: TestPostgres, _ name: String, _ sql: String) throws -> [String] {
        try server.run("psql", ["-d", name, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .split(separator: "\n").map(String.init)
    }

    static func partitions(_ server: TestPostgres, _ name: String, of parent: String) throws -> [String] {
        try psql(
            server, name,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '\(parent)'::regclass ORDER BY 1"
        )
    }

    static func threeDays() -> IngestBatch {
        var batch = IngestBatch()
        batch.newDevices = [Device(id: "p1", profile: "generic", domain: .water, createdAt: 1)]
        for i in 0..<(3 * 96) {
            batch.readings.append(Reading(device: "p1", metric: "ph", timestamp: t0 + Int64(i) * 900_000, value: 7 + Double(i % 7) / 10))
        }
        return batch
    }

    @Test("buckets are range partitions of raw; compaction moves them into blk partitions and drops the raw ones")
    func partitionsFollowBuckets() throws {
        let (url, name, server) = try Self.database()
        let store = try PostgresStore(url: url)
        try store.commit(Self.threeDays())
        #expect(try Self.partitions(server, name, of: "raw") == ["raw_20251121", "raw_20251122", "raw_20251123"])
        #expect(try Self.psql(server, name, "SELECT count(*) FROM raw_20251122") == ["96"])
        try store.compact(now: Self.t0 + 10 * Self.day, shouldContinue: { true })
        #expect(try Self.partitions(server, name, of: "raw").isEmpty)
        #expect(try Self.partitions(server, name, of: "blk") == ["blk_20251121", "blk_20251122", "blk_20251123"])
        #expect(try Self.partitions(server, name, of: "m1").count == 3)
        #expect(try store.readings(device: "p1", from: Self.t0, to: Self.t0 + 3 * Self.day).count == 3 * 96)
    }

    @Test("readings newer than latest go in with a plain insert; if latest was set back behind the doors, a stored one is still a duplicate")
    func freshReadingsBehindLatest() throws {
        let (url, name, server) = try Self.database()
        let store = try PostgresStore(url: url)
        try store.commit(Self.threeDays())
        let newest = Self.t0 + (3 * 96 - 1) * 900_000
        // Someone sets latest back: the stored readings after it now look new.
        _ = try Self.psql(server, name, "UPDATE latest SET ts = \(Self.t0), value = 0")
        var batch = IngestBatch()
        batch.readings = [
            Reading(device: "p1", metric: "ph", timestamp: newest, value: 1),  // stored
            Reading(device: "p1", metric: "ph", timestamp: newest + 900_000, value: 7.5),  // new
        ]
        let result = try store.commit(batch)
        #expect(result.inserted == 1 && result.duplicates == 1)
        let stored = try store.readings(device: "p1", metric: "ph", from: newest, to: .max)
        #expect(stored.map(\.value) == [7 + Double((3 * 96 - 1) % 7) / 10, 7.5])
        #expect(try store.latest(device: "p1").first?.timestamp == newest + 900_000)
        #expect(try store.aggregates(device: "p1", metric: "ph", from: Self.t0, to: Self.t0 + 4 * Self.day, every: Self.day).map(\.count)
            == [96, 96, 96, 1])
    }

    @Test("retention detaches and drops exactly the partitions its dry run lists")
    func retentionDropsPartitions() throws {
        let (url, name, server) = try Self.database()
        var options = StoreOptions()
        options.retention.raw = 2 * Self.day
        options.retention.minute = 2 * Self.day
        let store = try PostgresStore(url: url, options: options)
        try store.commit(Self.threeDays())
        let now = Self.t0 + 4 * Self.day + 3_600_000
        try store.compact(now: now, shouldContinue: { true })
        let before = Set(try ["raw", "blk", "m1", "h1"].flatMap { try Self.partitions(server, name, of: $0) })
        let planned = try store.retention(now: now, dryRun: true)
        let listed = Set(planned.items.filter { $0.bucketStart != nil }.flatMap(\.tables))
        #expect(listed == ["blk_20251121", "blk_20251122", "m1_20251121", "m1_20251122"])
        #expect(Set(try ["raw", "blk", "m1", "h1"].flatMap { try Self.partitions(server, name, of: $0) }) == before)
        try store.retention(now: now, dryRun: false)
        let after = Set(try ["raw", "blk", "m1", "h1"].flatMap { try Self.partitions(server, name, of: $0) })
        #expect(after == before.subtracting(listed))
        // Gone from the catalogue, not just detached.
        #expect(try Self.psql(server, name, "SELECT count(*) FROM pg_class WHERE relname IN ('blk_20251121', 'm1_20251122')") == ["0"])
    }

    @Test("a database holding someone else's tables is refused untouched")
    func foreignDatabase() throws {
        let (url, name, server) = try Self.database()
        _ = try Self.psql(server, name, "CREATE TABLE invoices (id int)")
        let error = #expect(throws: StoreError.self) { try PostgresStore(url: url) }
        #expect(error?.code == .foreignDatabase)
        #expect(try Self.psql(server, name, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == ["1"])
    }

    @Test("two nodes on one database: migrations run once, each sees what the other committed")
    func twoNodes() throws {
        let (url, _, _) = try Self.database()
        let a = try PostgresStore(url: url)
        let b = try PostgresStore(url: url)
        #expect(try a.appliedMigrations() == PostgresStore.migrationNames)
        #expect(try b.appliedMigrations() == PostgresStore.migrationNames)
        try a.commit(Self.threeDays())
        #expect(try b.latest(device: "p1").first?.timestamp == Self.t0 + (3 * 96 - 1) * 900_000)
        // The same burst again through the other node: every reading a duplicate.
        let again = try b.commit(Self.threeDays())
        #expect(again.inserted == 0 && again.duplicates == 3 * 96)
    }

    @Test("an unreachable server is an io error naming the URL without the password")
    func unreachable() throws {
        let port = freeLoopbackPort()
        let error = #expect(throws: StoreError.self) {
            try PostgresStore(settings: PostgresSettings(url: "postgres://shennong@127.0.0.1:\(port)/x", password: "s3cret"))
        }
        #expect(error?.code == .io)
        #expect(!(error.map { "\($0)" } ?? "").contains("s3cret"))
    }
}

@Suite("PostgreSQL settings")
struct PostgresSettingsTests {
    @Test("a URL with user, host, port, database and sslmode; the location never shows the password")
    func parse() throws {
        let s = try PostgresSettings(url: "postgres://shennong:hunter2@db.county.local:6543/agri?sslmode=require")
        #expect(s.host == "db.county.local" && s.port == 6543 && s.username == "shennong" && s.database == "agri")
        #expect(s.tls == .require && s.password == "hunter2")
        #expect(s.location == "postgres://shennong@db.county.local:6543/agri?sslmode=require")
        #expect(!"\(s)".contains("hunter2"))
        let plain = try PostgresSettings(url: "postgresql://ops@10.0.0.5/shennong", password: "from-file")
        #expect(plain.port == 5432 && plain.tls == .disable && plain.password == "from-file")
        #expect(PostgresSettings.isURL("postgres://a@b/c") && !PostgresSettings.isURL("data/shennong.db"))
    }

    @Test("refused: another scheme, no user, no database, an unknown sslmode or parameter", arguments: [
        "mysql://u@h/d", "postgres://h/d", "postgres://u@h", "postgres://u@h/", "postgres://u@h/d?sslmode=maybe",
        "postgres://u@h/d?pool=9", "not a url",
    ])
    func refused(url: String) {
        let error = #expect(throws: StoreError.self) { try PostgresSettings(url: url) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("the password comes from the first line of a file, else the environment; a missing file is an error")
    func password() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)")
        try "s3cret\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try PostgresSettings.password(file: file.path, environment: "PATH") == "s3cret")
        #expect(try PostgresSettings.password(file: nil, environment: "PATH") == ProcessInfo.processInfo.environment["PATH"])
        #expect(try PostgresSettings.password(file: nil, environment: "SHENNONG_NO_SUCH_VARIABLE_\(UUID().uuidString.prefix(6))") == nil)
        let error = #expect(throws: StoreError.self) { try PostgresSettings.password(file: "/nonexistent/pw", environment: nil) }
        #expect(error?.code == .invalidArgument)
    }
}
