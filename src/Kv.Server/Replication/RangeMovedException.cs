namespace Kv.Server.Replication;

/// <summary>The range no longer owns the key or span asked for (a split moved it); route again and retry.</summary>
public sealed class RangeMovedException(ulong rangeId, string detail)
    : Exception($"Range {rangeId} no longer holds {detail}.")
{
    /// <summary>The range asked.</summary>
    public ulong RangeId { get; } = rangeId;
}
