// StoreBench: a simulated county written straight into the store, then measured beside the
// plain one-table layout (device, metric, ts, value; primary key (device, metric, ts)).
//
//   swift build -c release --product StoreBench && .build/release/StoreBench [options]
//
// Options (defaults in brackets):
//   --devices N        devices [5000], 5 metrics each, one reading a minute
//   --days D           days of data for every device [1]
//   --history-days H   days of one-a-minute data for the first site (the one queried) [30]
//   --site-size N      devices per site [10]
//   --year-every M     the first site also gets a year before that, every M minutes [10]; 0: none
//   --group N          devices per commit (a commit holds N × 5 × 60 readings: an hour of them) [100]
//   --dir PATH         where the two databases go [a new directory under /tmp]
//   --keep             keep the databases
//   --no-plain         skip the plain layout (no ratios)
//   --cache MiB        page cache of the writing connection, both layouts [256]
//
// Scaling: the full county (5,000 devices × 5 metrics × 1/min × 30 days = 1.08 billion
// readings) takes about 3 hours to write into both layouts on a 2-core machine (store
// ~100k rows/s with its rollups, plain ~230k rows/s, compaction ~450k rows/s). The default
// keeps the county's full width — 25,000 series, what ingest's working set and `latest`
// see — for one day (36 million readings), and gives the queried site its 30 days a minute
// apart and a year before that every 10 minutes (4.5 million): bytes and rows per second are
// per reading and do not depend on the number of days, and the 30-day and one-year queries
// only read that site. About 11 minutes in release; `--days 30` runs the full county.
//
// Data: per series a random walk quantized at the metric's precision, a reading every 60 s
// at a per-device second, 2 % of timestamps off by 1–3 s, a few outages. Written in time
// order an hour at a time, device group by device group, as the server would commit; after
// each day, closed buckets are compacted as the maintenance service would.

import Foundation
@_spi(Benchmarks) import ShennongStore
import ShennongCore

struct Options {
    var devices = 5000
    var days = 1
    var historyDays = 30
    var siteSize = 10
    var yearEvery = 10
    var group = 100
    var dir: String?
    var keep = false
    var plain = true
    var cacheMiB = 256

    init(_ args: [String]) {
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fatalError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--devices": devices = Int(value())!
            case "--days": days = Int(value())!
            case "--history-days": historyDays = Int(value())!
            case "--site-size": siteSize = Int(value())!
            case "--year-every": yearEvery = Int(value())!
            case "--group": group = Int(value())!
            case "--dir": dir = value()
            case "--keep": keep = true
            case "--no-plain": plain = false
            case "--cache": cacheMiB = Int(value())!
            case "-h", "--help":
                print("usage: StoreBench [--devices N] [--days D] [--history-days H] [--site-size N] [--year-every M] [--group N] [--dir PATH] [--keep] [--no-plain]")
                exit(0)
            default: fatalError("unknown option \(args[i])")
            }
            i += 1
        }
    }
}

/// SplitMix64: fast and deterministic.
struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

let metrics: [(name: String, base: Double, step: Double, low: Double, high: Double)] = [
    ("air_temp", 24, 0.03, -5, 42),
    ("relative_humidity", 75, 0.3, 5, 100),
    ("soil_moisture", 30, 0.1, 2, 60),
    ("soil_temp", 22, 0.02, 0, 45),
    ("battery_voltage", 12.6, 0.01, 10.5, 14.4),
]
let scales = metrics.map { pow(10.0, Double(MetricCatalogue.metric(named: $0.name)!.precision)) }

/// One series' state: a mean-reverting walk, quantized.
struct Walk {
    var level: Double
    mutating func next(_ m: Int, _ rng: inout Rng) -> Double {
        let spec = metrics[m]
        let drift = (spec.base - level) * 0.002
        level += drift + (rng.unit() * 2 - 1) * spec.step * 3
        level = min(max(level, spec.low), spec.high)
        return (level * scales[m]).rounded() / scales[m]
    }
}

func deviceID(_ i: Int) -> String { "dev-\(String(i + 100_000).dropFirst())" }
func site(ofDevice i: Int, _ o: Options) -> String { "site-\(i / o.siteSize)" }

