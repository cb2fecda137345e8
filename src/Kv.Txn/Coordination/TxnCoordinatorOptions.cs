using Kv.Proto.V1;

namespace Kv.Txn.Coordination;

/// <summary>How a node coordinates and recovers transactions.</summary>
public sealed class TxnCoordinatorOptions
{
    /// <summary>The protocol of a commit that asks for the default.</summary>
    public CommitProtocol DefaultProtocol { get; init; } = CommitProtocol.Paxos;

    /// <summary>
    /// How long a lock may be held before whoever meets it finishes its transaction. A commit holds its locks for
    /// one consensus round plus the publish, milliseconds normally, so a lock this old means its coordinator is
    /// gone or stuck; finishing it early is safe (recovery never contradicts a coordinator), only wasteful.
    /// </summary>
    public TimeSpan RecoverAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where commits are counted and timed; null records nothing.</summary>
    public TxnMetrics? Metrics { get; init; }

    /// <summary>Test hook: stops the coordinator at step boundaries (and makes it send one step at a time).</summary>
    public ITxnFailPoints? FailPoints { get; init; }
}
