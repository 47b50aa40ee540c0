import ShennongAPI
import ShennongCore
import ShennongTrace

// The contract's traceability bodies are mostly the trace module's own values (the API's own
// answers are built from them in ShennongAPI); request bodies are checked here (a time outside
// years 1–9999 or a withdrawal period over 100 years is a 400; a stage or input kind the
// module does not know is refused by decoding).

/// Throws a 400 naming `field` unless `ms` is absent or within ``TimeExpression/range``.
func checkTime(_ ms: Int64?, _ field: String) throws {
    if let ms, !TimeExpression.range.contains(ms) {
        throw APIError(.badRequest, "body \(field): \(ms) is not a time between years 1 and 9999 (epoch ms)")
    }
}

extension Batch {
    /// The batch, or a 400 naming a date outside years 1–9999.
    func checked() throws -> Batch {
        try checkTime(plantingDate, "planting_date")
        try checkTime(harvestDate, "harvest_date")
        return self
    }
}

extension Inspection {
    /// The inspection, or a 400 naming a date outside years 1–9999.
    func checked() throws -> Inspection {
        try checkTime(date, "date")
        return self
    }
}

extension ProductionInput {
    /// The input, or a 400 naming the field (`at`: its path in the body).
    func checked(at path: String) throws -> ProductionInput {
        try checkTime(appliedAt, "\(path).applied_at")
        if let days = withdrawalDays, !(0...36_500).contains(days) {
            throw APIError(.badRequest, "body \(path).withdrawal_days: \(days) is not between 0 and 36500")
        }
        return self
    }
}

extension TraceEvent {
    /// The event, or a 400 naming the field that the trace module cannot take (unknown
    /// stages and input kinds are refused by decoding already).
    func checked() throws -> TraceEvent {
        try checkTime(time, "time")
        var event = self
        event.inputs = try inputs.enumerated().map { i, input in try input.checked(at: "inputs.\(i)") }
        return event
    }
}
