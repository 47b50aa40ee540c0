import Foundation

/// The types of the HTTP contract (`openapi.yaml`): each one is the schema of the same name
/// under `components.schemas`, shared by the server's handlers and the CLI's client.
///
/// Keys are spelled out in each type's `CodingKeys` (snake_case, as on the wire), so the
/// coders need no key strategy and dictionary keys (metric names, attributes) pass unchanged.
/// Optional properties that are `nil` are left out of the JSON, never written as `null`.
public enum API {}

/// A body of the contract: the schema `components.schemas.<schemaName>` of `openapi.yaml`.
public protocol APIObject: Codable, Sendable {
    /// The schema's name in `openapi.yaml`; the type's own name unless it says otherwise.
    static var schemaName: String { get }
}

extension APIObject {
    public static var schemaName: String { String(describing: Self.self) }
}

/// The one encoder and decoder configuration of the whole API: the server's request
/// context and the CLI's client both use these.
public enum APICoding {
    /// Sorted keys, slashes unescaped; times are integers and strings the types format
    /// themselves, so no date strategy applies.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A plain decoder: keys come from the types' `CodingKeys`; unknown keys are ignored.
    public static func makeDecoder() -> JSONDecoder {
        JSONDecoder()
    }

    /// The shared encoder (`JSONEncoder` is thread-safe for encoding).
    public static let encoder = makeEncoder()
    /// The shared decoder.
    public static let decoder = makeDecoder()

    /// `value` as the API's JSON bytes.
    public static func encode(_ value: some Encodable) throws -> Data {
        try encoder.encode(value)
    }

    /// `type` from the API's JSON bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder.decode(type, from: data)
    }
}

/// The contract itself.
public enum APIContract {
    /// `openapi.yaml` as built into the binary (served at `/openapi.yaml`).
    public static var openAPIYAML: [UInt8] { PackageResources.openapi_yaml }
}

extension API {
    /// Every body type of the contract, one per object schema of `openapi.yaml` (the tests
    /// check each one against its schema, both ways).
    public static var objectTypes: [any APIObject.Type] {
        [
            ErrorBody.self, Health.self,
            Device.self, DeviceList.self, NewDevice.self, DeviceImport.self,
            Latest.self, LatestList.self, Reading.self, ReadingList.self, Aggregate.self, AggregateList.self, Reject.self,
            RejectList.self, RejectReplayRequest.self, RejectReplay.self,
            Alert.self, AlertList.self, Transition.self, AlertDetail.self, AlertAction.self,
            Rule.self, RuleList.self, RuleState.self, RuleDetail.self, LevelChange.self, LevelChangeList.self, LoginCode.self,
            Producer.self, Plot.self, Batch.self, BatchList.self, Certificate.self, CertificateRequest.self, Inspection.self,
            ProductionInput.self, TraceEvent.self, StageEntry.self, Range.self, Warning.self, EnvironmentSummary.self,
            Recall.self, RecallRequest.self, Seal.self, BatchDossier.self, TraceRecord.self, CodesRequest.self,
            IssuedCode.self, IssuedCodes.self, ChainBreak.self, VerifyReport.self, PublicProducer.self, Scans.self,
            Chain.self, PublicTrace.self,
            Command.self, CommandList.self, CommandTransition.self, CommandDetail.self, NewCommand.self, CommandCancel.self,
            MapFeatureCollection.self, MapFeature.self, MapPoint.self, MapDeviceProperties.self,
        ]
    }
}
