import ShennongCore
import Foundation
import ShennongAlerts
import ShennongStore
import Testing

@testable import ShennongRules

struct NotifierTests {
    @Test("webhook signature is HMAC-SHA256 (RFC 4231 test case 2) and back-off doubles up to a minute")
    func webhookSignatureAndBackoff() {
        #expect(
            Webhook.signature(body: Array("what do ya want for nothing?".utf8), secret: "Jefe")
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Webhook.delays(for: WebhookTarget(url: "http://x", retries: 8, backoff: 1000))
            == [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
    }

    @Test("local times carry a numeric offset, never Z")
    func localTime() {
        // 2025-11-21T06:40:00Z
        #expect(LocalTime.format(1_763_707_200_000) == "2025-11-21T14:40:00+08:00")
        #expect(LocalTime.format(1_763_707_200_999, offsetMinutes: -330) == "2025-11-21T01:10:00-05:30")
        #expect(LocalTime.compact(1_763_707_200_000) == "20251121144000")
        #expect(LocalTime.offsetMinutes("+08:00") == 480)
        #expect(LocalTime.offsetMinutes("Z") == nil)
    }

    @Test("CAP: Alert for a new alert, Update with references and AllClear once resolved; severity from the level; text escaped")
    func capShape() {
        let alert = AlertRecord(
            id: 7, rule: "rainstorm", device: "rain-1", domain: "weather", metric: "rainfall", level: .red, peakLevel: .red,
            status: .open, value: 102, threshold: 100, raisedAt: 1_763_707_200_000, updatedAt: 1_763_707_200_000, late: false,
            title: "暴雨 <红色> & 预警", message: "m", contactTier: 0, notifiedAt: 0)
        let raised = AlertTransition(
            id: 1, alertID: 7, kind: .raised, fromLevel: nil, toLevel: .level(.red), status: .open, value: 102, at: 0, recordedAt: 0, by: "system",
            note: nil, late: false)
        let options = CAPOptions(sender: "s@x", areaCode: "441800", orgCode: "001")
        let xml = CAPDocument.xml(alert: alert, transitions: [raised], device: nil, rule: nil, options: options, sent: 1_763_707_260_000)
        #expect(xml.contains("<identifier>441800001000_20251121144000_7</identifier>"))
        #expect(xml.contains("<sent>2025-11-21T14:41:00+08:00</sent>"))
        #expect(xml.contains("<msgType>Alert</msgType>"))
        #expect(xml.contains("<severity>Extreme</severity>"))
        #expect(xml.contains("<urgency>Immediate</urgency>") && xml.contains("<certainty>Observed</certainty>"))
        #expect(xml.contains("暴雨 &lt;红色&gt; &amp; 预警"))
        #expect(!xml.contains("<references>"))
        var resolved = alert
        resolved.status = .resolved
        let update = CAPDocument.xml(alert: resolved, transitions: [raised], device: nil, rule: nil, options: options, sent: 1_763_707_260_000)
        #expect(update.contains("<msgType>Update</msgType>"))
        #expect(update.contains("<references>s@x,441800001000_20251121144000_7,2025-11-21T14:40:00+08:00</references>"))
        #expect(update.contains("<responseType>AllClear</responseType>") && update.contains("<urgency>Past</urgency>"))
    }
}
