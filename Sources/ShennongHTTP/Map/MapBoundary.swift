import Foundation

/// A site's outline (a county or town boundary) read from a GeoJSON file: the rings of its
/// Polygon, MultiPolygon, LineString or MultiLineString geometries, bare or in a Feature or a
/// FeatureCollection. Positions are `[longitude, latitude]` (RFC 7946); anything else in the
/// file is ignored.
public struct MapBoundary: Sendable, Hashable {
    /// Each ring as (longitude, latitude) points.
    public var rings: [[Point]]

    public struct Point: Sendable, Hashable {
        public var longitude: Double
        public var latitude: Double
    }

    /// Why a boundary file cannot be used.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads a GeoJSON file's rings; throws when it is not GeoJSON or has no line or polygon.
    public static func load(path: String) throws -> MapBoundary {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Failure(description: "cannot read the boundary file \(path): \(error.localizedDescription)")
        }
        return try parse(data, name: path)
    }

    /// The rings of a GeoJSON document.
    public static func parse(_ data: Data, name: String = "boundary") throws -> MapBoundary {
        let object: GeoObject
        do {
            object = try JSONDecoder().decode(GeoObject.self, from: data)
        } catch {
            throw Failure(description: "\(name) is not GeoJSON: \(error)")
        }
        var rings: [[Point]] = []
        object.collect(into: &rings)
        rings = rings.filter { $0.count >= 2 }
        guard !rings.isEmpty else { throw Failure(description: "\(name) has no LineString or Polygon to draw") }
        return MapBoundary(rings: rings)
    }

    /// A GeoJSON object: a FeatureCollection, a Feature or a geometry (typed, the parts used).
    private struct GeoObject: Decodable {
        var type: String
        var features: [GeoObject]?
        var geometry: Box?
        var geometries: [GeoObject]?
        var coordinates: Coordinates?

        final class Box: Decodable {
            let object: GeoObject?
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                object = c.decodeNil() ? nil : try c.decode(GeoObject.self)
            }
        }

        func collect(into rings: inout [[Point]]) {
            for feature in features ?? [] { feature.collect(into: &rings) }
            geometry?.object?.collect(into: &rings)
            for part in geometries ?? [] { part.collect(into: &rings) }
            guard let coordinates else { return }
            switch type {
            case "LineString", "MultiLineString", "Polygon", "MultiPolygon": coordinates.rings(into: &rings)
            default: break
            }
        }
    }

    /// Nested GeoJSON coordinates: a position or a list of them, to any depth.
    private indirect enum Coordinates: Decodable {
        case position(Point)
        case list([Coordinates])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let numbers = try? c.decode([Double].self) {
                guard numbers.count >= 2, numbers[0].isFinite, numbers[1].isFinite,
                    (-180...180).contains(numbers[0]), (-90...90).contains(numbers[1])
                else {
                    // An empty list is a list; a position must be a point on Earth.
                    if numbers.isEmpty { self = .list([]); return }
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a [longitude, latitude] position")
                }
                self = .position(Point(longitude: numbers[0], latitude: numbers[1]))
            } else {
                self = .list(try c.decode([Coordinates].self))
            }
        }

        /// The innermost lists of positions.
        func rings(into rings: inout [[Point]]) {
            guard case .list(let items) = self else { return }
            let points = items.compactMap { item -> Point? in
                if case .position(let p) = item { return p }
                return nil
            }
            if !points.isEmpty && points.count == items.count {
                rings.append(points)
            } else {
                for item in items { item.rings(into: &rings) }
            }
        }
    }
}
