import Foundation
import ShennongCore
import ShennongRules

/// A server-rendered line chart of one series as inline SVG: no script, no external asset,
/// every text node escaped (the caller inserts the result unescaped).
struct SVGChart {
    struct Point: Sendable, Hashable {
        var t: Int64
        var v: Double
    }

    var points: [Point]
    /// Time range shown (ms), `from` < `to`.
    var from: Int64
    var to: Int64
    var unit: String
    var precision: Int
    var offsetMinutes: Int = 480
    /// The words of the page (axis labels, "no data").
    var strings: StaffStrings = .zh
    var width = 1120
    var height = 340

    /// The `<svg>` element. With fewer than one point it says "no data" in the plot area.
    func render() -> String {
        let left = 112.0, right = 16.0, top = 14.0, bottom = 34.0
        let w = Double(width), h = Double(height)
        let plotW = w - left - right, plotH = h - top - bottom
        // The labels give the data's min and max; the plot keeps 6 % of room above and below
        // (a flat series gets a band around its value).
        let dataLo = points.map(\.v).min() ?? 0
        let dataHi = points.map(\.v).max() ?? 1
        let pad = dataHi - dataLo < 1e-9 ? max(abs(dataHi) * 0.05, 0.5) : (dataHi - dataLo) * 0.06
        let lo = dataLo - pad, hi = dataHi + pad
        let span = Double(max(1, to - from))
        func x(_ t: Int64) -> Double { left + Double(t - from) / span * plotW }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotH }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" role="img" aria-label="\(XMLText.escape(label))">
            <rect x="\(f(left))" y="\(f(top))" width="\(f(plotW))" height="\(f(plotH))" fill="#fbfcfa" stroke="#c9d3c7"/>

            """
        // Axes labels: min and max of the values, start and end of the time range.
        let maxLabel = XMLText.escape(Self.number(dataHi, precision) + (unit.isEmpty ? "" : " " + unit))
        let minLabel = XMLText.escape(Self.number(dataLo, precision) + (unit.isEmpty ? "" : " " + unit))
        let yMax = y(dataHi), yMin = y(dataLo)
        svg += """
            <line x1="\(f(left))" y1="\(f(yMax))" x2="\(f(left + plotW))" y2="\(f(yMax))" stroke="#d5ddd3" stroke-dasharray="4 3"/>
            <line x1="\(f(left))" y1="\(f(yMin))" x2="\(f(left + plotW))" y2="\(f(yMin))" stroke="#d5ddd3" stroke-dasharray="4 3"/>
            <text x="\(f(left - 8))" y="\(f(yMax + 4))" text-anchor="end" class="axis">\(XMLText.escape(strings.maximum)) \(maxLabel)</text>
            <text x="\(f(left - 8))" y="\(f(yMin + 4))" text-anchor="end" class="axis">\(XMLText.escape(strings.minimum)) \(minLabel)</text>
            <text x="\(f(left))" y="\(f(h - 10))" class="axis">\(XMLText.escape(Self.time(from, offsetMinutes)))</text>
            <text x="\(f(left + plotW / 2))" y="\(f(h - 10))" text-anchor="middle" class="axis">\(XMLText.escape(Self.time((from + to) / 2, offsetMinutes)))</text>
            <text x="\(f(left + plotW))" y="\(f(h - 10))" text-anchor="end" class="axis">\(XMLText.escape(Self.time(to, offsetMinutes)))</text>

            """
        if points.isEmpty {
            svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" class=\"empty\">\(XMLText.escape(strings.noData))</text>\n"
        } else {
            for run in runs() {
                if run.count == 1 {
                    svg += "<circle cx=\"\(f(x(run[0].t)))\" cy=\"\(f(y(run[0].v)))\" r=\"2.5\" fill=\"#2f7d32\"/>\n"
                } else {
                    let list = run.map { "\(f(x($0.t))),\(f(y($0.v)))" }.joined(separator: " ")
                    svg += "<polyline fill=\"none\" stroke=\"#2f7d32\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"\(list)\"/>\n"
                }
            }
            if let last = points.last {
                svg += "<circle cx=\"\(f(x(last.t)))\" cy=\"\(f(y(last.v)))\" r=\"3.5\" fill=\"#c62828\"/>\n"
            }
        }
        svg += "</svg>"
        return svg
    }

    var label: String { strings.points(points.count) }

    /// The points split where a gap is much longer than the usual step (a device that was
    /// silent is drawn with a break, not a straight line across the gap).
    func runs() -> [[Point]] {
        guard points.count > 2 else { return points.isEmpty ? [] : [points] }
        let steps = zip(points, points.dropFirst()).map { $1.t - $0.t }.sorted()
        let median = max(steps[steps.count / 2], 1)
        var result: [[Point]] = [[points[0]]]
        for (a, b) in zip(points, points.dropFirst()) {
            if b.t - a.t > median * 6 { result.append([]) }
            result[result.count - 1].append(b)
        }
        return result
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func number(_ v: Double, _ precision: Int) -> String {
        String(format: "%.\(max(0, min(precision, 4)))f", v)
    }

    /// `11-21 14:40` in local time.
    static func time(_ ms: Int64, _ offsetMinutes: Int) -> String {
        let text = LocalTime.format(ms, offsetMinutes: offsetMinutes)  // 2025-11-21T14:40:00+08:00
        return String(text.dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ")
    }
}
