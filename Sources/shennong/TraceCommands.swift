import ArgumentParser
import Foundation
import ShennongAPI
import ShennongClient
import ShennongTrace

/// `shennong trace ...`: one item, one code (一物一码). Every verb talks to a running
/// server's staff API; dates are `2025-03-01` (Beijing), RFC 3339 or epoch.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Traceability (一物一码): producers, plots, batches, codes, events, verify, recall, export.",
        subcommands: [
            ProducerCommand.self, PlotCommand.self, BatchCommand.self, CertificateCommand.self, InspectionCommand.self,
            Issue.self, EventCommand.self, Show.self, Verify.self, Recall.self, Export.self, Seal.self,
        ])

    struct ProducerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "producer", abstract: "Producers (生产经营者).", subcommands: [Add.self])

        struct Add: StaffCommand {
            static let configuration = CommandConfiguration(abstract: "Register a producer (operator).")
            @Option(help: "Producer id ([A-Za-z0-9_.-]).") var id: String
            @Option(help: "Name (名称).") var name: String
            @Option(name: .customLong("credit-code"), help: "统一社会信用代码 (18 characters, checked).") var creditCode: String
            @Option(name: .customLong("area-code"), help: "GB/T 2260 area code (6 digits).") var areaCode: String
            @Option(help: "Contact person (联系人).") var contact: String?
            @Option(help: "Telephone (shown masked on public pages).") var phone: String?
            @Option(help: "Address (地址).") var address: String?
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                let producer = API.Producer(
                    id: id, name: name, creditCode: creditCode, contact: contact, phone: phone, address: address, areaCode: areaCode)
                return try await TraceCommands.record(client, "api/v1/trace/producers", producer, format: format)
            }
        }
    }

    struct PlotCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plot", abstract: "Plots, ponds, orchards (地块) and their sensors.", subcommands: [Add.self])

        struct Add: StaffCommand {
            static let configuration = CommandConfiguration(abstract: "Register a plot with its linked devices (operator).")
            @Option(help: "Plot id.") var id: String
            @Option(help: "Producer id.") var producer: String
            @Option(help: "Name (地块名称).") var name: String
            @Option(help: "Location in words (镇、村).") var location: String
            @Option(name: .customLong("area-code"), help: "GB/T 2260 area code.") var areaCode: String
            @Option(help: "Area.") var area: Double?
            @Option(name: .customLong("area-unit"), help: "Unit of the area.") var areaUnit: String = "亩"
            @Option var latitude: Double?
            @Option var longitude: Double?
            @Option(name: .customLong("device"), help: "A linked device id (repeat for several).") var devices: [String] = []
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                let plot = API.Plot(
                    id: id, producer: producer, name: name, location: location, latitude: latitude, longitude: longitude,
                    area: area, areaUnit: areaUnit, areaCode: areaCode, devices: devices)
                return try await TraceCommands.record(client, "api/v1/trace/plots", plot, format: format)
            }
        }
    }

    struct BatchCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "batch", abstract: "Batches (批次).", subcommands: [Create.self, List.self, ShowBatch.self])

        struct Create: StaffCommand {
            static let configuration = CommandConfiguration(abstract: "Create a batch on a plot (operator).")
            @Option(help: "Batch id = lot number (1–20 of A-Z a-z 0-9 - . _).") var id: String
            @Option(help: "Plot id.") var plot: String
            @Option(help: "Product (品名).") var product: String
            @Option(help: "Variety (品种).") var variety: String?
            @Option(help: "Quantity.") var quantity: Double
            @Option(help: "Unit (kg, 斤, 吨, 箱 …).") var unit: String = "kg"
            @Option(help: "Planting or stocking date.") var planted: String
            @Option(help: "Planned harvest date.") var harvest: String?
            @Option(help: "GTIN (8/12/13/14 digits, check digit verified).") var gtin: String?
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                let batch = API.Batch(
                    id: id, plot: plot, product: product, variety: variety, quantity: quantity, unit: unit,
                    plantingDate: try TraceCommands.time(planted, name: "--planted"),
                    harvestDate: try harvest.map { try TraceCommands.time($0, name: "--harvest") }, gtin: gtin)
                return try await TraceCommands.record(client, "api/v1/trace/batches", batch, format: format)
            }
        }

        struct List: StaffCommand {
            static let configuration = CommandConfiguration(abstract: "List batch ids.")
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                try await TraceCommands.batches(client, format: format)
            }
        }

        struct ShowBatch: StaffCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "Everything recorded about a batch (JSON).")
            @Argument var id: String
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                try await TraceCommands.dossier(client, batch: id)
            }
        }
    }

    struct CertificateCommand: StaffCommand {
        static let configuration = CommandConfiguration(
            commandName: "certificate",
            abstract: "Issue the commitment certificate (承诺达标合格证) of a batch (operator).")
        @Option(help: "Batch id.") var batch: String
        @Option(help: "Basis: 质量安全控制符合要求 | 自行检测合格 | 委托检测合格 (or quality-control | self-tested | commissioned-test); repeatable.")
        var basis: [String] = []
        @Option(help: "Issue date (default today).") var date: String?
        @Option(help: "Quantity on this certificate (default: the batch's).") var quantity: Double?
        @Option(help: "Unit (default: the batch's).") var unit: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            let request = API.CertificateRequest(
                basis: basis, issueDate: try date.map { try TraceCommands.time($0, name: "--date") }, quantity: quantity, unit: unit)
            return try await TraceCommands.certificate(client, batch: batch, request, format: format)
        }
    }

    struct InspectionCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspection", abstract: "Inspection results (检测结果).", subcommands: [Add.self])

        struct Add: StaffCommand {
            static let configuration = CommandConfiguration(abstract: "Record an inspection result of a batch (operator).")
            @Option(help: "Batch id.") var batch: String
            @Option(help: "Sample (样品).") var sample: String
            @Option(help: "Item tested (检测项目).") var item: String
            @Option(help: "Result as written (合格, 未检出, 0.01 mg/kg).") var result: String
            @Flag(help: "The result is a failure (不合格).") var failed = false
            @Option(help: "Laboratory (检测机构).") var lab: String
            @Option(help: "Test date.") var date: String
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                let inspection = API.Inspection(
                    sample: sample, item: item, result: result, passed: !failed, lab: lab, date: try TraceCommands.time(date, name: "--date"))
                return try await TraceCommands.record(client, "api/v1/trace/batches/\(batch)/inspections", inspection, format: format)
            }
        }
    }

    struct Issue: StaffCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue item codes for a batch: CSV of code, URL, Digital Link; QR SVGs; A4 label sheets (operator).")
        @Option(help: "Batch id.") var batch: String
        @Option(help: "How many codes.") var count: Int
        @Option(help: "CSV file to write.") var out: String = "codes.csv"
        @Option(name: .customLong("qr-dir"), help: "Write one QR code SVG per code into this directory.") var qrDir: String?
        @Option(help: "Write printable A4 label sheets (SVG) here.") var labels: String?
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            let result = try await TraceCommands.issue(client, batch: batch, count: count, out: out, qrDir: qrDir, labels: labels)
            return format.render(result.rows(qrDir: qrDir), columns: ["item", "value"])
        }
    }

    struct EventCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "event", abstract: "Stage events (环节记录).", subcommands: [Add.self])

        struct Add: StaffCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record a stage event (operator). A harvest inside a pesticide's withdrawal period is refused.")
            @Option(help: "Batch id.") var batch: String
            @Option(help: "origin | environment | production | processing | distribution | sales") var stage: TraceStage
            @Option(help: "planting | input | harvest | packing | shipping | receiving | retail_selling | free text")
            var action: String
            @Option(help: "Responsible party (责任主体).") var party: String
            @Option(help: "When (default now).") var time: String = "now"
            @Option(help: "Where.") var place: String
            @Option var note: String?
            @Option(help: "Only this item (code), when its path differs from the batch.") var item: String?
            @Option(name: .customLong("packed-lot"), help: "For packing: the packed lot the field lot becomes.") var packedLot: String?
            @Option(name: .customLong("input"), help: "Input used: kind:name[:withdrawal_days[:amount]], kind = fertiliser|pesticide|feed|veterinary|other; repeatable.")
            var inputs: [String] = []
            @Option(name: .customLong("applied"), help: "When the inputs were applied (default: the event time).") var applied: String?
            @OptionGroup var staff: StaffOptions

            func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
                let appliedAt = try applied.map { try TraceCommands.time($0, name: "--applied") }
                let event = API.TraceEvent(
                    stage: stage, action: action, party: party, time: try TraceCommands.time(time, name: "--time"), place: place,
                    note: note, inputs: try inputs.map { try TraceCommands.input($0, appliedAt: appliedAt) }, item: item,
                    packedLot: packedLot)
                return try await TraceCommands.record(client, "api/v1/trace/batches/\(batch)/events", event, format: format)
            }
        }
    }

    struct Show: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "What a code's page shows (no scan is counted).")
        @Argument(help: "Item code.") var code: String
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await TraceCommands.show(client, code: code, format: format)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash chain (or one code's) and name the first broken link; exit 1 if any.")
        @Argument(help: "Only the chains of this code.") var code: String?
        @OptionGroup var staff: StaffOptions

        func run() async throws {
            let (text, ok) = try await TraceCommands.verify(try staff.client(), code: code, format: staff.format)
            emit(text)
            if !ok { throw ExitCode(1) }
        }
    }

    struct Recall: StaffCommand {
        static let configuration = CommandConfiguration(abstract: "Recall a batch (召回): its pages turn red (operator).")
        @Option(help: "Batch id.") var batch: String
        @Option(help: "Reason (召回原因), shown to consumers.") var reason: String
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await TraceCommands.recall(client, batch: batch, reason: reason, format: format)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export a batch as EPCIS 2.0 JSON-LD.")
        @Option(help: "Batch id.") var batch: String
        @Flag(help: "EPCIS 2.0 JSON-LD (the only format).") var epcis = false
        @Option(help: "Write to this file instead of stdout.") var out: String?
        @OptionGroup var staff: StaffOptions

        func run() async throws {
            if let text = try await TraceCommands.exportEPCIS(try staff.client(), batch: batch, out: out) { emit(text) }
        }
    }

    struct Seal: StaffCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal a batch: Ed25519 signature over its chain head (public key: /.well-known/shennong-trace-key).")
        @Option(help: "Batch id.") var batch: String
        @OptionGroup var staff: StaffOptions

        func answer(_ client: StaffClient, format: OutputFormat) async throws -> String {
            try await TraceCommands.seal(client, batch: batch, format: format)
        }
    }
}

extension TraceStage: ExpressibleByArgument {}
