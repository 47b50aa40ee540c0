import ShennongAlerts
import ShennongCore
import Testing

/// The alert lifecycle without storage: every transition an evaluation or a person can make,
/// and every refusal.
struct AlertLifecycleTests {
    static let t0: Int64 = 1_763_654_400_000
    static let minute: Int64 = 60_000
    /// The wall clock of the decisions: well after the readings.
    static let now: Int64 = t0 + 500 * minute

    static func change(
        _ from: AlertLevel?, _ to: AlertLevel?, at m: Int64 = 10, value: Double? = 3.6, late: Bool = false
    ) -> AlertLevelChange {
        AlertLevelChange(
            rule: "stage", device: "gauge-1", domain: "flood", metric: "water_level", from: from, to: to, value: value,
            threshold: to.map { Double($0.rawValue) }, at: t0 + m * minute, late: late,
            title: "title \(to?.name ?? "none")", message: "message \(to?.name ?? "none")")
    }

    static func alert(
        _ level: AlertLevel, peak: AlertLevel? = nil, status: AlertStatus = .open, tier: Int = 0, notifiedAt: Int64 = AlertLifecycleTests.t0
    ) -> AlertRecord {
        AlertRecord(
            id: 42, rule: "stage", device: "gauge-1", domain: "flood", metric: "water_level", level: level,
            peakLevel: peak ?? level, status: status, value: 3.2, threshold: 3, raisedAt: t0, updatedAt: t0 + minute,
            late: false, title: "old title", message: "old message",
            acknowledgedBy: status == .acknowledged ? "王五" : nil, acknowledgedAt: status == .acknowledged ? t0 + 2 * minute : nil,
            resolvedBy: status == .resolved || status == .closed ? "李四" : nil,
            resolvedAt: status == .resolved || status == .closed ? t0 + 3 * minute : nil,
            closedBy: status == .closed ? "李四" : nil, closedAt: status == .closed ? t0 + 4 * minute : nil, contactTier: tier,
            notifiedAt: notifiedAt)
    }

    // MARK: An evaluation's level change

    @Test("a level with nothing live raises a new open alert at the reading's time; contacts from the first tier, now")
    func raise() throws {
        let d = try #require(AlertLifecycle.apply(Self.change(nil, .yellow, late: true), to: nil, now: Self.now))
        #expect(d.isNew)
        #expect(d.alert.id == 0)
        #expect(d.alert.level == .yellow && d.alert.peakLevel == .yellow)
        #expect(d.alert.status == .open)
        #expect(d.alert.raisedAt == Self.t0 + 10 * Self.minute && d.alert.updatedAt == Self.t0 + 10 * Self.minute)
        #expect(d.alert.contactTier == 0 && d.alert.notifiedAt == Self.now)
        #expect(d.alert.value == 3.6 && d.alert.threshold == 2)
        #expect(d.alert.title == "title yellow" && d.alert.message == "message yellow")
        #expect(d.alert.late, "raised from late readings: marked late")
        #expect(d.alert.rule == "stage" && d.alert.device == "gauge-1" && d.alert.domain == "flood" && d.alert.metric == "water_level")
        let t = d.transition
        #expect(t.kind == .raised)
        #expect(t.fromLevel == nil && t.toLevel == .level(.yellow))
        #expect(t.status == .open && t.by == "system" && t.note == nil && t.late)
        #expect(t.at == Self.t0 + 10 * Self.minute && t.recordedAt == Self.now && t.value == 3.6)
    }

    @Test("a rise with nothing live (a person resolved the alert) raises a new alert")
    func riseAfterPersonResolved() throws {
        let d = try #require(AlertLifecycle.apply(Self.change(.yellow, .orange), to: nil, now: Self.now))
        #expect(d.isNew && d.alert.level == .orange && d.transition.kind == .raised)
        #expect(d.transition.fromLevel == nil)
    }

    @Test("a fall or a clear with nothing live changes nothing")
    func fallWithNothingLive() {
        #expect(AlertLifecycle.apply(Self.change(.orange, .yellow), to: nil, now: Self.now) == nil)
        #expect(AlertLifecycle.apply(Self.change(.yellow, nil), to: nil, now: Self.now) == nil)
        #expect(AlertLifecycle.apply(Self.change(.yellow, .yellow), to: nil, now: Self.now) == nil)
    }

