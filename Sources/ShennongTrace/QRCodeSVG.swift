import CQRencode
import Foundation
import ShennongCore

/// QR codes (libqrencode) drawn as SVG, and A4 label sheets.
public enum QRCodeSVG {
    /// Modules of a QR code of `text` (error correction M): `modules[y][x]` is dark.
    public static func modules(_ text: String) throws -> [[Bool]] {
        guard let qr = text.withCString({ QRcode_encodeString($0, 0, QR_ECLEVEL_M, QR_MODE_8, 1) }) else {
            throw TraceError(.io, "libqrencode could not encode \(text.prefix(40)) (errno \(errno))")
        }
        defer { QRcode_free(qr) }
        let width = Int(qr.pointee.width)
        var rows: [[Bool]] = []
        rows.reserveCapacity(width)
        for y in 0..<width {
            rows.append((0..<width).map { x in qr.pointee.data[y * width + x] & 1 == 1 })
        }
        return rows
    }

    /// A path (`d`) of the dark modules, offset by `quiet` modules, one unit a module.
    static func path(_ modules: [[Bool]], quiet: Int) -> String {
        var d = ""
        for (y, row) in modules.enumerated() {
            var x = 0
            while x < row.count {
                guard row[x] else {
                    x += 1
                    continue
                }
                var run = 1
                while x + run < row.count && row[x + run] { run += 1 }
                d += "M\(x + quiet) \(y + quiet)h\(run)v1h-\(run)z"
                x += run
            }
        }
        return d
    }

    /// A standalone SVG of the QR code of `text`, with a four-module quiet zone.
    public static func svg(_ text: String, moduleSize: Int = 4) throws -> String {
        let m = try modules(text)
        let size = m.count + 8
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(size * moduleSize)" height="\(size * moduleSize)" viewBox="0 0 \(size) \(size)" shape-rendering="crispEdges"><rect width="\(size)" height="\(size)" fill="#fff"/><path fill="#000" d="\(path(m, quiet: 4))"/></svg>

            """
    }

    /// One label: the QR code of `url`, the code grouped for reading aloud, and a caption.
    public struct Label: Sendable {
        public var url: String
        public var code: String
        public var caption: String

        public init(url: String, code: String, caption: String) {
            self.url = url
            self.code = code
            self.caption = caption
        }
    }

    /// A4 sheets (210 × 297 mm) of 4 × 8 labels (50 × 35 mm); one SVG string per page.
    public static func labelSheets(_ labels: [Label]) throws -> [String] {
        let columns = 4, rows = 8, width = 50.0, height = 35.0, left = 5.0, top = 8.5
        var pages: [String] = []
        var index = 0
        while index < labels.count {
            var body = ""
            for slot in 0..<(columns * rows) where index < labels.count {
                let label = labels[index]
                index += 1
                let x = left + Double(slot % columns) * width
                let y = top + Double(slot / columns) * height
                let m = try modules(label.url)
                let side = 26.0
                let scale = side / Double(m.count + 2)
                body += """
                    <g transform="translate(\(fmt(x)) \(fmt(y)))"><rect x="0.5" y="0.5" width="\(fmt(width - 1))" height="\(fmt(height - 1))" rx="2" fill="none" stroke="#bbb" stroke-width="0.2"/>\
                    <g transform="translate(1.5 1.5) scale(\(fmt(scale)))"><path d="\(path(m, quiet: 1))"/></g>\
                    <text x="\(fmt(width / 2))" y="31" font-size="3" text-anchor="middle" font-family="monospace">\(XMLText.escape(label.code))</text>\
                    <text x="30" y="8" font-size="3" font-family="sans-serif">\(XMLText.escape(String(label.caption.prefix(8))))</text>\
                    <text x="30" y="13" font-size="2.4" font-family="sans-serif">扫码查询</text>\
                    <text x="30" y="17" font-size="2.4" font-family="sans-serif">一物一码</text></g>

                    """
            }
            pages.append(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297" shape-rendering="crispEdges">
                <rect width="210" height="297" fill="#fff"/>
                \(body)</svg>

                """)
        }
        return pages
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
