using Kv.Proto.V1;

namespace Kv.Server.Replication;

/// <summary>A range replica as this node runs it, read outside the loop (may be a moment stale).</summary>
public sealed record ReplicaStatus(
    ulong RangeId, RangeDescriptor Descriptor, bool IsLeader, int? LeaderHint, long ChosenPrefix, long AppliedUpTo, int LogEntries,
    bool Quiescent = false, int TxnLocks = 0, long LogBytes = 0);
