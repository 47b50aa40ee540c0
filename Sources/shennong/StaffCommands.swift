import ArgumentParser
import Foundation
import ShennongAPI
import ShennongClient

struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Registered field devices.",
        subcommands: [List.self, Show.self, Add.self, Import.self, DeviceCommand.self, DeviceCommandList.self])

    struct List: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "List devices.")
        @Option(help: "Only devices of this site.") var site: String?
        @Option(help: "Only devices of this domain (water, soil, weather, fire, flood).") var domain: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await DeviceCommands.list(client, site: site, domain: domain, format: format)
        }
    }

    struct Show: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Show one device.")
        @Argument(help: "Device id.") var id: String
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await DeviceCommands.show(client, id: id, format: format)
        }
    }

    struct Import: StaffCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register or update devices in bulk from a CSV file (operator), all or nothing.",
            discussion: """
                Columns (header line first, any order): id, profile (required); domain, site, name,
                latitude, longitude, area_code (GB/T 2260), owner; any other column is a numeric
                attribute, e.g. warning_stage, guaranteed_stage, historical_max_stage (m) of a gauge.
                """)
        @Argument(help: "CSV file.") var file: String
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await DeviceCommands.importCSV(client, file: file, format: format)
        }
    }

    struct Add: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Register a device (operator).")
        @Argument(help: "Device id ([A-Za-z0-9_.-]{1,64}).") var id: String
        @Option(help: "Device profile (devices/*.yaml name).") var profile: String
        @Option(help: "Domain, if not the profile's.") var domain: String?
        @Option var site: String?
        @Option var name: String?
        @Option var latitude: Double?
        @Option var longitude: Double?
        @Option(name: .customLong("area-code")) var areaCode: String?
        @Option var owner: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            let device = API.NewDevice(
                id: id, profile: profile, domain: domain, site: site, name: name, latitude: latitude, longitude: longitude,
                areaCode: areaCode, owner: owner)
            return try await DeviceCommands.add(client, device, format: format)
        }
    }
}

struct Readings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stored readings.", subcommands: [Latest.self, Query.self, Rejects.self])

    struct Latest: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "The newest value of every series.")
        @Option(help: "Only this site.") var site: String?
        @Option(help: "Only this domain.") var domain: String?
        @Option(help: "Only this device.") var device: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await ReadingCommands.latest(client, site: site, domain: domain, device: device, format: format)
        }
    }

    struct Query: StaffCommand {
        static let configuration = CommandConfiguration(
            abstract: "Readings of one device over a time range, raw or aggregated.")
        @Option(help: "Device id.") var device: String
        @Option(help: "Only this metric.") var metric: String?
        @Option(help: "Start: RFC 3339, epoch s/ms, now, or -6h / -7d.") var from: String = "-24h"
        @Option(help: "End (exclusive), same forms.") var to: String = "now"
        @Option(help: "Aggregate over intervals: 1m, 1h, 1d.") var every: String?
        @Option(help: "Most raw readings to return.") var limit: Int?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await ReadingCommands.query(
                client, device: device, metric: metric, from: from, to: to, every: every, limit: limit, format: format)
        }
    }

    struct Rejects: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages (or fields) that could not be stored, and why; replayed after a profile fix.",
            subcommands: [List.self, Replay.self], defaultSubcommand: List.self)

        struct List: StaffCommand {
            static let configuration = CommandConfiguration(abstract: "Messages (or fields) that could not be stored, and why.")
            @Option(help: "Only rejects received since: RFC 3339, epoch, or -1h.") var since: String?
            @Option(help: "Most rejects to list.") var limit: Int = 100
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                try await ReadingCommands.rejects(client, since: since, limit: limit, format: format)
            }
        }

        struct Replay: StaffCommand {
            static let configuration = CommandConfiguration(
                abstract: "Decode stored rejects again with the server's current profiles; store what now decodes (operator).")
            @Option(help: "Only rejects received since: RFC 3339, epoch, or -1h.") var since: String?
            @Option(help: "Only rejects with this code (unknown_metric) or reason text.") var reason: String?
            @Option(help: "Only rejects of this device.") var device: String?
            @Flag(help: "Decode and count, store nothing.") var dryRun = false
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                try await ReadingCommands.replayRejects(
                    client, since: since, reason: reason, device: device, dryRun: dryRun, format: format)
            }
        }
    }
}
