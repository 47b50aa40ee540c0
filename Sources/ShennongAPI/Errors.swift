/// The body of every error answer: `{"error": {"status": 404, "message": "..."}}`.
extension API {
    public struct ErrorBody: APIObject, Hashable {
        public static var schemaName: String { "Error" }

        public struct Detail: Codable, Sendable, Hashable {
            /// The HTTP status again.
            public var status: Int
            public var message: String

            public init(status: Int, message: String) {
                self.status = status
                self.message = message
            }
        }

        public var error: Detail

        public init(status: Int, message: String) {
            self.error = Detail(status: status, message: message)
        }
    }
}
