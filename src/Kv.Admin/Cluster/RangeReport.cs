using System.Text.Json.Serialization;
using Kv.Admin.Data;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Cluster;

/// <summary>A replica of a range in <c>ranges</c>: its node, whether it only learns, and whether that node answered (null: not asked).</summary>
public sealed record ReplicaReport(ulong NodeId, bool Learner, bool? Up);

/// <summary>
/// One range as <c>ranges</c> reports it (also its JSON shape): the meta range's directory entry joined with what
/// the replicas say. Size, log and applied come from the leader's replica (from any replica that answered when no
/// leader is known); null when no replica answered.
/// </summary>
/// <param name="RangeId">The range id (1 is the meta range).</param>
/// <param name="Meta">Whether this is the meta range, which holds the directory and no user keys.</param>
/// <param name="StartKey">First key, in --encoding ("" from the first key).</param>
/// <param name="EndKey">End key (exclusive) in --encoding; null: to the end of the key space.</param>
/// <param name="Generation">Bumped by every split.</param>
/// <param name="Replicas">Its replicas.</param>
/// <param name="LeaderNodeId">The node leading it, or null when none is known.</param>
/// <param name="ApproximateBytes">Its data's approximate size.</param>
/// <param name="LogEntries">Entries in the leader's Paxos log (since the last compaction).</param>
/// <param name="AppliedUpTo">The slot applied up to.</param>
/// <param name="Quiescent">Whether the group is idle and quiet.</param>
/// <param name="Span">The span's bytes, for tables (not in JSON).</param>
public sealed record RangeReport(
    ulong RangeId, bool Meta, string StartKey, string? EndKey, ulong Generation, IReadOnlyList<ReplicaReport> Replicas, ulong? LeaderNodeId,
    long? ApproximateBytes, long? LogEntries, long? AppliedUpTo, bool? Quiescent,
    [property: JsonIgnore] (byte[] Start, byte[] End) Span)
{
    /// <summary>The meta range id.</summary>
    public const ulong MetaRangeId = 1;

    /// <summary>Joins the directory (<paramref name="ranges"/>) with every node's replica status, in range id order, the meta range first.</summary>
    public static IReadOnlyList<RangeReport> Join(IReadOnlyList<Wire.RangeDescriptor> ranges, ClusterSnapshot cluster, ByteEncoding encoding)
    {
        var replicas = cluster.Nodes.Where(n => n.Status is not null)
            .SelectMany(n => n.Status!.Replicas.Select(r => (Node: n.Node.NodeId, Replica: r)))
            .ToLookup(x => x.Replica.Range.RangeId);
        var up = cluster.Nodes.Where(n => n.Status is not null).Select(n => n.Node.NodeId).ToHashSet();
        var descriptors = ranges.ToList();
        // The meta range is not in the directory; its replicas describe it.
        if (descriptors.All(d => d.RangeId != MetaRangeId) && replicas[MetaRangeId].FirstOrDefault() is { Replica: { } meta })
            descriptors.Add(meta.Range);
        return descriptors.OrderBy(d => d.RangeId).Select(d =>
        {
            var mine = replicas[d.RangeId].ToArray();
            var leader = mine.FirstOrDefault(x => x.Replica.IsLeader);
            var source = leader.Replica ?? mine.FirstOrDefault().Replica;
            // The meta range's replicas are listed by its own descriptor (learners included) when the directory lacks them.
            var members = d.Replicas.Count > 0
                ? d.Replicas.Select(r => new ReplicaReport(r.NodeId, r.Learner, cluster.Nodes.Count == 0 ? null : up.Contains(r.NodeId)))
                : mine.Select(x => new ReplicaReport(x.Node, false, true));
            bool isMeta = d.RangeId == MetaRangeId;
            return new RangeReport(d.RangeId, isMeta,
                ByteCodec.Format(d.StartKey.Span, encoding), d.EndKey.IsEmpty ? null : ByteCodec.Format(d.EndKey.Span, encoding),
                d.Generation, members.OrderBy(r => r.NodeId).ToArray(),
                leader.Replica is not null ? leader.Node : null,
                source?.ApproximateBytes, source?.LogEntries, source?.AppliedUpTo, source?.Quiescent,
                (d.StartKey.ToByteArray(), d.EndKey.ToByteArray()));
        }).ToArray();
    }
}
