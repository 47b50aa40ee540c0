/// A stage that runs with each burst (the rules), in two steps: ``prepare(_:previousStored:)``
/// on the ingest thread once the burst is decoded (the burst before may still be committing),
/// and the ``IngestObservation`` it returns on the commit thread after the burst's commit and
/// before its acknowledgement.
///
/// It sees every reading of the burst, duplicates from redelivery included, so that a burst
/// committed before a crash but not yet observed is observed after the restart.
public protocol IngestObserver: Sendable {
    /// Works out what the burst changes without writing anything; bursts come in order, each
    /// prepared on top of the ones before (applied or not). `previousStored` returns once the
    /// burst before this one has been committed or has failed: call it before reading stored
    /// readings. Returns what to write after this burst's commit.
    func prepare(_ batch: IngestBatch, previousStored: () -> Void) -> IngestObservation
    /// A commit failed or a prepared burst was dropped: every observation prepared and not yet
    /// applied is void (its burst comes again) and must be forgotten, with what it changed.
    func abandonPending()
}

/// Writes what ``IngestObserver/prepare(_:previousStored:)`` worked out, after the burst's
/// commit (the commit thread); throws to refuse the burst, which is then redelivered.
public typealias IngestObservation = @Sendable () throws -> Void
