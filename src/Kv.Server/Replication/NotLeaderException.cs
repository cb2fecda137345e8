namespace Kv.Server.Replication;

/// <summary>This node cannot serve the request for the range: another replica leads (or nobody does yet).</summary>
public sealed class NotLeaderException(ulong rangeId, int? leaderHint)
    : Exception(leaderHint is { } l ? $"Range {rangeId} is led by node {l}." : $"Range {rangeId} has no known leader; retry shortly.")
{
    /// <summary>The range.</summary>
    public ulong RangeId { get; } = rangeId;

    /// <summary>The node believed to lead, if known.</summary>
    public int? LeaderHint { get; } = leaderHint;
}