let o = Options(Array(CommandLine.arguments.dropFirst()))
let dir = o.dir ?? NSTemporaryDirectory() + "storebench-\(ProcessInfo.processInfo.processIdentifier)"
try? FileManager.default.removeItem(atPath: dir)
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let day: Int64 = 86_400_000
let minute: Int64 = 60_000
let end: Int64 = 1_767_225_600_000  // 2026-01-01T00:00Z: the county's data ends here
let start = end - Int64(o.days) * day
let historyStart = min(start, end - Int64(o.historyDays) * day)
let yearStart = end - 365 * day

func now() -> Double { Date().timeIntervalSince1970 }
func fmt(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
func mb(_ bytes: Int64) -> String { fmt(Double(bytes) / 1_048_576, 1) + " MB" }

var storeOptions = StoreOptions()
storeOptions.compactionGrace = 3_600_000
storeOptions.writerCacheMiB = o.cacheMiB
let store = try Store(path: dir + "/store.db", durable: false, options: storeOptions)
let plain = o.plain ? try PlainReadingTable(path: dir + "/plain.db", writerCacheMiB: o.cacheMiB) : nil

print("StoreBench: \(o.devices) devices × \(metrics.count) metrics × 1/min × \(o.days) days"
    + " + site-0 (\(min(o.siteSize, o.devices)) devices) 1/min back to \(o.historyDays) days"
    + (o.yearEvery > 0 ? " and every \(o.yearEvery) min back to a year" : "")
    + "; databases in \(dir)")
print("  machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, synchronous=NORMAL on both")

var storeSeconds = 0.0
var plainSeconds = 0.0
var compactSeconds = 0.0
var compacted = 0
var written = 0

/// Commits one batch to both layouts, timing each.
@MainActor func write(_ readings: [Reading], devices newDevices: [Device]) throws {
    var batch = IngestBatch()
    batch.readings = readings
    batch.newDevices = newDevices
    let t0 = now()
    let result = try store.commit(batch)
    storeSeconds += now() - t0
    precondition(result.inserted == readings.count, "unexpected duplicates")
    if let plain {
        let rows = readings.map { (device: $0.device, metric: $0.metric, ts: $0.timestamp, value: $0.value) }
        let t1 = now()
        try plain.insert(rows, devices: newDevices.map { ($0.id, $0.site) })
        plainSeconds += now() - t1
    }
    written += readings.count
}

@MainActor func compact(at time: Int64) throws {
    let t0 = now()
    compacted += try store.compact(now: time).readings
    compactSeconds += now() - t0
}

// 1. The sparser year of site 0 (before the county's window), then the county, hour by hour.
var rng = Rng(state: 42)
var registered = Set<Int>()
@MainActor func devicesToRegister(_ range: Range<Int>) -> [Device] {
    range.filter { registered.insert($0).inserted }.map {
        Device(id: deviceID($0), profile: "soil-probe", domain: .soil, site: site(ofDevice: $0, o), createdAt: yearStart)
    }
}
var walks = (0..<(o.devices * metrics.count)).map { Walk(level: metrics[$0 % metrics.count].base + Double($0 % 7)) }
let offsets = (0..<o.devices).map { Int64(($0 * 7919) % 60) * 1000 }

@MainActor func hour(_ hourStart: Int64, devices range: Range<Int>, every: Int64) -> [Reading] {
    var readings: [Reading] = []
    readings.reserveCapacity(range.count * metrics.count * Int(3_600_000 / every))
    for d in range {
        // A device is down for the hour now and then (0.2 %): a gap.
        if rng.int(500) == 0 { continue }
        let id = deviceID(d)
        var t = hourStart + offsets[d] % every
        while t < hourStart + 3_600_000 {
            var ts = t
            if rng.int(50) == 0 { ts += Int64(rng.int(3) + 1) * 1000 * (rng.int(2) == 0 ? 1 : -1) }
            for m in 0..<metrics.count {
                readings.append(Reading(device: id, metric: metrics[m].name, timestamp: ts, value: walks[d * metrics.count + m].next(m, &rng)))
            }
            t += every
        }
    }
    return readings
}

let wallStart = now()
let yearDevices = 0..<min(o.siteSize, o.devices)
var lastReport = now()
/// Writes hour by hour from `from` to `to`, `devices` a reading every `every`, compacting
/// after each day as the maintenance service would.
@MainActor func run(from: Int64, to: Int64, devices: Range<Int>, every: Int64) throws {
    var h = from
    while h < to {
        var g = devices.lowerBound
        while g < devices.upperBound {
            let range = g..<min(g + o.group, devices.upperBound)
            try write(hour(h, devices: range, every: every), devices: devicesToRegister(range))
            g += o.group
        }
        h += 3_600_000
        if h % day == 0 {
            try compact(at: h)
            if now() - lastReport > 30 {
                lastReport = now()
                print("  … \(Timestamp.format(h).prefix(10)): \(written) readings, store \(Int(Double(written) / storeSeconds)) rows/s, "
                    + "compacted \(compacted), \(Int(now() - wallStart)) s")
            }
        }
    }
}
if o.yearEvery > 0 { try run(from: yearStart, to: historyStart, devices: yearDevices, every: Int64(o.yearEvery) * minute) }
try run(from: historyStart, to: start, devices: yearDevices, every: minute)
let siteReadings = written
try run(from: start, to: end, devices: 0..<o.devices, every: minute)

/// Bytes on disk of a database: the file, its WAL and its shared-memory index.
func diskBytes(_ path: String) -> Int64 {
    ["", "-wal", "-shm"].reduce(Int64(0)) { sum, suffix in
        sum + (((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int64) ?? 0)
    }
}
// After the day: the county's last day still raw (closed an hour after its end), the
// history before it compacted at each day's end, as the maintenance service would.
let dayDisk = diskBytes(dir + "/store.db")
let dayPlainDisk = plain != nil ? diskBytes(dir + "/plain.db") : 0
let dayReadings = written
try compact(at: end + 2 * 3_600_000)
let compactedDisk = diskBytes(dir + "/store.db")
let wallWrite = now() - wallStart
print("\nIngest (store-only: `commit` time; batches of an hour of \(o.group) devices, \(o.group * metrics.count * 60) readings)")
print("  readings written         \(written) (\(written - siteReadings) county + \(siteReadings) history of site-0)")
print("  store                    \(Int(Double(written) / storeSeconds)) rows/s   (buckets, rollups 1m/1h/1d, latest, in one transaction)")
if plain != nil {
    print("  plain one-table layout   \(Int(Double(written) / plainSeconds)) rows/s   (one INSERT a reading, nothing else)")
}
print("  compaction               \(Int(Double(compacted) / max(compactSeconds, 1e-9))) rows/s   (\(compacted) readings, \(fmt(compactSeconds, 1)) s)")
print("  wall time writing        \(fmt(wallWrite, 0)) s")

// 2. Sizes.
let stats = try store.stats()
let sizes = try store.tableBytes() ?? [:]
func bytes(_ prefix: String) -> Int64 { sizes.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
let blockBytes = bytes("blk_")
let rawBytes = bytes("raw_")
let rollupBytes = bytes("m1_") + bytes("h1_") + bytes("rollup_")
let usedBytes = sizes.values.reduce(0, +)
let fileBytes = stats.fileBytes
let perReading = { (b: Int64) in Double(b) / Double(stats.readings) }
print("\nSize after compaction (\(stats.readings) readings, \(stats.compactedReadings) in blocks, \(stats.rawReadings) raw)")
print("  compacted blocks         \(fmt(perReading(blockBytes))) B/reading   \(mb(blockBytes))   (target ≤ 3)")
print("  + raw left               \(fmt(perReading(rawBytes))) B/reading")
print("  + rollups 1m/1h/1d       \(fmt(perReading(rollupBytes))) B/reading   (1m: \(mb(bytes("m1_") + (sizes["rollup_1m"] ?? 0))), 1h: \(mb(bytes("h1_") + (sizes["rollup_1h"] ?? 0))), 1d: \(mb(sizes["rollup_1d"] ?? 0)))")
print("  all used pages           \(fmt(perReading(usedBytes))) B/reading   \(mb(usedBytes))   (incl. latest, series, devices)")
print("  file                     \(fmt(perReading(fileBytes))) B/reading   \(mb(fileBytes))   (free pages of dropped raw tables are reused by later buckets)")
print("\nOn disk (database + WAL + shm, file sizes)")
print("  after the day, before its compaction  \(fmt(Double(dayDisk) / Double(dayReadings))) B/reading   \(mb(dayDisk))   (target ≤ 60)"
    + (plain != nil ? "   plain one-table layout \(fmt(Double(dayPlainDisk) / Double(dayReadings))) B/reading" : ""))
print("  after compaction                      \(fmt(Double(compactedDisk) / Double(stats.readings))) B/reading   \(mb(compactedDisk))   (target ≤ 4; free pages in the file \(mb(stats.freeBytes)))")
var plainBytes: Int64 = 0
if let plain {
    plainBytes = try plain.readingBytes()
    print("  plain one-table layout   \(fmt(perReading(plainBytes))) B/reading   \(mb(plainBytes))   → store blocks \(fmt(Double(plainBytes) / Double(blockBytes), 1))× smaller, everything \(fmt(Double(plainBytes) / Double(usedBytes), 1))× smaller")
}

// 3. Queries: median of repeated runs (warm cache), store beside plain.
@MainActor func median(_ runs: Int, _ body: () throws -> Int) rethrows -> (ms: Double, rows: Int) {
    var times: [Double] = []
    var rows = 0
    for _ in 0..<runs {
        let t0 = now()
        rows = try body()
        times.append((now() - t0) * 1000)
    }
    times.sort()
    return (times[times.count / 2], rows)
}

let focusSite = "site-0"
let focusDevice = deviceID(0)
print("\nQueries (median of warm runs; ratio = plain ÷ store, above 1: the store is faster)")
@MainActor func report(_ name: String, _ s: (ms: Double, rows: Int), _ p: (ms: Double, rows: Int)?) {
    var line = "  \(name.padding(toLength: 44, withPad: " ", startingAt: 0)) store \(fmt(s.ms, 3)) ms (\(s.rows) rows)"
    if let p { line += "   plain \(fmt(p.ms, 3)) ms (\(p.rows) rows)   ratio \(fmt(p.ms / s.ms, 1))×" }
    print(line)
}
let qa = try median(50) { try store.latest(site: focusSite).count }
let pa = try plain.map { plain in try median(50) { try plain.latest(site: focusSite).count } }
report("(a) latest of every device of one site", qa, pa)

let qb = try median(20) { try store.aggregates(device: focusDevice, metric: "air_temp", from: end - 30 * day, to: end, every: 3_600_000).count }
let pb = try plain.map { plain in try median(10) { try plain.aggregates(device: focusDevice, metric: "air_temp", from: end - 30 * day, to: end, every: 3_600_000).count } }
report("(b) one series, 30 days at 1 h", qb, pb)

@MainActor func siteYear(_ aggregates: (String, String) throws -> Int) rethrows -> Int {
    var rows = 0
    for d in yearDevices { for m in metrics { rows += try aggregates(deviceID(d), m.name) } }
    return rows
}
let qc = try median(10) { try siteYear { try store.aggregates(device: $0, metric: $1, from: end - 365 * day, to: end, every: day).count } }
let pc = try plain.map { plain in try median(3) { try siteYear { try plain.aggregates(device: $0, metric: $1, from: end - 365 * day, to: end, every: day).count } } }
report("(c) one site (\(yearDevices.count) devices × \(metrics.count)), a year at 1 d", qc, pc)

// Same answers from both (the store is exact; sums may differ in the last bits when combined).
if let plain {
    let s = try store.aggregates(device: focusDevice, metric: "air_temp", from: end - 30 * day, to: end, every: 3_600_000)
    let p = try plain.aggregates(device: focusDevice, metric: "air_temp", from: end - 30 * day, to: end, every: 3_600_000)
    precondition(s.map(\.count) == p.map(\.count) && s.map(\.first) == p.map(\.first) && s.map(\.last) == p.map(\.last), "answers differ")
    precondition(zip(s, p).allSatisfy { abs($0.sum - $1.sum) <= 1e-9 * abs($1.sum) }, "sums differ")
    try plain.close()
}
try store.close()
if !o.keep { try? FileManager.default.removeItem(atPath: dir) }
print("\ntotal wall time \(fmt(now() - wallStart, 0)) s")
