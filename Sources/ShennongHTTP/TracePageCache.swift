import Crypto
import Foundation
import Mustache
import ShennongTrace
import Synchronization

/// The consumer page of a batch rendered once and kept with holes where a code's own values go
/// (the code, its scan count, its first scan), so that a scan costs string joins, not a
/// Mustache render.
///
/// - An entry is keyed by batch and by whether the code is suspect (the page's only section
///   that depends on the code), and holds the dossier it was rendered from: it is used only
///   while the view's dossier is equal to that one, so a new event, recall, seal or environment
///   summary renders the page afresh.
/// - A view with an item's own events (events recorded for one code) is rendered whole every
///   time: its page is that code's alone.
/// - The holes are marked in the render by a private-use character and a per-process random
///   nonce, so that no stored text can forge one; the values put into them are HTML-escaped
///   as Mustache would escape them. The joined page is byte for byte the page a whole render
///   gives (TracePageCacheTests).
final class TracePageCache: Sendable {
    /// The per-code values of a page, in hole order.
    enum Hole: Int, CaseIterable {
        case code, scanCount, firstScan
    }

    private struct Key: Hashable {
        var batch: String
        var suspect: Bool
    }

    private struct Entry: Sendable {
        var dossier: BatchDossier
        /// What else the page shows that is not in the dossier (the seal line).
        var variant: String?
        /// Text, hole, text, hole, …, text: `holes.count == texts.count - 1`.
        var texts: [String]
        var holes: [Hole]
    }

    /// Most batches kept (two entries each at most); beyond it the cache starts over.
    let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])
    private let marker: String

    init(capacity: Int = 2_000) {
        self.capacity = max(1, capacity)
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        marker = "\u{E000}" + nonce + ":"
    }

    /// The page of `view`, from the cache when its batch was rendered with an equal dossier
    /// and `variant`.
    /// - Parameters:
    ///   - variant: what the page shows beyond the view (the seal line); a change renders afresh.
    ///   - model: the page's model of a view.
    func page(
        _ view: TraceView, variant: String? = nil, model: (TraceView) -> PageModel = PageModel.init,
        render: (PageModel) -> String?
    ) -> String? {
        if view.dossier.events.contains(where: { $0.event.item != nil }) {
            return render(model(view))
        }
        let key = Key(batch: view.dossier.batch.id, suspect: view.suspect)
        let values = Self.values(view)
        if let entry = entries.withLock({ $0[key] }), entry.variant == variant, entry.dossier == view.dossier {
            return Self.join(entry, values)
        }
        var holed = model(view)
        holed.code = hole(.code)
        holed.scans = .init(count: hole(.scanCount), first: hole(.firstScan))
        guard let rendered = render(holed), var entry = split(rendered, dossier: view.dossier) else {
            return render(model(view))
        }
        entry.variant = variant
        entries.withLock {
            if $0.count >= capacity * 2 { $0.removeAll(keepingCapacity: true) }
            $0[key] = entry
        }
        return Self.join(entry, values)
    }

    private func hole(_ h: Hole) -> String { marker + String(h.rawValue) + "\u{E001}" }

    /// The rendered page cut at its holes; `nil` if a hole is not where a value can go.
    private func split(_ rendered: String, dossier: BatchDossier) -> Entry? {
        var texts: [String] = []
        var holes: [Hole] = []
        var rest = Substring(rendered)
        while let start = rest.range(of: marker) {
            texts.append(String(rest[..<start.lowerBound]))
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "\u{E001}"), let raw = Int(after[..<end]), let h = Hole(rawValue: raw) else {
                return nil
            }
            holes.append(h)
            rest = after[after.index(after: end)...]
        }
        texts.append(String(rest))
        return Entry(dossier: dossier, variant: nil, texts: texts, holes: holes)
    }

    private static func values(_ view: TraceView) -> [String] {
        let model = PageModel.ScansModel(view.scans)
        return Hole.allCases.map {
            switch $0 {
            case .code: escape(view.code.grouped)
            case .scanCount: escape(model.count)
            case .firstScan: escape(model.first)
            }
        }
    }

    private static func join(_ entry: Entry, _ values: [String]) -> String {
        var page = ""
        page.reserveCapacity(entry.texts.reduce(0) { $0 + $1.utf8.count } + 64)
        for (i, text) in entry.texts.enumerated() {
            page += text
            if i < entry.holes.count { page += values[entry.holes[i].rawValue] }
        }
        return page
    }

    /// HTML escaping as swift-mustache's `{{value}}` does it.
    static func escape(_ s: String) -> String {
        guard s.contains(where: { "&<>\"'".contains($0) }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
