namespace Kv.Server.Replication;

/// <summary>This node has no replica of the range (yet, or any more); another node serves it.</summary>
public sealed class RangeNotHostedException(ulong rangeId, ulong nodeId)
    : Exception($"Range {rangeId} is not hosted on node {nodeId}.")
{
    /// <summary>The range asked.</summary>
    public ulong RangeId { get; } = rangeId;
}
