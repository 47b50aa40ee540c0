// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Shennong",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shennong", targets: ["shennong"]),
        .library(name: "ShennongServer", targets: ["ShennongServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        .target(name: "CShennongIO"),
        .target(
            name: "MosquittoClient",
            dependencies: [
                "CShennongIO",
                "CMosquitto",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        .target(name: "ShennongProcess"),
        // Forwarding to an upstream centre (issue 17): zlib for gzip bodies.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "ShennongForward",
            dependencies: [
                "ShennongCore", "ShennongAlerts", "ShennongAPI", "ShennongRules", "MosquittoClient", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ShennongCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Sealed monitoring data (上链): Merkle roots over compacted blocks, chained and signed.
        .target(
            name: "ShennongSeal",
            dependencies: ["ShennongCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "ShennongAPI",
            dependencies: ["ShennongCore", "ShennongAlerts", "ShennongCommands", "ShennongTrace"],
            resources: [.embedInCode("Resources/openapi.yaml")]
        ),
        .target(
            name: "ShennongAlerts",
            dependencies: ["ShennongCore"]
        ),
        // Device commands: the command lifecycle (a value) and the CommandStore door.
        .target(
            name: "ShennongCommands",
            dependencies: ["ShennongCore"]
        ),
        .target(
            name: "ShennongStore",
            dependencies: [
                "ShennongCore",
                "ShennongAlerts",
                "ShennongCommands",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The PostgreSQL engine: the only code importing PostgresNIO, behind the same doors.
        .target(
            name: "ShennongPostgres",
            dependencies: [
                "ShennongCore",
                "ShennongAlerts",
                "ShennongCommands",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ShennongRules",
            dependencies: [
                "ShennongCore",
                "ShennongAPI",
                "ShennongAlerts",
                "ShennongCommands",
                "MosquittoClient",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "ShennongTrace",
            dependencies: [
                "ShennongCore",
                "CQRencode",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ShennongHTTP",
            dependencies: [
                "ShennongCore",
                "ShennongSeal",
                "ShennongAPI",
                "ShennongAlerts",
                "ShennongCommands",
                "ShennongRules",
                "ShennongTrace",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "ShennongIngest",
            dependencies: [
                "ShennongCore",
                "MosquittoClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ShennongSimulator",
            dependencies: [
                "ShennongCore",
                "ShennongIngest",
                "MosquittoClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ShennongServer",
            dependencies: [
                "ShennongCore",
                "ShennongSeal",
                "ShennongStore",
                "ShennongPostgres",
                "ShennongAlerts",
                "ShennongHTTP",
                "ShennongIngest",
                "ShennongRules",
                "ShennongSimulator",
                "ShennongTrace",
                "ShennongForward",
                "MosquittoClient",
                "ShennongProcess",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "ShennongClient",
            dependencies: ["ShennongAPI", "ShennongCore", "ShennongTrace"]
        ),
        .executableTarget(
            name: "shennong",
            dependencies: [
                "ShennongServer",
                "ShennongSimulator",
                "ShennongClient",
                "ShennongAPI",
                "ShennongTrace",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "ShennongTestSupport",
            dependencies: ["ShennongProcess"],
            path: "Tests/Support"
        ),
        .testTarget(name: "ShennongCoreTests", dependencies: ["ShennongCore"]),
        .testTarget(name: "ShennongSealTests", dependencies: ["ShennongSeal", "ShennongCore"]),
        .testTarget(name: "MosquittoClientTests", dependencies: ["MosquittoClient", "CShennongIO", "ShennongTestSupport"]),
        .testTarget(
            name: "ShennongStoreTests",
            dependencies: ["ShennongStore", "ShennongTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "ShennongAlertsTests", dependencies: ["ShennongAlerts", "ShennongCore"]),
        .testTarget(name: "ShennongCommandsTests", dependencies: ["ShennongCommands", "ShennongCore"]),
        .testTarget(
            name: "ShennongForwardTests",
            dependencies: ["ShennongForward", "ShennongCore", "ShennongAlerts", "ShennongRules", "ShennongStore", "ShennongTestSupport", "ShennongSeal"]
        ),
        // The store contract: every test runs on every storage engine (StoreEngine.all).
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "ShennongAlerts", "ShennongCore", "ShennongStore", "ShennongPostgres", "ShennongTestSupport", "ShennongCommands",
                "ShennongSeal", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "ShennongPostgresTests", dependencies: ["ShennongPostgres", "ShennongCore", "ShennongTestSupport"]
        ),
        .testTarget(name: "ShennongRulesTests", dependencies: ["ShennongRules", "ShennongAlerts", "ShennongCore", "ShennongStore", "ShennongCommands"]),
        .testTarget(name: "ShennongTraceTests", dependencies: ["ShennongTrace", "ShennongCore", "ShennongStore"]),
        .testTarget(name: "ShennongClientTests", dependencies: ["ShennongClient", "ShennongAPI", "ShennongCore"]),
        .testTarget(
            name: "ShennongHTTPTests",
            dependencies: [
                "ShennongHTTP", "ShennongAPI", "ShennongAlerts", "ShennongCore", "ShennongStore", "ShennongRules",
                "ShennongTrace", "ShennongTestSupport", "ShennongIngest", "ShennongCommands", "ShennongSeal",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ShennongIngestTests",
            dependencies: [
                "ShennongIngest", "ShennongCore", "ShennongStore", "MosquittoClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks (`make bench`, release build): not part of `swift test`.
        .executableTarget(
            name: "StoreBench",
            dependencies: ["ShennongStore", "ShennongCore"],
            path: "Benchmarks/StoreBench"
        ),
        .executableTarget(
            name: "IngestBench",
            dependencies: ["CMosquitto", "MosquittoClient", "ShennongProcess", "ShennongTestSupport"],
            path: "Benchmarks/IngestBench"
        ),
        .executableTarget(
            name: "TraceBench",
            dependencies: ["ShennongProcess", "ShennongTestSupport"],
            path: "Benchmarks/TraceBench"
        ),
        // Fuzz target for device-data decoding: a replay tool in `swift build`, a libFuzzer
        // binary under `make fuzz` (-sanitize=fuzzer,address -D SHENNONG_LIBFUZZER, own scratch path).
        .executableTarget(name: "ShennongFuzz", dependencies: ["ShennongCore"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ShennongCore", "ShennongStore", "ShennongAlerts", "ShennongRules", "ShennongTrace", "ShennongServer",
                "MosquittoClient", "ShennongIngest", "ShennongSimulator", "ShennongTestSupport", "ShennongPostgres",
                "ShennongCommands", "ShennongForward",
            ]
        ),
    ]
)
