/// What went wrong at a store's edge.
public enum StoreErrorCode: String, Sendable, Hashable {
    case notADatabase = "not_a_database"
    case foreignDatabase = "foreign_database"
    case io = "io"
    case invalidArgument = "invalid_argument"
    case notFound = "not_found"
    case conflict = "conflict"
    case corrupt = "corrupt"
}

/// An error at the store's edge, with a stable code.
public typealias StoreError = CodedError<StoreErrorCode>