    @Test("a rise escalates the live alert: level, peak, value and text follow; contacts start over from the first tier")
    func escalate() throws {
        let live = Self.alert(.yellow, tier: 1, notifiedAt: Self.t0 + Self.minute)
        let d = try #require(AlertLifecycle.apply(Self.change(.yellow, .orange), to: live, now: Self.now))
        #expect(!d.isNew)
        #expect(d.alert.id == 42)
        #expect(d.alert.level == .orange && d.alert.peakLevel == .orange)
        #expect(d.alert.status == .open)
        #expect(d.alert.value == 3.6 && d.alert.threshold == 3)
        #expect(d.alert.updatedAt == Self.t0 + 10 * Self.minute && d.alert.raisedAt == Self.t0)
        #expect(d.alert.title == "title orange" && d.alert.message == "message orange")
        #expect(d.alert.contactTier == 0 && d.alert.notifiedAt == Self.now)
        #expect(d.transition.kind == .escalated && d.transition.alertID == 42)
        #expect(d.transition.fromLevel == .level(.yellow) && d.transition.toLevel == .level(.orange))
        #expect(d.transition.by == "system" && d.transition.note == nil && d.transition.status == .open)
    }

    @Test("a rise re-opens an acknowledged alert: the higher level needs acknowledging again")
    func escalateReopens() throws {
        let live = Self.alert(.yellow, status: .acknowledged)
        let d = try #require(AlertLifecycle.apply(Self.change(.yellow, .red), to: live, now: Self.now))
        #expect(d.alert.status == .open)
        #expect(d.transition.status == .open)
        #expect(d.alert.acknowledgedBy == "王五", "who acknowledged the lower level stays on record")
    }

    @Test("a fall steps the live alert down: the peak, the status and the contact tier stay")
    func stepDown() throws {
        let notified = Self.t0 + 3 * Self.minute
        let live = Self.alert(.red, status: .acknowledged, tier: 1, notifiedAt: notified)
        let d = try #require(AlertLifecycle.apply(Self.change(.red, .yellow), to: live, now: Self.now))
        #expect(!d.isNew)
        #expect(d.alert.level == .yellow && d.alert.peakLevel == .red)
        #expect(d.alert.status == .acknowledged)
        #expect(d.alert.contactTier == 1 && d.alert.notifiedAt == notified)
        #expect(d.alert.title == "title yellow" && d.alert.value == 3.6)
        #expect(d.transition.kind == .steppedDown)
        #expect(d.transition.fromLevel == .level(.red) && d.transition.toLevel == .level(.yellow))
        #expect(d.transition.status == .acknowledged)
    }

    @Test("a change to the live alert's own level changes nothing")
    func sameLevel() {
        #expect(AlertLifecycle.apply(Self.change(nil, .yellow), to: Self.alert(.yellow), now: Self.now) == nil)
    }

    @Test("a rise from none while an alert is live moves that alert (one live alert per rule and device)")
    func raiseWhileLive() throws {
        let d = try #require(AlertLifecycle.apply(Self.change(nil, .orange), to: Self.alert(.yellow), now: Self.now))
        #expect(!d.isNew && d.alert.id == 42 && d.transition.kind == .escalated)
    }

    @Test("a clear resolves the live alert by the system, at the reading's time, with the 自动解除 note; the level stays")
    func resolveByClearing() throws {
        let live = Self.alert(.orange, status: .acknowledged)
        let d = try #require(AlertLifecycle.apply(Self.change(.orange, nil, at: 90, value: 2.1, late: true), to: live, now: Self.now))
        #expect(!d.isNew)
        #expect(d.alert.status == .resolved)
        #expect(d.alert.resolvedBy == "system" && d.alert.resolvedAt == Self.t0 + 90 * Self.minute)
        #expect(d.alert.updatedAt == Self.t0 + 90 * Self.minute)
        #expect(d.alert.level == .orange)
        #expect(d.alert.title == "old title", "the text of the level in force stays")
        let t = d.transition
        #expect(t.kind == .resolved && t.status == .resolved)
        #expect(t.fromLevel == .level(.orange) && t.toLevel == TransitionLevel.none)
        #expect(t.note == AlertLifecycle.clearedNote && t.note?.contains("自动解除") == true)
        #expect(t.by == "system" && t.value == 2.1 && t.late)
        #expect(t.at == Self.t0 + 90 * Self.minute && t.recordedAt == Self.now)
    }

