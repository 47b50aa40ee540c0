import GRDB

/// A record whose camelCase properties are its table's snake_case columns (`createdAt` is
/// `created_at`): how every Shennong table names its columns, said once for all records.
protocol SnakeCaseColumns {}

extension FetchableRecord where Self: SnakeCaseColumns {
    static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
}

extension EncodableRecord where Self: SnakeCaseColumns {
    static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}
