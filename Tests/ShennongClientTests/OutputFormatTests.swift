import Foundation
import ShennongAPI
import ShennongClient
import ShennongCore
import Testing

/// The CLI's output of typed answers: the same table, CSV and JSON as when it read untyped
/// JSON objects (integration tests and scripts read them).
struct OutputFormatTests {
    /// Devices as the server answers them (the API builds `API.Device` from the store's records).
    static let devices = try! APICoding.decode([API.Device].self, from: Data(#"""
        [{"id": "pond-1", "profile": "generic", "domain": "water", "site": "东陂村", "name": "鱼塘, 一号", "latitude": 24.78,
          "metrics": ["ph", "dissolved_oxygen"]},
         {"id": "gauge-2", "profile": "generic", "domain": "flood", "attributes": {"warning_stage": 3.5}}]
        """#.utf8))

    @Test("a table aligns CJK text by display width; absent values are empty, arrays comma-joined, (none) when empty")
    func table() throws {
        let text = try OutputFormat.table.render(Self.devices, columns: ["id", "site", "name", "metrics"], strings: .en)
        #expect(text == """
            ID       SITE    NAME        METRICS
            pond-1   东陂村  鱼塘, 一号  ph,dissolved_oxygen
            gauge-2                      

            """)
        #expect(try OutputFormat.table.render([API.Device](), columns: ["id"], strings: .en) == "ID\n(none)\n")
    }

    @Test("in Chinese (the default) a table's headers and empty row are Chinese, aligned by display width; CSV headers stay the keys")
    func tableInChinese() throws {
        let text = try OutputFormat.table.render(Self.devices, columns: ["id", "site", "name", "metrics"])
        #expect(text == """
            编号     站点    名称        指标
            pond-1   东陂村  鱼塘, 一号  ph,dissolved_oxygen
            gauge-2                      

            """)
        #expect(try OutputFormat.table.render([API.Device](), columns: ["id"]) == "编号\n（无）\n")
        // The task's language is the default.
        let english = try CLIStrings.$language.withValue(.en) { try OutputFormat.table.render([API.Device](), columns: ["id"]) }
        #expect(english == "ID\n(none)\n")
        #expect(try OutputFormat.csv.render(Self.devices, columns: ["id", "site"]).hasPrefix("id,site\n"))
        // A column without words of its own keeps its key, in capitals.
        #expect(OutputFormat.table.render([], columns: ["some_new_column"]) == "SOME_NEW_COLUMN\n（无）\n")
    }

    @Test("CSV quotes what must be quoted; numbers without .0, booleans 1 and 0")
    func csv() throws {
        #expect(try OutputFormat.csv.render(Self.devices, columns: ["id", "name", "latitude", "metrics"]) == """
            id,name,latitude,metrics
            pond-1,"鱼塘, 一号",24.78,"ph,dissolved_oxygen"
            gauge-2,,,

            """)
        #expect(OutputFormat.text(.bool(true)) == "1" && OutputFormat.text(.number(1_763_700_000_000)) == "1763700000000")
        #expect(OutputFormat.text(.number(0.1)) == "0.1" && OutputFormat.text(.null) == "")
    }

    @Test("JSON has every key of every row, sorted and indented, as the API names them")
    func json() throws {
        let text = try OutputFormat.json.render([Self.devices[1]], columns: ["id"])
        let parsed = try JSONParser.parse(Array(text.utf8))
        let device = try JSONParser.parse(Array(try APICoding.encode(Self.devices[1])))
        #expect(parsed == .array([device]))
        #expect(text.contains("\"warning_stage\" : 3.5") && text.hasSuffix("]\n"))
    }

    @Test("an --input value: kind:name[:withdrawal_days[:amount]]; a bad kind or day count is refused")
    func input() throws {
        let input = try TraceCommands.input("pesticide:阿维菌素:14:30 mL/亩", appliedAt: 5)
        #expect(input == API.ProductionInput(kind: .pesticide, name: "阿维菌素", amount: "30 mL/亩", appliedAt: 5, withdrawalDays: 14))
        #expect(try TraceCommands.input("fertiliser:复合肥", appliedAt: nil) == API.ProductionInput(kind: .fertiliser, name: "复合肥"))
        #expect(throws: ClientError.self) { try TraceCommands.input("magic:x", appliedAt: nil) }
        #expect(throws: ClientError.self) { try TraceCommands.input("feed:x:-1", appliedAt: nil) }
    }
}