    // MARK: A person's action

    @Test("acknowledge: an open alert, by the person, now, with the note")
    func acknowledge() throws {
        let d = try AlertLifecycle.act(.acknowledge, on: Self.alert(.orange), id: 42, by: "王五", note: "已通知村干部", now: Self.now)
        #expect(!d.isNew)
        #expect(d.alert.status == .acknowledged)
        #expect(d.alert.acknowledgedBy == "王五" && d.alert.acknowledgedAt == Self.now)
        #expect(d.alert.level == .orange && d.alert.contactTier == 0)
        let t = d.transition
        #expect(t.kind == .acknowledged && t.status == .acknowledged)
        #expect(t.fromLevel == .level(.orange) && t.toLevel == .level(.orange))
        #expect(t.by == "王五" && t.note == "已通知村干部" && t.value == nil && !t.late)
        #expect(t.at == Self.now && t.recordedAt == Self.now)
    }

    @Test("resolve: an open or an acknowledged alert, by the person, now")
    func resolve() throws {
        for status in [AlertStatus.open, .acknowledged] {
            let d = try AlertLifecycle.act(.resolve, on: Self.alert(.red, status: status), id: 42, by: "李四", note: nil, now: Self.now)
            #expect(d.alert.status == .resolved)
            #expect(d.alert.resolvedBy == "李四" && d.alert.resolvedAt == Self.now)
            #expect(d.transition.kind == .resolved && d.transition.status == .resolved && d.transition.by == "李四")
            #expect(d.transition.toLevel == .level(.red), "a person's resolve keeps the level")
        }
    }

    @Test("close: a resolved alert with a note, by the person, now")
    func close() throws {
        let d = try AlertLifecycle.act(
            .close, on: Self.alert(.yellow, status: .resolved), id: 42, by: "李四", note: "已排查，转移群众 12 人", now: Self.now)
        #expect(d.alert.status == .closed)
        #expect(d.alert.closedBy == "李四" && d.alert.closedAt == Self.now)
        #expect(d.alert.resolvedBy == "李四", "who resolved it stays")
        #expect(d.transition.kind == .closed && d.transition.status == .closed && d.transition.note == "已排查，转移群众 12 人")
    }

    @Test("a blank note is no note")
    func blankNote() throws {
        let d = try AlertLifecycle.act(.acknowledge, on: Self.alert(.orange), id: 42, by: "王五", note: " \n\t", now: Self.now)
        #expect(d.transition.note == nil)
    }

    /// The refusal `body` throws, or `nil`.
    static func refusal(_ body: () throws(AlertRefusal) -> AlertDecision) -> AlertRefusal? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    @Test("acknowledge refuses anything but an open alert", arguments: [AlertStatus.acknowledged, .resolved, .closed])
    func acknowledgeRefused(status: AlertStatus) {
        let refusal = Self.refusal { () throws(AlertRefusal) in
            try AlertLifecycle.act(.acknowledge, on: Self.alert(.orange, status: status), id: 42, by: "王五", note: nil, now: Self.now)
        }
        #expect(refusal?.code == .conflict)
        #expect(refusal?.message == "alert 42 is \(status.rawValue); only an alert that is open can be acknowledged")
    }

    @Test("resolve refuses a resolved or closed alert", arguments: [AlertStatus.resolved, .closed])
    func resolveRefused(status: AlertStatus) {
        let refusal = Self.refusal { () throws(AlertRefusal) in
            try AlertLifecycle.act(.resolve, on: Self.alert(.orange, status: status), id: 42, by: "王五", note: nil, now: Self.now)
        }
        #expect(refusal?.code == .conflict)
        #expect(refusal?.message == "alert 42 is \(status.rawValue); only an alert that is acknowledged or open can be resolved")
    }

