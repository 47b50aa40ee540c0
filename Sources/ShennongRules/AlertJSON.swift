import Foundation
import ShennongAlerts
import ShennongAPI
import ShennongCore

/// An alert's JSON as notifiers publish and POST it: the contract's ``API/Alert``.
public typealias AlertJSON = API.Alert

extension API.Alert {
    /// The alert as the API answers it and notifiers send it, times in local time at
    /// `offsetMinutes`.
    ///
    /// With a transition (a notifier's message, the answer to a person's action) it also says
    /// what just happened (`event`), the level before, who and when.
    public init(_ a: AlertRecord, rule: Rule?, transition: AlertTransition? = nil, offsetMinutes: Int = 480) {
        self.init(
            a, ruleName: rule?.name, instruction: rule?.instruction, transition: transition, offsetMinutes: offsetMinutes)
    }

    /// The API's JSON bytes (sorted keys): the body published on MQTT and POSTed to webhooks.
    public func encoded() -> [UInt8] {
        (try? Array(APICoding.encode(self))) ?? Array("{}".utf8)
    }
}
