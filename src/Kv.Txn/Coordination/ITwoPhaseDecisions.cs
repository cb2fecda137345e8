using Google.Protobuf;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>A two-phase-commit decision as the coordinating node reports it.</summary>
public enum TwoPhaseDecision
{
    /// <summary>Still being decided, or the coordinator cannot be reached: the participant must wait.</summary>
    Pending,

    /// <summary>Committed.</summary>
    Committed,

    /// <summary>Aborted (or never decided by a coordinator that is no longer running it: presumed abort).</summary>
    Aborted,
}

/// <summary>
/// The coordinating node's own decision log for two-phase commit: on its local disk only, not replicated — which
/// is exactly why participants block when that node is down.
/// </summary>
public interface ITwoPhaseDecisionLog
{
    /// <summary>Durably (synced) records the decision before it is acted on.</summary>
    Task RecordAsync(ByteString txnId, bool commit, StorageTimestamp commitTs, CancellationToken cancellationToken);

    /// <summary>The recorded decision, if any.</summary>
    (bool Commit, StorageTimestamp CommitTs)? Find(ByteString txnId);
}

/// <summary>Asks a coordinating node for a decision (over the network; Pending when it cannot be reached).</summary>
public interface ITwoPhaseDecisionSource
{
    /// <summary>The decision of <paramref name="txnId"/> at <paramref name="coordinatorNodeId"/>.</summary>
    Task<(TwoPhaseDecision Decision, StorageTimestamp CommitTs)> QueryAsync(ulong coordinatorNodeId, ByteString txnId, CancellationToken cancellationToken);
}
