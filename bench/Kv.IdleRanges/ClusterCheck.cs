using System.Globalization;
using Kv.Proto.V1;

namespace Kv.IdleRanges;

/// <summary>The pure part of <see cref="VerifyCommand"/>: judges one reading of ListRanges and every NodeStatus.</summary>
internal static class ClusterCheck
{
    /// <summary>Null <c>Problem</c> when everything holds; then <c>Findings</c> are <c>key=value</c> lines.</summary>
    public static (string? Problem, IReadOnlyList<string> Findings) Run(
        IReadOnlyList<RangeDescriptor> ranges, IReadOnlyDictionary<int, NodeStatusResponse> statuses, int expectedRanges, ulong metaRangeId)
    {
        if (ranges.Count != expectedRanges) return ($"ListRanges has {ranges.Count} user ranges, expected {expectedRanges}", []);
        if (!ranges[0].StartKey.IsEmpty || !ranges[^1].EndKey.IsEmpty) return ("the ranges do not cover the whole key space", []);
        for (int i = 1; i < ranges.Count; i++)
            if (ranges[i - 1].EndKey != ranges[i].StartKey) return ($"gap or overlap between ranges {ranges[i - 1].RangeId} and {ranges[i].RangeId}", []);

        var byNode = statuses.ToDictionary(s => s.Key, s => s.Value.Replicas.ToDictionary(r => r.Range.RangeId));
        var leaders = statuses.Keys.ToDictionary(n => n, _ => 0);
        int metaLeader = 0;
        foreach (ulong id in ranges.Select(r => r.RangeId).Append(metaRangeId))
        {
            int leader = 0;
            foreach (var (node, replicas) in byNode)
            {
                if (!replicas.TryGetValue(id, out var replica)) return ($"node {node} hosts no replica of range {id}", []);
                if (!replica.IsLeader) continue;
                if (leader != 0) return ($"range {id} has two leaders: nodes {leader} and {node}", []);
                leader = node;
            }
            if (leader == 0) return ($"range {id} has no leader", []);
            foreach (var (node, replicas) in byNode)
                if (node != leader && replicas[id].LeaderNodeId != (ulong)leader)
                    return ($"node {node} thinks range {id} is led by {replicas[id].LeaderNodeId}, not {leader}", []);
            if (id == metaRangeId) metaLeader = leader;
            else leaders[leader]++;
        }
        var findings = new List<string> { $"user_ranges={ranges.Count}", $"meta_leader={metaLeader}" };
        foreach (var (node, count) in leaders.OrderBy(l => l.Key))
        {
            findings.Add(string.Create(CultureInfo.InvariantCulture, $"leaders_node{node}={count}"));
            findings.Add(string.Create(CultureInfo.InvariantCulture, $"replicas_node{node}={byNode[node].Count}"));
        }
        return (null, findings);
    }
}