    @Test("close refuses an alert that is not resolved, even with a note", arguments: [AlertStatus.open, .acknowledged, .closed])
    func closeRefused(status: AlertStatus) {
        let refusal = Self.refusal { () throws(AlertRefusal) in
            try AlertLifecycle.act(.close, on: Self.alert(.orange, status: status), id: 42, by: "李四", note: "done", now: Self.now)
        }
        #expect(refusal?.code == .conflict)
        #expect(refusal?.message == "alert 42 is \(status.rawValue); only an alert that is resolved can be closed")
    }

    @Test("close refuses a missing or blank note, before looking at the alert", arguments: [nil, "", "  \n"] as [String?])
    func closeNeedsNote(note: String?) {
        for alert in [Self.alert(.orange, status: .resolved), nil] {
            let refusal = Self.refusal { () throws(AlertRefusal) in
                try AlertLifecycle.act(.close, on: alert, id: 42, by: "李四", note: note, now: Self.now)
            }
            #expect(refusal?.code == .noteRequired)
        }
    }

    @Test("every action refuses an alert that does not exist", arguments: PersonAction.allCases)
    func notFound(action: PersonAction) {
        let refusal = Self.refusal { () throws(AlertRefusal) in
            try AlertLifecycle.act(action, on: nil, id: 7, by: "王五", note: "note", now: Self.now)
        }
        #expect(refusal?.code == .notFound)
        #expect(refusal?.message == "no alert 7")
    }

    @Test("the store's error for each refusal keeps the codes the API maps (404, 409, 400)")
    func storeErrors() {
        #expect(StoreError(AlertRefusal(.notFound, "x")).code == .notFound)
        #expect(StoreError(AlertRefusal(.conflict, "x")).code == .conflict)
        #expect(StoreError(AlertRefusal(.noteRequired, "x")).code == .invalidArgument)
        #expect(StoreError(AlertRefusal(.conflict, "the message")).message == "the message")
    }

    // MARK: Contact escalation

    @Test("an open alert goes up one tier of contacts: the tier, the time it was told, a transition by the system")
    func escalateContacts() throws {
        let d = try #require(AlertLifecycle.escalateContacts(Self.alert(.red), to: 1, note: "escalated to town", now: Self.now))
        #expect(!d.isNew)
        #expect(d.alert.contactTier == 1 && d.alert.notifiedAt == Self.now)
        #expect(d.alert.status == .open && d.alert.level == .red)
        let t = d.transition
        #expect(t.kind == .contactsEscalated && t.status == .open)
        #expect(t.fromLevel == .level(.red) && t.toLevel == .level(.red))
        #expect(t.by == "system" && t.note == "escalated to town" && t.at == Self.now && !t.late)
    }

    @Test("no escalation of an alert someone acknowledged, resolved or closed", arguments: [AlertStatus.acknowledged, .resolved, .closed])
    func noEscalationUnlessOpen(status: AlertStatus) {
        #expect(AlertLifecycle.escalateContacts(Self.alert(.red, status: status), to: 1, note: "n", now: Self.now) == nil)
    }

    @Test("no escalation but from the tier just below (twice, or skipping a tier)")
    func escalationOneTierAtATime() {
        #expect(AlertLifecycle.escalateContacts(Self.alert(.red, tier: 1), to: 1, note: "n", now: Self.now) == nil)
        #expect(AlertLifecycle.escalateContacts(Self.alert(.red, tier: 0), to: 2, note: "n", now: Self.now) == nil)
        #expect(AlertLifecycle.escalateContacts(Self.alert(.red, tier: 1), to: 2, note: "n", now: Self.now)?.alert.contactTier == 2)
    }

    // MARK: Levels

    @Test("levels order blue < yellow < orange < red; a transition level is a level or none")
    func levels() {
        #expect(AlertLevel.blue < .yellow && AlertLevel.yellow < .orange && AlertLevel.orange < .red)
        #expect(TransitionLevel(nil) == TransitionLevel.none && TransitionLevel(.red) == .level(.red))
        #expect(TransitionLevel.level(.orange).alertLevel == .orange && TransitionLevel.none.alertLevel == nil)
        #expect(AlertLevel(stored: 0) == nil && AlertLevel(stored: 3) == .orange && AlertLevel(stored: 5) == nil)
        #expect(AlertLevel(stored: TransitionLevel.none) == nil && AlertLevel(stored: .level(.blue)) == .blue)
    }
}
