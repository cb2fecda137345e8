using Kv.Paxos;
using Kv.Server.Ranges;

namespace Kv.Server.Replication;

/// <summary>A range as the host runs it: its Paxos replica, its state machine, and requests waiting on them.</summary>
internal sealed class HostedRange(ulong rangeId, Replica core, RangeStateMachine stateMachine)
{
    public ulong RangeId { get; } = rangeId;
    public Replica Core { get; } = core;
    /// <summary>Replaced (reloaded from storage) when an apply round is abandoned for corrupt data.</summary>
    public RangeStateMachine StateMachine { get; set; } = stateMachine;
    public Dictionary<(long Client, long Sequence), TaskCompletionSource<Proto.V1.RangeCommandResult>> PendingWrites { get; } = new();
    public Dictionary<long, (Func<RangeStateMachine, object> Read, TaskCompletionSource<object> Completion)> PendingReads { get; } = new();
    public long NextReadId { get; set; }

    /// <summary>Set while the replica is being restored from a snapshot (see <see cref="RangeRestore"/>).</summary>
    public RangeRestore? Restore { get; set; }

    /// <summary>The node that last sent this replica a snapshot: the first place to fetch its data from.</summary>
    public ulong? SnapshotSource { get; set; }

    /// <summary>Traced proposals and Accepts in flight (ReplicaHost.Tracing); null while there are none.</summary>
    public Telemetry.RangeTraces? Traces { get; set; }
}
