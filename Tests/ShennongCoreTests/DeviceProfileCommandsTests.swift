import Foundation
import Testing

@testable import ShennongCore

@Suite("Device profile commands")
struct DeviceProfileCommandsTests {
    static func profile(_ commands: String) throws(DeviceProfileError) -> DeviceProfile {
        try DeviceProfile.parse(
            yaml: """
                name: demo
                domain: water
                description: 演示 — demo
                expected_interval: 60
                commands:
                \(commands)
                """, sourceName: "demo.yaml")
    }

    @Test func parsesCommandsWithArgumentsStateAndTimes() throws {
        let p = try Self.profile(
            """
              aerator_on:
                description: 开启增氧机
                state: { metric: aerator_on, value: 1 }
                reply_within: 30
              set_do_limits:
                description: 设置溶氧上下限
                args:
                  lower: { type: number, min: 0.5, max: 10, unit: mg/L }
                  mode: { type: string, values: [auto, manual], required: false }
            """)
        #expect(p.commandList.map(\.name) == ["aerator_on", "set_do_limits"])
        let on = try #require(p.commands["aerator_on"])
        #expect(on.state == CommandStateSpec(metric: "aerator_on", value: 1) && on.replyWithin == 30 && on.confirmWithin == 180)
        let limits = try #require(p.commands["set_do_limits"])
        #expect(limits.args == [
            CommandArgumentSpec(name: "lower", type: .number, minimum: 0.5, maximum: 10, unit: "mg/L"),
            CommandArgumentSpec(name: "mode", type: .string, allowed: ["auto", "manual"], required: false),
        ])
        #expect(limits.state == nil)
    }

    @Test func refusesBadCommandsWithLine() {
        let cases: [(String, DeviceProfileError.Code, String)] = [
            ("  Aerator:\n    description: x", .invalidValue, "command name"),
            ("  a:\n    args: {}", .missingKey, "description"),
            ("  a:\n    description: x\n    speed: 3", .unknownKey, "speed"),
            ("  a:\n    description: x\n    state: { metric: nope, value: 1 }", .unknownMetric, "nope"),
            ("  a:\n    description: x\n    state: { metric: aerator_on }", .missingKey, "state"),
            ("  a:\n    description: x\n    args:\n      v: { type: float }", .invalidValue, "type"),
            ("  a:\n    description: x\n    args:\n      v: { min: 1 }", .missingKey, "type"),
            ("  a:\n    description: x\n    args:\n      v: { type: number, min: 5, max: 1 }", .invalidValue, "min"),
            ("  a:\n    description: x\n    args:\n      v: { type: boolean, min: 0 }", .invalidValue, "min and max"),
            ("  a:\n    description: x\n    reply_within: 0", .invalidValue, "reply_within"),
        ]
        for (yaml, code, fragment) in cases {
            do {
                _ = try Self.profile(yaml)
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.code == code, "\(yaml): \(error)")
                #expect(error.message.contains(fragment), "\(error.message)")
                #expect(error.line != nil)
            }
        }
    }

    @Test func shippedPondProfileDeclaresTheAeratorCommands() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("devices/pond-oxygen-probe.yaml")
        let p = try DeviceProfile.parse(yaml: try String(contentsOf: url, encoding: .utf8), sourceName: "pond-oxygen-probe.yaml")
        #expect(p.commands["aerator_on"]?.state == CommandStateSpec(metric: "aerator_on", value: 1))
        #expect(p.commands["aerator_off"]?.state == CommandStateSpec(metric: "aerator_on", value: 0))
        #expect(p.commands["set_do_limits"]?.args.map(\.name) == ["lower", "upper"])
    }

    @Test func commandLineValuesAreTyped() {
        #expect(CommandValue(text: "3.5") == .number(3.5))
        #expect(CommandValue(text: "true") == .bool(true))
        #expect(CommandValue(text: "auto") == .string("auto"))
        #expect(CommandValue(text: "nan") == .string("nan"))
    }
}
