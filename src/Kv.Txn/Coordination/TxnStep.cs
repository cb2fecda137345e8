namespace Kv.Txn.Coordination;

/// <summary>
/// The boundaries between a coordinator's steps, where tests crash it (<see cref="ITxnFailPoints"/>). When fail
/// points are installed the coordinator sends its stages one by one and the manifest after them, so that every
/// boundary exists; otherwise they all go at once.
/// </summary>
public enum TxnStep
{
    /// <summary>Nothing sent yet.</summary>
    BeforeStage,

    /// <summary>The first range's stage is chosen, the others not sent.</summary>
    BetweenStages,

    /// <summary>Every stage is chosen; the manifest (Paxos commit) or the decision (2PC) is not written.</summary>
    AfterStagesBeforeDecision,

    /// <summary>The transaction is decided and the client answered; nothing published.</summary>
    AfterDecisionBeforePublish,

    /// <summary>The first range is published, the others not.</summary>
    DuringPublish,
}

/// <summary>A hook that tests use to stop a coordinator at a step boundary (for example by killing the process).</summary>
public interface ITxnFailPoints
{
    /// <summary>Called at <paramref name="step"/>; may never return.</summary>
    ValueTask ReachedAsync(TxnStep step, CancellationToken cancellationToken);
}
