using Kv.Paxos;
using Kv.Proto.V1;
using Snapshot = Kv.Paxos.Snapshot;
using Kv.Storage.Mvcc;

namespace Kv.Server.Replication;

/// <summary>
/// A replica being restored from a snapshot: its MVCC data is being fetched from a peer; once it is in, the state
/// machine takes the snapshot's state, replays the log from the snapshot's index up to <see cref="ReplayUntil"/>,
/// then handles the Readies deferred meanwhile. Until then the replica applies nothing and answers no reads.
/// </summary>
internal sealed class RangeRestore(Snapshot snapshot, RangeSnapshotState state, KeySpan span, long replayUntil, string reason)
{
    public Snapshot Snapshot { get; } = snapshot;

    public RangeSnapshotState State { get; } = state;

    /// <summary>The span whose data is fetched.</summary>
    public KeySpan Span { get; } = span;

    /// <summary>Slots in [snapshot index, this) are replayed from this node's own log after the fetch.</summary>
    public long ReplayUntil { get; } = replayUntil;

    public string Reason { get; } = reason;

    public Queue<Ready> Deferred { get; } = new();

    public CancellationTokenSource Cancel { get; } = new();
}
